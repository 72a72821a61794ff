"""Ground power, and the subsystem framework it stands on, against the simulated pad."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.subsystems import CommandRefused, Mode, Origin
from tests.pad_rig import pad_rig

pytestmark = pytest.mark.slow

# A stalled PLC's data goes STALE by wall time (stale_after_s, 1 s on the reference pad) or
# when a read times out: bound the wait at 6 wall seconds of the rig's rate-10 clock.
_STALE_BOUND_S = 60.0


async def test_every_ground_power_transition(tmp_path: Path) -> None:
    async with pad_rig(tmp_path) as rig:
        power = rig.subsystems["ground_power"]
        assert power.machine_state == "DE_ENERGIZED"
        ticket = await power.command("energize", actor="pad-systems")
        assert power.machine_state == "ENERGIZING"
        assert await ticket.wait() == "confirmed"
        assert power.machine_state == "ON_EXTERNAL"
        assert (
            await (await power.command("transfer_to_internal", actor="pad-systems")).wait()
            == "confirmed"
        )
        assert power.machine_state == "ON_INTERNAL"
        assert rig.plant.read("VEH-PWR-INT").value is True
        assert (
            await (await power.command("transfer_to_external", actor="pad-systems")).wait()
            == "confirmed"
        )
        assert power.machine_state == "ON_EXTERNAL"
        assert await (await power.command("de_energize", actor="pad-systems")).wait() == "confirmed"
        assert power.machine_state == "DE_ENERGIZED"
        kinds = await rig.journal_kinds()
        assert kinds.count("command_accepted") == 4 and kinds.count("command_confirmed") == 4
        assert kinds.count("transition") == 8


async def test_refusals_name_the_reason_and_change_nothing(tmp_path: Path) -> None:
    async with pad_rig(tmp_path) as rig:
        power = rig.subsystems["ground_power"]
        with pytest.raises(
            CommandRefused, match="state is DE_ENERGIZED; transfer_to_internal needs ON_EXTERNAL"
        ):
            await power.command("transfer_to_internal", actor="op")
        with pytest.raises(CommandRefused, match="unknown command"):
            await power.command("launch", actor="op")
        rig.model.sensor_override("CBM-M-601-CONNECTED", False)
        assert await rig.wait(lambda: rig.plant.read("CBM-M-601-CONNECTED").value is False, 5)
        with pytest.raises(CommandRefused) as refused:
            await power.command("energize", actor="op")
        assert "interlock not met: cable mast connected" in refused.value.reason
        assert "CBM-M-601-CONNECTED = false (needs == true)" in refused.value.reason
        assert power.machine_state == "DE_ENERGIZED"
        assert rig.plant.read("PWR-CB-842-CMD").value is False
        kinds = await rig.journal_kinds()
        assert kinds.count("command_refused") == 3 and "command_sent" not in kinds


async def test_modes_out_of_service_and_auto(tmp_path: Path) -> None:
    async with pad_rig(tmp_path) as rig:
        power = rig.subsystems["ground_power"]
        await power.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
            await power.command("energize", actor="op")
        assert await power.safe(actor="maintenance", reason="lockout check")  # safing still works
        await power.set_mode(Mode.AUTO, actor="tc")
        with pytest.raises(CommandRefused, match="in AUTO"):
            await power.command("energize", actor="op")
        ticket = await power.command("energize", actor="sequence", origin=Origin.SEQUENCE)
        assert await ticket.wait() == "confirmed"
        with pytest.raises(CommandRefused, match="out of service needs state DE_ENERGIZED"):
            await power.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")


async def test_stuck_breaker_faults_and_safes_then_reset_is_manual(tmp_path: Path) -> None:
    async with pad_rig(tmp_path) as rig:
        power = rig.subsystems["ground_power"]
        rig.model.stick_actuator("PWR-CB-842")
        ticket = await power.command("energize", actor="op")
        outcome = await ticket.wait()
        assert outcome.startswith("fault: energize: no feedback within 10 s")
        assert "PWR-CB-842-CLOSED = false" in outcome
        assert power.machine_state == "FAULT"
        assert power.safed  # the stuck breaker is open: the safe state is proven
        assert rig.alarms.get("GROUND_POWER-FAULT").state is AlarmState.UNACK
        assert await rig.wait(lambda: rig.plant.read("PWR-CB-842-CMD").value is False, 5)
        with pytest.raises(CommandRefused, match="state is FAULT"):
            await power.command("energize", actor="op")
        await power.reset(actor="op")
        assert power.machine_state == "DE_ENERGIZED"
        assert rig.alarms.get("GROUND_POWER-FAULT").state is AlarmState.RTN_UNACK


async def test_lost_plc_during_a_command_faults_and_safing_is_not_proven(tmp_path: Path) -> None:
    async with pad_rig(tmp_path) as rig:
        power = rig.subsystems["ground_power"]
        await rig.sim.drop_link("SAFE")
        assert await rig.wait(lambda: not rig.plant.read("PWR-ET-841").is_good, 30)
        with pytest.raises(CommandRefused, match="STALE"):
            await power.command("energize", actor="op")  # stale permissive data: NO-GO
        await rig.sim.restore_link("SAFE")
        assert await rig.wait(lambda: rig.all_good("PWR-ET-841", "PWR-CB-842-OPEN"), 30)
        ticket = await power.command("energize", actor="op")
        await rig.sim.stall("SAFE")  # PLC hangs mid-command: feedback never comes
        outcome = await ticket.wait()
        assert outcome.startswith("fault:")
        assert power.machine_state == "FAULT"
        assert not power.safed
        assert rig.alarms.get("GROUND_POWER-SAFING-FAILED").state is AlarmState.UNACK
        with pytest.raises(CommandRefused, match="safe state not proven"):
            await power.reset(actor="op")
        await rig.sim.restore_link("SAFE")


async def test_uncommanded_output_change_raises_an_alarm(tmp_path: Path) -> None:
    async with pad_rig(tmp_path) as rig:
        # Someone closes the breaker at a local panel: padctl never commanded it.
        await rig.sim.set_values("SAFE", {"PWR-CB-842-CMD": True})
        assert await rig.wait(
            lambda: rig.alarms.get("GROUND_POWER-UNCOMMANDED").state is AlarmState.UNACK, 60
        )
        assert (
            "PWR-CB-842-CMD is true, padctl commanded false"
            in rig.alarms.get("GROUND_POWER-UNCOMMANDED").detail
        )
        assert await rig.wait_journal("uncommanded_change")


async def test_safing_wins_over_a_command_in_flight(tmp_path: Path) -> None:
    async with pad_rig(tmp_path) as rig:
        power = rig.subsystems["ground_power"]
        rig.model.slow_actuator("PWR-CB-842", 50)  # 5 s stroke: the command stays in flight
        ticket = await power.command("energize", actor="op")
        assert power.busy == "energize"
        assert await power.safe(actor="safety", reason="abort drill")
        assert await ticket.wait() == "fault: interrupted by safing"
        assert power.machine_state == "DE_ENERGIZED" and not power.busy


async def test_start_up_waits_for_fresh_data_before_it_recognises_the_state(
    tmp_path: Path,
) -> None:
    """A subsystem (re)started while its PLC's data is STALE (a loaded machine at start-up, a
    link coming back) takes up the plant's state once the data is fresh: not FAULT on a
    moment's staleness, which only an operator's reset would clear."""
    async with pad_rig(tmp_path) as rig:
        power = rig.subsystems["ground_power"]
        await power.stop()
        await rig.sim.stall("SAFE")
        assert await rig.wait(lambda: not rig.all_good("PWR-CB-842-OPEN"), _STALE_BOUND_S)
        starting = asyncio.ensure_future(power.start())
        await rig.sim.restore_link("SAFE")
        await asyncio.wait_for(starting, 30.0)
        assert power.machine_state == "DE_ENERGIZED", power.last_fault
        assert rig.alarms.get("GROUND_POWER-FAULT").state is AlarmState.NORMAL


async def test_a_state_not_recognised_at_start_up_is_an_alarmed_and_journaled_fault(
    tmp_path: Path,
) -> None:
    """Data that never comes fresh (or a plant in none of the known states) is FAULT, and
    says so: an alarm and a journal row that name the conditions not met, never silence."""
    async with pad_rig(tmp_path) as rig:
        power = rig.subsystems["ground_power"]
        await power.stop()
        await rig.sim.stall("SAFE")
        assert await rig.wait(lambda: not rig.all_good("PWR-CB-842-OPEN"), _STALE_BOUND_S)
        await power.start(fresh_data_wall_s=1.0)
        assert power.machine_state == "FAULT"
        assert "PWR-CB-842-OPEN" in power.last_fault and "STALE" in power.last_fault
        alarm = rig.alarms.get("GROUND_POWER-FAULT")
        assert alarm.state is AlarmState.UNACK and "PWR-CB-842-OPEN" in alarm.detail
        assert await rig.wait_journal("subsystem_fault")
        await rig.sim.restore_link("SAFE")
