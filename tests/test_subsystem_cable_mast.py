"""Cable mast against the simulated pad: two-step retract, retract at liftoff, reconnect."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.subsystems import CommandRefused, Mode, Origin, Subsystem
from padctl.subsystems.cable_mast import CABLE_MAST
from tests.pad_rig import PadRig, pad_rig

pytestmark = pytest.mark.slow

SPECS = (CABLE_MAST,)
RATE = 25.0


async def confirmed(subsystem: Subsystem, command: str) -> None:
    ticket = await subsystem.command(command, actor="pad-systems")
    assert await ticket.wait() == "confirmed", subsystem.last_fault


def value(rig: PadRig, tag: str) -> float:
    return float(rig.plant.read(tag).value or 0)


async def vehicle_on_internal_power(rig: PadRig) -> None:
    """Ground power on through the mast, then the vehicle to its batteries (as ground power does)."""
    await rig.plant.write("PWR-CB-842-CMD", True, actor="test")
    assert await rig.wait(lambda: rig.plant.read("VEH-PWR-EXT").value is True, 30)
    await rig.plant.write("VEH-PWR-INT-CMD", True, actor="test")
    assert await rig.wait(lambda: rig.plant.read("VEH-PWR-INT").value is True, 30)


async def test_every_cable_mast_transition(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=RATE, specs=SPECS) as rig:
        mast = rig.subsystems["cable_mast"]
        assert mast.machine_state == "CONNECTED"
        await vehicle_on_internal_power(rig)
        await confirmed(mast, "arm_retract")
        assert mast.machine_state == "RETRACT_ARMED"
        assert rig.plant.read("CBM-M-601-RETRACT-CMD").value is False  # arming moves nothing
        await confirmed(mast, "disarm_retract")
        assert mast.machine_state == "CONNECTED"
        await confirmed(mast, "arm_retract")
        ticket = await mast.command("retract", actor="pad-systems")
        assert mast.machine_state == "RETRACTING"
        assert await ticket.wait() == "confirmed"
        assert mast.machine_state == "RETRACTED"
        assert value(rig, "CBM-ZT-601") >= 98
        assert await rig.wait(lambda: rig.plant.read("CBM-M-601-RETRACT-CMD").value is False, 5)
        assert rig.plant.read("VEH-PWR-INT").value is True  # the vehicle kept its power

        await rig.plant.write("PWR-CB-842-CMD", False, actor="test")  # no live pins to mate
        assert await rig.wait(lambda: rig.plant.read("PWR-CB-842-OPEN").value is True, 10)
        ticket = await mast.command("connect", actor="pad-systems")
        assert mast.machine_state == "CONNECTING"
        assert await ticket.wait() == "confirmed"
        assert mast.machine_state == "CONNECTED"
        assert await rig.wait(lambda: rig.plant.read("CBM-M-601-CONNECT-CMD").value is False, 5)

        rig.model.sensor_override("VEH-LIFTOFF-1", True)
        assert await rig.wait(lambda: rig.plant.read("VEH-LIFTOFF-1").value is True, 5)
        ticket = await mast.command("retract_at_liftoff", actor="countdown")
        assert mast.machine_state == "RETRACTING"
        assert await ticket.wait() == "confirmed"
        assert mast.machine_state == "RETRACTED"

        # Stopped part way, the mast continues from STOPPED either way.
        assert await mast.safe(actor="pad-systems", reason="test")
        assert mast.machine_state == "STOPPED"
        ticket = await mast.command("connect", actor="pad-systems")
        assert await rig.wait(lambda: value(rig, "CBM-ZT-601") < 60, 60)
        assert await mast.safe(actor="pad-systems", reason="stop part way")
        assert await ticket.wait() == "fault: interrupted by safing"
        assert mast.machine_state == "STOPPED"
        assert 2 < value(rig, "CBM-ZT-601") < 98
        await confirmed(mast, "retract_at_liftoff")
        assert mast.machine_state == "RETRACTED"
        assert await mast.safe(actor="pad-systems", reason="test")
        await confirmed(mast, "connect")
        assert mast.machine_state == "CONNECTED"
        await confirmed(mast, "arm_retract")
        await confirmed(mast, "retract_at_liftoff")  # liftoff wins over an operator's arm
        assert mast.machine_state == "RETRACTED"
        kinds = await rig.journal_kinds()
        assert kinds.count("command_confirmed") == 10


async def test_every_permissive_refuses_by_name_and_changes_nothing(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=RATE, specs=SPECS) as rig:
        mast = rig.subsystems["cable_mast"]
        with pytest.raises(CommandRefused, match="state is CONNECTED; retract needs RETRACT_ARMED"):
            await mast.command("retract", actor="op")
        rig.model.sensor_override("CBM-PT-601", 2.0)
        assert await rig.wait(lambda: value(rig, "CBM-PT-601") < 3, 10)
        with pytest.raises(CommandRefused) as refused:
            await mast.command("arm_retract", actor="op")
        assert "vehicle on internal power (the mast carries ground power) (VEH-PWR-INT = false" in (
            refused.value.reason
        )
        assert "mast pneumatic supply 5 bar or more (CBM-PT-601 = 2" in refused.value.reason
        assert mast.machine_state == "CONNECTED"

        rig.model.sensor_override("CBM-PT-601", None)
        await vehicle_on_internal_power(rig)
        assert await rig.wait(lambda: value(rig, "CBM-PT-601") > 5, 10)
        await confirmed(mast, "arm_retract")
        rig.model.sensor_override("VEH-PWR-INT", False)  # the vehicle dropped back
        rig.model.sensor_override("CBM-PT-601", 2.0)
        assert await rig.wait(lambda: rig.plant.read("VEH-PWR-INT").value is False, 10)
        assert await rig.wait(lambda: value(rig, "CBM-PT-601") < 3, 10)
        with pytest.raises(CommandRefused) as refused:
            await mast.command("retract", actor="op")
        assert "vehicle on internal power" in refused.value.reason
        assert "mast pneumatic supply 5 bar or more" in refused.value.reason
        with pytest.raises(CommandRefused, match=r"liftoff contact 1 made \(VEH-LIFTOFF-1 = false"):
            await mast.command("retract_at_liftoff", actor="countdown")
        assert rig.plant.read("CBM-M-601-RETRACT-CMD").value is False
        assert rig.plant.read("CBM-M-601-CONNECTED").value is True

        assert await mast.safe(actor="pad-systems", reason="test")  # STOPPED, still connected
        rig.model.sensor_override("VEH-PT-901", 100.0)
        assert await rig.wait(lambda: value(rig, "VEH-PT-901") > 50, 10)
        with pytest.raises(CommandRefused) as refused:
            await mast.command("connect", actor="op")
        for name in (
            "engine not running (chamber 5 bar or less) (VEH-PT-901 = 100",
            "vehicle ground power off (no live umbilical pins) (PWR-CB-842-OPEN = false",
            "mast pneumatic supply 5 bar or more (CBM-PT-601 = 2",
        ):
            assert name in refused.value.reason
        assert rig.plant.read("CBM-M-601-CONNECT-CMD").value is False
        kinds = await rig.journal_kinds()
        assert kinds.count("command_refused") == 5


async def test_a_jammed_mast_faults_and_safing_stops_it(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=RATE, specs=SPECS) as rig:
        mast = rig.subsystems["cable_mast"]
        await vehicle_on_internal_power(rig)
        await confirmed(mast, "arm_retract")
        rig.model.stick_actuator("CBM-M-601")
        outcome = await (await mast.command("retract", actor="pad-systems")).wait()
        assert outcome.startswith("fault: retract: no feedback within 15 s")
        assert "CBM-M-601-RETRACTED = false" in outcome
        assert mast.machine_state == "FAULT" and mast.safed
        assert rig.alarms.get("CABLE_MAST-FAULT").state is AlarmState.UNACK
        assert await rig.wait(lambda: rig.plant.read("CBM-M-601-RETRACT-CMD").value is False, 5)
        await mast.reset(actor="pad-systems")
        assert mast.machine_state == "STOPPED"


async def test_lost_plc_during_a_retract_faults_and_safing_is_not_proven(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=RATE, specs=SPECS) as rig:
        mast = rig.subsystems["cable_mast"]
        await vehicle_on_internal_power(rig)
        await confirmed(mast, "arm_retract")
        ticket = await mast.command("retract", actor="pad-systems")
        await rig.sim.stall("MECH")
        assert (await ticket.wait()).startswith("fault: retract: no feedback within 15 s")
        assert mast.machine_state == "FAULT" and not mast.safed
        assert rig.alarms.get("CABLE_MAST-SAFING-FAILED").state is AlarmState.UNACK
        with pytest.raises(CommandRefused, match="safe state not proven"):
            await mast.reset(actor="pad-systems")
        await rig.sim.restore_link("MECH")


async def test_modes_out_of_service_and_checkout_with_no_actuators(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=RATE, specs=SPECS) as rig:
        mast = rig.subsystems["cable_mast"]
        assert CABLE_MAST.command("retract").hazardous
        assert not CABLE_MAST.command("retract_at_liftoff").hazardous  # automatic, at liftoff
        rig.model.sensor_override("VEH-LIFTOFF-1", True)
        assert await rig.wait(lambda: rig.plant.read("VEH-LIFTOFF-1").value is True, 5)
        await mast.set_mode(Mode.AUTO, actor="tc")
        with pytest.raises(CommandRefused, match="in AUTO"):
            await mast.command("retract_at_liftoff", actor="op")
        ticket = await mast.command("retract_at_liftoff", actor="countdown", origin=Origin.SEQUENCE)
        assert await ticket.wait() == "confirmed"
        with pytest.raises(CommandRefused, match="out of service needs state STOPPED"):
            await mast.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        assert await mast.safe(actor="maintenance", reason="lockout")
        await mast.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
            await mast.command("connect", actor="op")
        await mast.set_mode(Mode.MANUAL, actor="maintenance")
        report = await mast.checkout(actor="pad-systems")
        # the pad definition lists no actuator for the mast: nothing is stroked or skipped
        assert report.passed and report.results == () and report.skipped == ()
