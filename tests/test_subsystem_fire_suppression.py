"""Fire detection and suppression, and its automatic release, on the simulated pad."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.subsystems import AutomaticRules, CommandRefused, Mode, Origin, Subsystem
from padctl.subsystems.fire_suppression import DETECTORS, FIRE_SUPPRESSION
from padctl.tasks import cancel_and_wait
from tests.pad_rig import PadRig, override, pad_rig, release

pytestmark = pytest.mark.slow

SPECS = (FIRE_SUPPRESSION,)
AUTO_ACTOR = "fire_suppression.auto"


async def run(fire: Subsystem, command: str, via: str | None, dest: str) -> None:
    ticket = await fire.command(command, actor="safety")
    if via is not None:
        assert fire.machine_state == via
    assert await ticket.wait() == "confirmed"
    assert fire.machine_state == dest


async def refused(fire: Subsystem, command: str) -> str:
    with pytest.raises(CommandRefused) as refusal:
        await fire.command(command, actor="safety")
    return refusal.value.reason


@asynccontextmanager
async def auto_release(rig: PadRig) -> AsyncIterator[AutomaticRules]:
    """The fire subsystem's automatic rules, run as the station runs them."""
    rules = AutomaticRules(rig.subsystems, plant=rig.plant, clock=rig.clock)
    task = asyncio.create_task(rules.run())
    try:
        yield rules
    finally:
        await cancel_and_wait(task)


async def accepted_by(rig: PadRig) -> list[tuple[str, str]]:
    return [
        (entry.payload["command"], entry.actor)
        for entry in await rig.journal.entries()
        if entry.kind == "command_accepted"
    ]


async def test_a_fire_is_suppressed_without_an_operator(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS, mode=Mode.AUTO) as rig:
        fire = rig.subsystems["fire_suppression"]
        async with auto_release(rig):
            assert fire.machine_state == "MONITORING"
            rig.model.start_fire(3)  # LOX storage
            assert await rig.wait(lambda: fire.machine_state == "SUPPRESSING", 30)
            assert rig.plant.read("FIR-FV-831-ZSO").value is True
            assert rig.plant.read("FIR-FT-831").value >= 2
            assert await accepted_by(rig) == [("alarm", AUTO_ACTOR), ("suppress", AUTO_ACTOR)]
            assert await rig.wait(lambda: rig.plant.read("FIR-FD-813").value is False, 30)
            # Closing the agent valve and resetting the alarm are the operators' decisions.
            assert "in AUTO" in await refused(fire, "stop_suppression")
            await fire.set_mode(Mode.MANUAL, actor="safety")
            await run(fire, "stop_suppression", "CLOSING", "FIRE_ALARM")
            assert rig.plant.read("FIR-XA-801").value is True  # still latched by the PLC
            await run(fire, "reset_alarm", "RESETTING", "MONITORING")
            assert rig.plant.read("FIR-XA-801").value is False
            assert await rig.wait(
                lambda: rig.plant.read("FIR-XA-801-RESET-CMD").value is False, 5
            )  # the reset pulse was dropped after feedback
            assert fire.machine_state == "MONITORING"


async def test_two_detectors_trigger_even_without_the_plc_alarm(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS, mode=Mode.AUTO) as rig:
        fire = rig.subsystems["fire_suppression"]
        async with auto_release(rig):
            one = {"FIR-XA-801": False, "FIR-FD-811": True}  # the PLC's latch has failed
            await override(rig, one)
            assert not await rig.wait(lambda: fire.machine_state != "MONITORING", 3)
            await override(rig, {"FIR-FD-812": True})  # 2 out of 6
            assert await rig.wait(lambda: fire.machine_state == "SUPPRESSING", 30)
            assert await accepted_by(rig) == [("alarm", AUTO_ACTOR), ("suppress", AUTO_ACTOR)]


async def test_a_refused_release_is_retried_while_the_fire_lasts(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS, mode=Mode.AUTO) as rig:
        fire = rig.subsystems["fire_suppression"]
        async with auto_release(rig):
            empty = {"FIR-PT-831": 2.0}
            await override(rig, empty)
            rig.model.start_fire(4)  # RG-1 storage
            assert await rig.wait_journal("command_refused", 10)
            assert fire.machine_state == "FIRE_ALARM"
            await release(rig, empty)  # the bottle bank is switched over
            assert await rig.wait(lambda: fire.machine_state == "SUPPRESSING", 30)
            assert await accepted_by(rig) == [("alarm", AUTO_ACTOR), ("suppress", AUTO_ACTOR)]


