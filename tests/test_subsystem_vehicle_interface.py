"""Vehicle interface against the simulated pad: readiness, engine start, cutoff, liftoff."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.subsystems import CommandRefused, Mode, Subsystem
from padctl.subsystems.vehicle_interface import VEHICLE_INTERFACE
from tests.pad_rig import PadRig, pad_rig

pytestmark = pytest.mark.slow

SPECS = (VEHICLE_INTERFACE,)
CLAMPED = tuple(f"HDC-M-70{n}-CLAMPED" for n in (1, 2, 3, 4))
CONTACTS = tuple(f"VEH-LIFTOFF-{n}" for n in (1, 2, 3))


async def confirmed(subsystem: Subsystem, command: str) -> None:
    ticket = await subsystem.command(command, actor="test-conductor")
    assert await ticket.wait() == "confirmed", subsystem.last_fault


def value(rig: PadRig, tag: str) -> float:
    return float(rig.plant.read(tag).value or 0)


def flag(rig: PadRig, tag: str) -> bool:
    return rig.plant.read(tag).value is True


async def power_up(rig: PadRig) -> None:
    """Ground power on: the onboard sequencer boots in 5 s."""
    await rig.plant.write("PWR-CB-842-CMD", True, actor="test")
    assert await rig.wait(lambda: flag(rig, "VEH-SEQ-READY"), 30)


async def line_up_for_engine_start(rig: PadRig) -> None:
    """What the rest of the pad does before ignition (other subsystems' outputs, written here)."""
    await rig.plant.write("VEH-PWR-INT-CMD", True, actor="test")
    rig.model.sensor_override("ERC-ZS-501-WITHDRAWN", True)  # the erector is not in this rig
    await rig.plant.write("HDC-ARM-CMD", True, actor="test")
    await rig.plant.write("DLG-P-801-CMD", True, actor="test")
    await rig.plant.write("DLG-FV-801-CMD", True, actor="test")
    rig.context.set("terminal_count", True)
    assert await rig.wait(
        lambda: (
            flag(rig, "VEH-PWR-INT")
            and flag(rig, "ERC-ZS-501-WITHDRAWN")
            and flag(rig, "HDC-ARMED")
            and value(rig, "DLG-FT-801") >= 2000
        ),
        30,
    )


async def test_every_vehicle_interface_transition(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        vehicle = rig.subsystems["vehicle_interface"]
        assert vehicle.machine_state == "NOT_READY"
        await power_up(rig)
        await confirmed(vehicle, "confirm_ready")
        assert vehicle.machine_state == "READY"
        await line_up_for_engine_start(rig)
        ticket = await vehicle.command("engine_start", actor="test-conductor")
        assert vehicle.machine_state == "ENGINE_START_COMMANDED"
        assert await ticket.wait() == "confirmed"
        assert vehicle.machine_state == "THRUST_OK"
        assert value(rig, "VEH-PT-901") >= 220
        assert await rig.wait(lambda: rig.plant.read("VEH-ENG-START-CMD").value is False, 5)
        await confirmed(vehicle, "cutoff")
        assert vehicle.machine_state == "CUTOFF"
        assert value(rig, "VEH-ST-901") <= 100 and not flag(rig, "VEH-THRUST-OK")

        await confirmed(vehicle, "confirm_ready")  # a recycle
        assert vehicle.machine_state == "READY"
        await confirmed(vehicle, "engine_start")
        with pytest.raises(CommandRefused) as refused:  # still clamped: no liftoff
            await vehicle.command("confirm_liftoff", actor="test-conductor")
        for n in (1, 2, 3):
            assert f"liftoff contact {n} made (VEH-LIFTOFF-{n} = false" in refused.value.reason
        await rig.plant.write("HDC-RELEASE-CMD", True, actor="test")  # the hold-downs let go
        assert await rig.wait(lambda: all(flag(rig, c) for c in CONTACTS), 10)
        await confirmed(vehicle, "confirm_liftoff")
        assert vehicle.machine_state == "LIFTOFF"
        kinds = await rig.journal_kinds()
        assert kinds.count("command_confirmed") == 6 and kinds.count("command_refused") == 1


async def test_every_permissive_refuses_by_name_and_changes_nothing(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        vehicle = rig.subsystems["vehicle_interface"]
        with pytest.raises(CommandRefused, match="state is NOT_READY; engine_start needs READY"):
            await vehicle.command("engine_start", actor="op")
        rig.model.sensor_override("VEH-ST-901", 5000)
        assert await rig.wait(lambda: value(rig, "VEH-ST-901") > 1000, 5)
        with pytest.raises(CommandRefused) as refused:
            await vehicle.command("confirm_ready", actor="op")
        for name in (
            "onboard sequencer ready (VEH-SEQ-READY = false",
            "vehicle main bus 26 V or more (VEH-ET-901 = 0",
            "engine stopped (turbopump 100 rpm or less) (VEH-ST-901 = 5000",
        ):
            assert name in refused.value.reason
        rig.model.sensor_override("VEH-ST-901", None)
        await power_up(rig)
        assert await rig.wait(lambda: value(rig, "VEH-ST-901") < 100, 5)
        await confirmed(vehicle, "confirm_ready")

        rig.model.sensor_override("VEH-SEQ-READY", False)
        for tag in CLAMPED:
            rig.model.sensor_override(tag, False)
        assert await rig.wait(
            lambda: not flag(rig, "VEH-SEQ-READY") and not any(flag(rig, t) for t in CLAMPED), 5
        )
        with pytest.raises(CommandRefused) as refused:
            await vehicle.command("engine_start", actor="op")
        for name in (
            "terminal count running (@terminal_count = false",
            "onboard sequencer ready (VEH-SEQ-READY = false",
            "vehicle on internal power (VEH-PWR-INT = false",
            "erector withdrawn to the launch position (ERC-ZS-501-WITHDRAWN = false",
            *(f"hold-down clamp {n} clamped (HDC-M-70{n}-CLAMPED = false" for n in (1, 2, 3, 4)),
            "hold-down release armed (HDC-ARMED = false",
            "launch deluge flowing (2000 m3/h or more) (DLG-FT-801 = 0",
        ):
            assert name in refused.value.reason
        assert vehicle.machine_state == "READY"
        assert rig.plant.read("VEH-ENG-START-CMD").value is False
        assert rig.plant.read("VEH-ENG-CUTOFF-CMD").value is True
        assert value(rig, "VEH-PT-901") == 0
        kinds = await rig.journal_kinds()
        assert kinds.count("command_refused") == 3


async def test_engine_start_without_thrust_ok_faults_and_cuts_the_engine_off(
    tmp_path: Path,
) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        vehicle = rig.subsystems["vehicle_interface"]
        await power_up(rig)
        await confirmed(vehicle, "confirm_ready")
        await line_up_for_engine_start(rig)
        rig.model.sensor_override("VEH-THRUST-OK", False)  # a thrust sensor that never makes
        outcome = await (await vehicle.command("engine_start", actor="test-conductor")).wait()
        assert outcome.startswith("fault: engine_start: no feedback within 8 s")
        assert "VEH-THRUST-OK = false" in outcome
        assert vehicle.machine_state == "FAULT"
        assert vehicle.safed  # cutoff held, chamber and turbopump down
        assert rig.alarms.get("VEHICLE_INTERFACE-FAULT").state is AlarmState.UNACK
        assert rig.plant.read("VEH-ENG-CUTOFF-CMD").value is True
        assert value(rig, "VEH-PT-901") <= 5
        await vehicle.reset(actor="test-conductor")
        assert vehicle.machine_state == "CUTOFF"


async def test_safing_is_the_cutoff_during_an_engine_start(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        vehicle = rig.subsystems["vehicle_interface"]
        await power_up(rig)
        await confirmed(vehicle, "confirm_ready")
        await line_up_for_engine_start(rig)
        ticket = await vehicle.command("engine_start", actor="test-conductor")
        assert await rig.wait(lambda: value(rig, "VEH-ST-901") > 1000, 10)  # ignition
        with pytest.raises(CommandRefused, match="command engine_start is in progress"):
            await vehicle.command("cutoff", actor="test-conductor")
        assert await vehicle.safe(actor="safety", reason="abort")
        assert await ticket.wait() == "fault: interrupted by safing"
        assert vehicle.machine_state == "CUTOFF"
        assert not flag(rig, "VEH-THRUST-OK") and value(rig, "VEH-ST-901") <= 100


async def test_lost_plc_during_engine_start_faults_and_safing_is_not_proven(
    tmp_path: Path,
) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        vehicle = rig.subsystems["vehicle_interface"]
        await power_up(rig)
        await confirmed(vehicle, "confirm_ready")
        await line_up_for_engine_start(rig)
        ticket = await vehicle.command("engine_start", actor="test-conductor")
        await rig.sim.stall("VEH")
        assert (await ticket.wait()).startswith("fault: engine_start: no feedback within 8 s")
        assert vehicle.machine_state == "FAULT" and not vehicle.safed
        assert rig.alarms.get("VEHICLE_INTERFACE-SAFING-FAILED").state is AlarmState.UNACK
        with pytest.raises(CommandRefused, match="safe state not proven"):
            await vehicle.reset(actor="test-conductor")
        await rig.sim.restore_link("VEH")


async def test_out_of_service_and_checkout_with_no_actuators(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        vehicle = rig.subsystems["vehicle_interface"]
        assert VEHICLE_INTERFACE.command("engine_start").hazardous
        assert not VEHICLE_INTERFACE.command("cutoff").permissives  # cutoff is never refused
        with pytest.raises(CommandRefused, match="out of service needs state CUTOFF"):
            await vehicle.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        assert await vehicle.safe(actor="maintenance", reason="lockout")
        assert vehicle.machine_state == "CUTOFF"
        report = await vehicle.checkout(actor="pad-systems")
        # the pad definition lists no actuator on the VEH PLC: nothing is stroked or skipped
        assert report.passed and report.results == () and report.skipped == ()
        await vehicle.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        await power_up(rig)
        with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
            await vehicle.command("confirm_ready", actor="op")
