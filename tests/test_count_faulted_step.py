"""A faulted step is a decision: a resume after it must retry it or skip it, with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.countdown import Countdown, CountdownRefused
from tests.pad_rig import PadRig
from tests.test_countdown_engine import counting

pytestmark = pytest.mark.slow

FAULTED_REASON = "ground_power.energize: fault: energize: no feedback"


async def _held_by_a_faulted_step(rig: PadRig, countdown: Countdown) -> None:
    """Start with the vehicle bus voltage kept at 0: `Vehicle power on` faults and holds."""
    rig.model.sensor_override("PWR-ET-842", 0.0)
    await countdown.start(actor="tc")
    assert await rig.wait(lambda: countdown.state.name == "HOLDING", 120)
    assert countdown.status.hold_reason.startswith(FAULTED_REASON)
    assert [step.name for step in countdown.faulted_steps] == ["Vehicle power on"]
    assert countdown.faulted_steps[0].not_done == ["ground_power.energize"]
    for position in ("test_conductor", "pad_systems"):
        await countdown.answer_poll(position=position, go=True, actor=position)


async def test_a_plain_resume_after_a_faulted_step_is_refused_naming_the_step(
    tmp_path: Path,
) -> None:
    async with counting(tmp_path) as (rig, countdown):
        await _held_by_a_faulted_step(rig, countdown)
        with pytest.raises(CountdownRefused, match="step 'Vehicle power on' stopped the count"):
            await countdown.resume(actor="tc")
        with pytest.raises(CountdownRefused, match="a reason is needed to retry"):
            await countdown.resume(actor="tc", step="retry", reason=" ")
        with pytest.raises(CountdownRefused, match="step must be retry or skip, not 'redo'"):
            await countdown.resume(actor="tc", step="redo", reason="x")  # type: ignore[arg-type]
        assert countdown.state.name == "HOLDING" and countdown.faulted_steps  # nothing changed
        assert not await rig.journal.entries(kinds=["step_retried", "step_skipped"])


async def test_retry_runs_the_faulted_step_again_and_is_journaled(tmp_path: Path) -> None:
    async with counting(tmp_path) as (rig, countdown):
        await _held_by_a_faulted_step(rig, countdown)
        power = rig.subsystems["ground_power"]
        rig.model.sensor_override("PWR-ET-842", None)  # the fault found and fixed
        assert await rig.wait(lambda: power.safed, 60)
        await power.reset(actor="ps")
        await countdown.resume(actor="tc", step="retry", reason="bus meter replaced")
        assert countdown.state.name == "COUNTING" and not countdown.faulted_steps
        assert await rig.wait(lambda: power.machine_state == "ON_EXTERNAL", 60)
        commands = [e.text for e in countdown.timeline if e.kind == "COMMAND"]
        assert commands.count("ground_power.energize") == 2
        [row] = await rig.journal.entries(kinds=["step_retried"])
        assert row.actor == "tc"
        assert row.payload["event"] == "Vehicle power on"
        assert row.payload["reason"] == "bus meter replaced"
        assert row.payload["fault"].startswith(FAULTED_REASON)
        assert any(e.kind == "RETRY" for e in countdown.timeline)
        await countdown.hold(actor="tc", reason="weather")
        for position in ("test_conductor", "pad_systems"):
            await countdown.answer_poll(position=position, go=True, actor=position)
        with pytest.raises(CountdownRefused, match="no faulted step to skip"):
            await countdown.resume(actor="tc", step="skip", reason="nothing faulted")
        await countdown.resume(actor="tc")  # nothing faulted: a plain resume


async def test_skip_gives_the_faulted_step_up_and_is_journaled(tmp_path: Path) -> None:
    async with counting(tmp_path) as (rig, countdown):
        await _held_by_a_faulted_step(rig, countdown)
        await countdown.resume(actor="tc", step="skip", reason="power checked by hand")
        assert countdown.state.name == "COUNTING" and not countdown.faulted_steps
        [row] = await rig.journal.entries(kinds=["step_skipped"])
        assert (row.actor, row.payload["event"]) == ("tc", "Vehicle power on")
        assert row.payload["not_done"] == ["ground_power.energize"]
        assert row.payload["reason"] == "power checked by hand"
        skipped = [e.text for e in countdown.timeline if e.kind == "SKIP"]
        assert skipped == [
            "Vehicle power on skipped by tc: power checked by hand "
            "(not done: ground_power.energize)"
        ]
        commands = [e.text for e in countdown.timeline if e.kind == "COMMAND"]
        assert commands.count("ground_power.energize") == 1  # not given again