async def test_manual_mode_every_permissive_and_a_false_alarm(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        fire = rig.subsystems["fire_suppression"]
        async with auto_release(rig):
            assert "state is MONITORING; suppress needs FIRE_ALARM" in await refused(
                fire, "suppress"
            )
            await run(fire, "alarm", None, "FIRE_ALARM")  # a manual call point
            empty = {"FIR-PT-831": 2.0}
            await override(rig, empty)
            reason = await refused(fire, "suppress")
            assert "agent bottle at 5 bar or more (a discharge would be ineffective)" in reason
            assert "FIR-PT-831 = 2 (needs >= 5)" in reason
            await release(rig, empty)
            flames = {detector: True for detector in DETECTORS}
            await override(rig, {**flames, "FIR-FV-831-ZSC": False})
            reason = await refused(fire, "reset_alarm")
            for zone in ("zone 1 (launch table)", "zone 3 (LOX storage)", "zone 6 (cable mast)"):
                assert f"no flame in {zone}" in reason
            assert reason.count("no flame in zone") == 6
            assert "agent valve FV-831 closed (FIR-FV-831-ZSC = false" in reason
            # In MANUAL the automatic release holds back, whatever the detectors say.
            assert fire.machine_state == "FIRE_ALARM"
            assert rig.plant.read("FIR-FV-831-CMD").value is False
            await release(rig, {"FIR-FV-831-ZSC": False})
            await run(fire, "suppress", "RELEASING", "SUPPRESSING")
            reason = await refused(fire, "stop_suppression")
            assert reason.count("no flame in zone") == 6
            assert "FIR-FD-815 = true (needs == false)" in reason
            assert rig.plant.read("FIR-FV-831-CMD").value is True
            await release(rig, flames)
            await run(fire, "stop_suppression", "CLOSING", "FIRE_ALARM")
            await run(fire, "reset_alarm", "RESETTING", "MONITORING")
            kinds = await rig.journal_kinds()
            assert kinds.count("command_refused") == 4
            assert all(actor == "safety" for _, actor in await accepted_by(rig))


async def test_modes_out_of_service_and_auto(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        fire = rig.subsystems["fire_suppression"]
        await fire.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
            await fire.command("alarm", actor="safety")
        assert await fire.safe(actor="maintenance", reason="lockout check")
        await fire.set_mode(Mode.AUTO, actor="safety")
        with pytest.raises(CommandRefused, match="in AUTO"):
            await fire.command("alarm", actor="safety")
        ticket = await fire.command("alarm", actor="count", origin=Origin.SEQUENCE)
        assert await ticket.wait() == "confirmed"
        assert fire.machine_state == "FIRE_ALARM"
        assert await fire.safe(actor="safety", reason="drill over")
        assert fire.machine_state == "MONITORING"


async def test_stuck_agent_valve_faults_then_auto_release_retries_after_reset(
    tmp_path: Path,
) -> None:
    async with pad_rig(tmp_path, specs=SPECS, mode=Mode.AUTO) as rig:
        fire = rig.subsystems["fire_suppression"]
        async with auto_release(rig):
            rig.model.stick_actuator("FIR-FV-831")
            rig.model.start_fire(5)  # pump room
            assert await rig.wait(
                lambda: rig.alarms.get("FIRE_SUPPRESSION-FAULT").state is AlarmState.UNACK, 30
            )
            assert fire.machine_state == "FAULT"
            assert fire.last_fault.startswith("suppress: no feedback within 5 s")
            assert "FIR-FV-831-ZSO = false" in fire.last_fault
            assert await rig.wait_journal("safing_result", 10)
            assert fire.safed  # the valve never left its seat: closed is proven
            rig.model.stick_actuator("FIR-FV-831", False)  # freed by the pad crew
            await fire.reset(actor="safety")
            assert await rig.wait(lambda: fire.machine_state == "SUPPRESSING", 30)
            assert await rig.wait(lambda: rig.plant.read("FIR-FD-815").value is False, 30)


async def test_uncommanded_agent_valve_position_raises_an_alarm(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        rig.model.sensor_override("FIR-FV-831-ZSO", True)  # off its seat with no command
        assert await rig.wait(
            lambda: rig.alarms.get("FIRE_SUPPRESSION-UNCOMMANDED").state is AlarmState.UNACK, 60
        )
        detail = rig.alarms.get("FIRE_SUPPRESSION-UNCOMMANDED").detail
        assert "FIR-FV-831-ZSO at its position without a command" in detail
        assert await rig.wait_journal("uncommanded_change")


async def test_checkout_never_releases_the_agent(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        fire = rig.subsystems["fire_suppression"]
        report = await fire.checkout(actor="safety")
        assert report.results == () and report.skipped == ("FIR-FV-831",)
        assert report.passed
        assert rig.plant.read("FIR-FV-831-CMD").value is False
        assert rig.plant.read("FIR-PT-831").value >= 59
