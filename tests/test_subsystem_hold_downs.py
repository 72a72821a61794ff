"""Hold-downs against the simulated pad: arm, release on thrust, re-clamp, faults and safing."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.subsystems import CommandRefused, Mode, Subsystem
from padctl.subsystems.hold_downs import HOLD_DOWNS
from tests.pad_rig import PadRig, pad_rig

pytestmark = pytest.mark.slow

SPECS = (HOLD_DOWNS,)
CLAMPED = tuple(f"HDC-M-70{n}-CLAMPED" for n in (1, 2, 3, 4))


async def confirmed(subsystem: Subsystem, command: str) -> None:
    ticket = await subsystem.command(command, actor="pad-systems")
    assert await ticket.wait() == "confirmed", subsystem.last_fault


async def thrust(rig: PadRig, on: bool) -> None:
    """Make the engine look running (or stopped) to the hold-downs' interlocks."""
    rig.model.sensor_override("VEH-THRUST-OK", True if on else None)
    rig.model.sensor_override("VEH-PT-901", 245.0 if on else None)
    assert await rig.wait(
        lambda: (
            rig.plant.read("VEH-THRUST-OK").value is on
            and (float(rig.plant.read("VEH-PT-901").value or 0) > 200) is on
        ),
        5,
    )


async def test_every_hold_down_transition(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        clamps = rig.subsystems["hold_downs"]
        assert clamps.machine_state == "CLAMPED"
        rig.context.set("terminal_count", True)
        ticket = await clamps.command("arm_release", actor="pad-systems")
        assert clamps.machine_state == "ARMING"
        assert await ticket.wait() == "confirmed"
        assert clamps.machine_state == "RELEASE_ARMED"
        assert float(rig.plant.read("HDC-PT-700").value) >= 180  # type: ignore[arg-type]
        ticket = await clamps.command("disarm", actor="pad-systems")
        assert clamps.machine_state == "DISARMING"
        assert await ticket.wait() == "confirmed"
        assert clamps.machine_state == "CLAMPED"
        await confirmed(clamps, "arm_release")
        await thrust(rig, True)
        ticket = await clamps.command("release", actor="pad-systems")
        assert clamps.machine_state == "RELEASING"
        assert await ticket.wait() == "confirmed"
        assert clamps.machine_state == "RELEASED"
        assert all(rig.plant.read(f"HDC-M-70{n}-RELEASED").value for n in (1, 2, 3, 4))
        # the release command and the arm are dropped once the clamps are proven open
        assert await rig.wait(lambda: rig.plant.read("HDC-ARMED").value is False, 5)
        assert rig.plant.read("HDC-RELEASE-CMD").value is False
        await thrust(rig, False)
        ticket = await clamps.command("reclamp", actor="pad-systems")
        assert clamps.machine_state == "CLAMPING"
        assert await ticket.wait() == "confirmed"
        assert clamps.machine_state == "CLAMPED"
        assert rig.all_good(*CLAMPED) and all(rig.plant.read(t).value for t in CLAMPED)
        assert await rig.wait(lambda: rig.plant.read("HDC-CLAMP-CMD").value is False, 5)
        kinds = await rig.journal_kinds()
        assert kinds.count("command_confirmed") == 5 and kinds.count("transition") == 10


async def test_every_permissive_refuses_by_name_and_changes_nothing(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        clamps = rig.subsystems["hold_downs"]
        with pytest.raises(CommandRefused, match="state is CLAMPED; release needs RELEASE_ARMED"):
            await clamps.command("release", actor="op")
        for tag in CLAMPED:
            rig.model.sensor_override(tag, False)
        assert await rig.wait(lambda: not any(rig.plant.read(t).value for t in CLAMPED), 5)
        with pytest.raises(CommandRefused) as refused:
            await clamps.command("arm_release", actor="op")
        reason = refused.value.reason
        assert "terminal count running (@terminal_count = false (needs == true)" in reason
        for n in (1, 2, 3, 4):
            assert f"clamp {n} clamped (HDC-M-70{n}-CLAMPED = false" in reason
        assert rig.plant.read("HDC-ARM-CMD").value is False
        for tag in CLAMPED:
            rig.model.sensor_override(tag, None)
        assert await rig.wait(lambda: all(rig.plant.read(t).value for t in CLAMPED), 5)

        rig.context.set("terminal_count", True)
        await confirmed(clamps, "arm_release")
        rig.context.set("terminal_count", False)  # a hold: out of the terminal count
        rig.model.sensor_override("HDC-ARMED", False)
        assert await rig.wait(lambda: rig.plant.read("HDC-ARMED").value is False, 5)
        with pytest.raises(CommandRefused) as refused:
            await clamps.command("release", actor="op")
        reason = refused.value.reason
        for name in (
            "terminal count running",
            "engine thrust OK (VEH-THRUST-OK = false",
            "engine chamber pressure 220 bar or more (VEH-PT-901 = 0",
            "release armed (accumulator pressurized) (HDC-ARMED = false",
        ):
            assert name in reason
        assert rig.plant.read("HDC-RELEASE-CMD").value is False
        assert clamps.machine_state == "RELEASE_ARMED"

        rig.model.sensor_override("HDC-ARMED", None)
        rig.context.set("terminal_count", True)
        await thrust(rig, True)
        await confirmed(clamps, "release")
        with pytest.raises(CommandRefused) as refused:  # engine still running
            await clamps.command("reclamp", actor="op")
        assert "engine thrust not OK (engine stopped) (VEH-THRUST-OK = true" in (
            refused.value.reason
        )
        assert "engine chamber pressure 5 bar or less (VEH-PT-901 = 245" in refused.value.reason
        assert await rig.wait(lambda: rig.plant.read("HDC-CLAMP-CMD").value is False, 5)
        kinds = await rig.journal_kinds()
        assert kinds.count("command_refused") == 4


async def test_a_stuck_clamp_faults_the_release_and_safing_reclamps(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        clamps = rig.subsystems["hold_downs"]
        rig.context.set("terminal_count", True)
        await confirmed(clamps, "arm_release")
        await thrust(rig, True)
        rig.model.stick_actuator("HDC-M-703")
        outcome = await (await clamps.command("release", actor="pad-systems")).wait()
        assert outcome.startswith("fault: release: no feedback within 2 s")
        assert "HDC-M-703-RELEASED = false" in outcome
        assert clamps.machine_state == "FAULT"
        assert rig.alarms.get("HOLD_DOWNS-FAULT").state is AlarmState.UNACK
        # safing vented the accumulator and drove the three released clamps closed again
        assert clamps.safed
        assert rig.plant.read("HDC-ARMED").value is False
        assert all(rig.plant.read(t).value for t in CLAMPED)
        with pytest.raises(CommandRefused, match="state is FAULT"):
            await clamps.command("arm_release", actor="pad-systems")
        await clamps.reset(actor="pad-systems")
        assert clamps.machine_state == "CLAMPED"


async def test_lost_plc_during_arming_faults_and_safing_is_not_proven(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        clamps = rig.subsystems["hold_downs"]
        rig.context.set("terminal_count", True)
        ticket = await clamps.command("arm_release", actor="pad-systems")
        await rig.sim.stall("MECH")
        outcome = await ticket.wait()
        assert outcome.startswith("fault: arm_release: no feedback within 10 s")
        assert clamps.machine_state == "FAULT" and not clamps.safed
        assert rig.alarms.get("HOLD_DOWNS-SAFING-FAILED").state is AlarmState.UNACK
        with pytest.raises(CommandRefused, match="safe state not proven"):
            await clamps.reset(actor="pad-systems")
        await rig.sim.restore_link("MECH")


async def test_out_of_service_and_checkout_with_no_actuators(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        clamps = rig.subsystems["hold_downs"]
        assert HOLD_DOWNS.command("arm_release").hazardous
        assert HOLD_DOWNS.command("release").hazardous
        report = await clamps.checkout(actor="pad-systems")
        # the pad definition lists no actuator for the clamps: nothing is stroked or skipped
        assert report.passed and report.results == () and report.skipped == ()
        await clamps.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        rig.context.set("terminal_count", True)
        with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
            await clamps.command("arm_release", actor="op")
        assert await clamps.safe(actor="maintenance", reason="lockout check")
        assert rig.plant.read("HDC-ARM-CMD").value is False
