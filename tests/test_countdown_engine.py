"""The countdown engine on the simulated pad: holds, polls, LCC, cutoff, recycle, scrub, crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from padctl.clock import next_loop_turn
from padctl.countdown import (
    Countdown,
    CountdownRefused,
    SequenceError,
    load_lcc,
    load_sequence,
)
from padctl.subsystems import ALL_SPECS
from padctl.subsystems.ground_power import GROUND_POWER
from tests.pad_rig import PadRig, pad_rig
from tests.plc_fixtures import write_definition

pytestmark = pytest.mark.slow

MINI = """\
countdown: mini
profiles: [test-flight, full]
positions: [test_conductor, pad_systems]
start: T-00:02:00
terminal_count: T-00:00:30
window: {open: 0, close: 900}
recycle_points:
  - id: RP-1
    at: T-00:01:00
    restore:
      - {name: Vehicle on ground power again, do: [ground_power.energize], expect: ["PWR-ET-842 >= 27"]}
    require: ["PWR-ET-841 >= 360", "PWR-CB-842-CLOSED == true"]
events:
  - {at: T-00:01:50, name: Vehicle power on, do: [ground_power.energize]}
  - {at: T-00:01:30, name: Power check, expect: ["PWR-ET-842 >= 27"]}
  - {at: T-00:01:00, name: Built-in hold 1, hold: BIH-1, duration: 10, poll: true}
  - {at: T-00:00:20, name: Vehicle to internal power, do: [ground_power.transfer_to_internal]}
liftoff_within_s: 5
scrub:
  - {name: Vehicle power off, do: [ground_power.de_energize], within_s: 30}
"""
LCC = """\
lcc:
  - {id: LCC-PWR-001, name: Pad main bus voltage, tags: [PWR-ET-841], low: 360, from: T-00:01:55, to: T-0}
"""


@asynccontextmanager
async def counting(
    tmp_path: Path, text: str = MINI, rate: float = 20
) -> AsyncIterator[tuple[PadRig, Countdown]]:
    async with pad_rig(tmp_path, rate=rate, specs=(GROUND_POWER,)) as rig:
        sequence = load_sequence(
            write_definition(tmp_path, text, "count.yaml"),
            profile="full",
            definition=rig.definition,
            specs=ALL_SPECS,
        )
        lcc = load_lcc(write_definition(tmp_path, LCC, "lcc.yaml"), rig.definition)
        countdown = Countdown(
            sequence=sequence,
            subsystems=rig.subsystems,
            plant=rig.plant,
            clock=rig.clock,
            context=rig.context,
            lcc=lcc,
        )
        try:
            yield rig, countdown
        finally:
            await countdown.stop()


async def _until(rig: PadRig, predicate, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    return await rig.wait(predicate, timeout_s)


async def test_built_in_hold_needs_the_poll_then_cutoff_without_liftoff_then_recycle(
    tmp_path: Path,
) -> None:
    async with counting(tmp_path) as (rig, countdown):
        await countdown.start(actor="tc")
        with pytest.raises(CountdownRefused, match="the count is counting"):
            await countdown.start(actor="tc")
        assert await _until(rig, lambda: countdown.status.hold_reason == "built-in hold BIH-1", 120)
        assert countdown.state.name == "HOLDING"
        t_in_hold = countdown.t_now()
        with pytest.raises(CountdownRefused, match="no GO from test_conductor, pad_systems"):
            await countdown.resume(actor="tc")
        await countdown.answer_poll(position="test_conductor", go=True, actor="tc")
        with pytest.raises(CountdownRefused, match="no position 'cook'"):
            await countdown.answer_poll(position="cook", go=True, actor="x")
        await countdown.answer_poll(position="pad_systems", go=True, actor="ps")
        assert countdown.t_now() == t_in_hold  # T stopped in the hold
        # The built-in hold ends by itself once its time is up and the poll is all GO.
        assert await _until(rig, lambda: countdown.state.name == "TERMINAL_COUNT", 120)
        assert rig.context.flags["terminal_count"]
        # No vehicle answers: no liftoff 5 s after T-0 -> cutoff, safing.
        assert await _until(rig, lambda: countdown.status.hold_reason.startswith("cutoff"), 200)
        assert "no liftoff 5 s after T-0" in countdown.status.hold_reason
        assert rig.subsystems["ground_power"].machine_state == "DE_ENERGIZED"
        kinds = [event.kind for event in countdown.timeline]
        assert kinds.index("CUTOFF") < kinds.index("SAFING") < kinds.index("SAFED")
        with pytest.raises(CountdownRefused, match="recycle or scrub instead"):
            await countdown.resume(actor="tc")
        with pytest.raises(CountdownRefused, match="no recycle point 'RP-9'"):
            await countdown.recycle(actor="tc", point="RP-9")
        await countdown.recycle(actor="tc", point="RP-1")
        assert countdown.t_now() == -60 and countdown.state.name == "HOLDING"
        assert not rig.context.flags["terminal_count"]
        # The recycle put back what safing took away, then checked re-entry.
        assert rig.subsystems["ground_power"].machine_state == "ON_EXTERNAL"
        assert "Vehicle on ground power again" in [e.text for e in countdown.timeline]
        assert countdown.status.hold_reason == "recycled to RP-1" and countdown.status.resumable
        answers = await rig.journal.entries(kinds=["poll_answer"])
        assert [(e.actor, e.payload["position"]) for e in answers] == [
            ("tc", "test_conductor"),
            ("ps", "pad_systems"),
        ]


def _t_between_clock_reads(countdown: Countdown, rig: PadRig) -> tuple[float, float, float]:
    """T, with the clock read just before and just after it (the process may be preempted
    between any two reads: the bracket holds whatever happens)."""
    before_s = rig.clock.now()
    t_s = countdown.t_now()
    return t_s, before_s, rig.clock.now()


async def _t_advance_at_first_sight(
    countdown: Countdown, rig: PadRig, state: str
) -> tuple[float, float, float]:
    """At the first loop turn the count shows `state`: how far T moves while the clock moves
    about 0.05 count seconds, without giving the loop a turn meanwhile; with the least and
    the most the clock can have moved between the two readings of T."""
    while countdown.state.name != state:
        await next_loop_turn()
    t_first_s, first_before_s, first_after_s = _t_between_clock_reads(countdown, rig)
    while rig.clock.now() < first_after_s + 0.05:  # a few wall ms; no other task runs
        pass
    t_last_s, last_before_s, last_after_s = _t_between_clock_reads(countdown, rig)
    return t_last_s - t_first_s, last_before_s - first_after_s, last_after_s - first_before_s


def _ran_with_the_clock(moved: tuple[float, float, float]) -> bool:
    t_moved_s, clock_least_s, clock_most_s = moved
    return clock_least_s - 1e-9 <= t_moved_s <= clock_most_s + 1e-9


async def test_t_runs_whenever_the_count_shows_counting(tmp_path: Path) -> None:
    """A console that reads COUNTING reads a running T: the state change awaits callbacks,
    and T once began to run only after them (a console saw T stand still while counting)."""
    async with counting(tmp_path) as (rig, countdown):
        watch = asyncio.ensure_future(_t_advance_at_first_sight(countdown, rig, "COUNTING"))
        await countdown.start(actor="tc")
        moved = await watch
        assert moved[1] >= 0.05 and _ran_with_the_clock(moved), moved
        await countdown.hold(actor="tc", reason="test")
        await countdown.answer_poll(position="test_conductor", go=True, actor="tc")
        await countdown.answer_poll(position="pad_systems", go=True, actor="ps")
        watch = asyncio.ensure_future(_t_advance_at_first_sight(countdown, rig, "COUNTING"))
        await countdown.resume(actor="tc")
        moved = await watch
        assert moved[1] >= 0.05 and _ran_with_the_clock(moved), moved


async def test_event_commands_run_in_turn_and_wait_for_times_out_into_a_hold(
    tmp_path: Path,
) -> None:
    text = MINI.replace(
        "  - {at: T-00:01:50, name: Vehicle power on, do: [ground_power.energize]}",
        "  - {at: T-00:01:50, name: Power on then internal, "
        "do: [ground_power.energize, ground_power.transfer_to_internal]}\n"
        "  - {at: T-00:01:40, name: Wait for a charged battery, "
        'wait_for: ["VEH-ET-902 >= 35"], within_s: 5, do: [ground_power.de_energize]}',
    ).replace('"PWR-ET-842 >= 27"', '"PWR-ET-841 >= 360"')
    async with counting(tmp_path, text) as (rig, countdown):
        await countdown.start(actor="tc")
        # The second command went out only once the first was confirmed: no refusal.
        power = rig.subsystems["ground_power"]
        assert await _until(rig, lambda: power.machine_state == "ON_INTERNAL", 60)
        assert await _until(rig, lambda: countdown.state.name == "HOLDING", 60)
        assert countdown.status.hold_reason.startswith(
            "Wait for a charged battery: waited for VEH-ET-902"
        )
        assert -96 <= countdown.t_now() <= -94  # held when the 5 s of waiting ran out
        assert power.machine_state == "ON_INTERNAL"  # the waiting event gave no command
        commands = [e.text for e in countdown.timeline if e.kind == "COMMAND"]
        assert commands == ["ground_power.energize", "ground_power.transfer_to_internal"]


async def test_lcc_breach_before_terminal_count_holds_and_resume_needs_poll_and_clear_lcc(
    tmp_path: Path,
) -> None:
    async with counting(tmp_path) as (rig, countdown):
        await countdown.start(actor="tc")
        assert await _until(rig, lambda: countdown.t_now() > -100, 60)
        rig.model.sensor_override("PWR-ET-841", 300.0)
        assert await _until(rig, lambda: countdown.state.name == "HOLDING", 30)
        assert "LCC-PWR-001" in countdown.status.hold_reason
        for position in ("test_conductor", "pad_systems"):
            await countdown.answer_poll(position=position, go=True, actor=position)
        with pytest.raises(CountdownRefused, match="LCC violated: LCC-PWR-001"):
            await countdown.resume(actor="tc")
        rig.model.sensor_override("PWR-ET-841", None)
        assert await _until(rig, lambda: rig.plant.read("PWR-ET-841").value > 360, 30)
        await countdown.resume(actor="tc")
        assert countdown.state.name == "COUNTING"


async def test_lcc_breach_in_terminal_count_cuts_off_and_safes(tmp_path: Path) -> None:
    text = MINI.replace(
        "{at: T-00:01:00, name: Built-in hold 1, hold: BIH-1, duration: 10, poll: true}",
        "{at: T-00:01:00, name: Built-in hold 1, hold: BIH-1, duration: 1, poll: true}",
    )
    async with counting(tmp_path, text) as (rig, countdown):
        await countdown.start(actor="tc")
        assert await _until(rig, lambda: countdown.status.poll is not None, 120)
        for position in ("test_conductor", "pad_systems"):
            await countdown.answer_poll(position=position, go=True, actor=position)
        assert await _until(rig, lambda: countdown.t_now() > -10, 120)
        assert countdown.state.name == "TERMINAL_COUNT"
        rig.model.sensor_override("PWR-ET-841", 300.0)
        assert await _until(rig, lambda: countdown.status.hold_reason.startswith("cutoff"), 30)
        assert "LCC-PWR-001" in countdown.status.hold_reason
        assert rig.subsystems["ground_power"].machine_state == "DE_ENERGIZED"
        assert countdown.t_now() < 0  # cut off before T-0


async def test_window_close_scrubs_and_secures(tmp_path: Path) -> None:
    text = MINI.replace("window: {open: 0, close: 900}", "window: {open: 0, close: 150}")
    async with counting(tmp_path, text) as (rig, countdown):
        await countdown.start(actor="tc")
        # The built-in hold (10 s) plus a held poll pushes T-0 past the window close.
        assert await _until(rig, lambda: countdown.state.name == "SECURED", 200)
        assert countdown.status.result.startswith("SCRUBBED: launch window")
        assert rig.subsystems["ground_power"].machine_state == "DE_ENERGIZED"


async def test_a_crashed_sequence_still_safes_the_pad(tmp_path: Path) -> None:
    async with counting(tmp_path) as (rig, countdown):
        await countdown.start(actor="tc")
        power = rig.subsystems["ground_power"]
        assert await _until(rig, lambda: power.machine_state == "ON_EXTERNAL", 60)

        async def broken_step() -> None:
            raise RuntimeError("sequence bug")

        countdown.step = broken_step  # type: ignore[method-assign]
        assert await _until(rig, lambda: countdown.status.result.startswith("CRASHED"), 30)
        assert power.machine_state == "DE_ENERGIZED"
        assert "countdown_crashed" in await rig.journal_kinds()


async def test_a_restarted_padctl_comes_up_holding_and_never_resumes_by_itself(
    tmp_path: Path,
) -> None:
    async with counting(tmp_path) as (rig, countdown):
        await countdown.start(actor="tc")
        assert await _until(rig, lambda: countdown.t_now() > -95, 60)
        await countdown.stop()  # padctl dies (the task is gone, the journal remains)
        t_at_death = countdown.t_now()
        sequence = countdown.sequence
        reborn = Countdown(
            sequence=sequence,
            subsystems=rig.subsystems,
            plant=rig.plant,
            clock=rig.clock,
            context=rig.context,
        )
        entries = await rig.journal.entries(kinds=["countdown_state", "countdown_event"])
        try:
            assert await reborn.recover(entries)
            assert reborn.state.name == "HOLDING"
            assert reborn.status.hold_reason == "padctl restarted during COUNTING: holding"
            assert -110 <= reborn.t_now() <= t_at_death  # the last journaled point, not later
            assert reborn.events.next_index == 1  # the events already run are not run again
            t_before = reborn.t_now()
            await rig.clock.sleep(5)
            assert reborn.t_now() == t_before and reborn.state.name == "HOLDING"
            with pytest.raises(CountdownRefused, match="GO/NO-GO poll incomplete"):
                await reborn.resume(actor="tc")
        finally:
            await reborn.stop()


def test_malformed_sequences_are_rejected_with_lines(tmp_path: Path) -> None:
    from padctl.definition import load_pad_definition

    definition = load_pad_definition()
    text = (
        MINI.replace("ground_power.energize", "ground_power.explode")
        .replace("{at: T-00:01:30, name: Power check", "{at: T-00:01:55, name: Power check")
        .replace("PWR-ET-842 >= 27", "PWR-ET-999 >= 27")
        .replace("poll: true", "poll: false")
    )
    path = write_definition(tmp_path, text, "bad.yaml")
    with pytest.raises(SequenceError) as caught:
        load_sequence(path, profile="full", definition=definition, specs=ALL_SPECS)
    problems = "\n".join(caught.value.problems)
    lines = text.splitlines()

    def line_of(needle: str) -> int:
        return next(n for n, line in enumerate(lines, 1) if needle in line)

    assert (
        f"{path}:{line_of('explode')}: subsystem ground_power has no command 'explode'" in problems
    )
    assert f"{path}:{line_of('Power check')}: 'Power check' at T-00:01:55 is before" in problems
    assert "no tag 'PWR-ET-999'" in problems
    assert "no built-in hold with a GO/NO-GO poll" in problems
    with pytest.raises(SequenceError, match="no profile 'moon'"):
        load_sequence(
            write_definition(tmp_path, MINI, "ok.yaml"),
            profile="moon",
            definition=definition,
            specs=ALL_SPECS,
        )
