"""Countdown checkpoints: the count's clocks, next event, state and hold, to come back to.

A checkpoint is plain data (it survives JSON), so a training run can start from one taken
on an earlier run, and an instructor can jump back to one taken at a built-in hold. Events
are found again by name (then by T-time), so a checkpoint outlives small sequence edits.

What a restore brings back: the state (COUNTING, HOLDING, ...), the T clock (its reading,
running or stopped), the L clock (its reading; it runs on from there), the next event, the
events under way with the commands they had still to give, the hold (reason, built-in hold
and the time it has left, the GO/NO-GO poll and its answers, whether it may be resumed),
the launch window's pending scrub, and the pad context flags.

What it does not: a command in flight when the checkpoint was taken is not given again (its
event goes on to its expectations), commands that had faulted are forgotten, the timeline
keeps its past lines (a RESTORED line marks the jump), and the LCC persistence timers start
afresh. The pad itself (plant, subsystems) is the caller's to put back, inside `halt_count`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from padctl.countdown._events import RunningEvent
from padctl.countdown._sequence import CountdownSequence, Event
from padctl.countdown._tclock import format_t_time
from padctl.countdown._timeline import CountdownRefused, CountState, Poll

if TYPE_CHECKING:
    from padctl.countdown._engine import Countdown

CHECKPOINT_FORMAT = 1
S = CountState


@dataclass(frozen=True)
class RunningRecord:
    """An event under way: its index in the sequence and what it had still to do."""

    event: int
    pending: int  # commands not yet given (the last ones of the event's `do`)
    waiting: bool  # still waiting for its `wait_for` conditions
    name: str = ""


@dataclass(frozen=True)
class CountdownCheckpoint:
    """Everything of a count that a restore brings back (see the module's docstring)."""

    sequence: str
    profile: str
    state: str
    t_s: float
    t_running: bool
    l_s: float
    l_started: bool
    next_event: int
    next_event_name: str
    running: tuple[RunningRecord, ...] = ()
    hold_reason: str = ""
    hold_id: str | None = None
    hold_remaining_s: float | None = None
    poll_positions: tuple[str, ...] | None = None
    poll_answers: dict[str, bool] = field(default_factory=dict)
    resumable: bool = True
    result: str = ""
    pending_scrub: str = ""
    flags: dict[str, bool] = field(default_factory=dict)
    format: int = CHECKPOINT_FORMAT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CountdownCheckpoint:
        """A checkpoint from `to_json` data; ValueError naming what does not fit."""
        if data.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"countdown checkpoint format {data.get('format')!r} is not 1")
        try:
            fields = dict(data)
            fields["running"] = tuple(RunningRecord(**item) for item in data.get("running", ()))
            positions = data.get("poll_positions")
            fields["poll_positions"] = None if positions is None else tuple(positions)
            checkpoint = cls(**fields)
        except TypeError as error:
            raise ValueError(f"not a countdown checkpoint: {error}") from None
        if checkpoint.state not in S.__members__:
            raise ValueError(f"countdown checkpoint: unknown state {checkpoint.state!r}")
        return checkpoint

    @property
    def count_state(self) -> CountState:
        return CountState[self.state]


def take_checkpoint(countdown: Countdown) -> CountdownCheckpoint:
    """The count as it is now (take it with the clock paused to have it match the pad)."""
    events = countdown.sequence.events
    now_s = countdown.clock.now()
    running = []
    for under_way in countdown.events.running:
        index = next(i for i, event in enumerate(events) if event is under_way.event)
        running.append(
            RunningRecord(index, len(under_way.pending), under_way.waiting, under_way.event.name)
        )
    upcoming = countdown.next_event()
    poll = countdown.status.poll
    hold_until_s = countdown.status.hold_until_s
    return CountdownCheckpoint(
        sequence=countdown.sequence.name,
        profile=countdown.sequence.profile,
        state=countdown.machine_state,
        t_s=countdown.t_now(),
        t_running=countdown.clocks.t_running,
        l_s=countdown.l_now(),
        l_started=countdown.clocks.l_started,
        next_event=countdown.events.next_index,
        next_event_name="" if upcoming is None else upcoming.name,
        running=tuple(running),
        hold_reason=countdown.status.hold_reason,
        hold_id=countdown.status.hold_id,
        hold_remaining_s=None if hold_until_s is None else max(0.0, hold_until_s - now_s),
        poll_positions=None if poll is None else poll.positions,
        poll_answers={} if poll is None else dict(poll.answers),
        resumable=countdown.status.resumable,
        result=countdown.status.result,
        pending_scrub=countdown.status.pending_scrub,
        flags=dict(countdown.context.flags),
    )


async def restore_checkpoint(
    countdown: Countdown, checkpoint: CountdownCheckpoint, *, actor: str, label: str = ""
) -> None:
    """Put the count back as `checkpoint` has it; call inside `halt_count`."""
    sequence = countdown.sequence
    if (checkpoint.sequence, checkpoint.profile) != (sequence.name, sequence.profile):
        raise CountdownRefused(
            "restore",
            f"checkpoint of {checkpoint.sequence} ({checkpoint.profile}), "
            f"not of {sequence.name} ({sequence.profile})",
        )
    events = sequence.events
    now_s = countdown.clock.now()
    countdown.machine_state = checkpoint.state
    countdown.clocks.set_t(checkpoint.t_s, running=checkpoint.t_running)
    if checkpoint.l_started:
        countdown.clocks.start_l(l_s=checkpoint.l_s)
    else:
        countdown.clocks.clear_l()
    countdown.events.next_index = _event_index(
        sequence, checkpoint.next_event, checkpoint.next_event_name, checkpoint.t_s
    )
    countdown.events.running = [
        _running_event(events[index], record)
        for record in checkpoint.running
        if (index := _event_index(sequence, record.event, record.name, None)) < len(events)
    ]
    countdown.events.tickets = []
    countdown.events.faulted = []
    countdown.status.hold_reason = checkpoint.hold_reason
    countdown.status.hold_id = checkpoint.hold_id
    remaining_s = checkpoint.hold_remaining_s
    countdown.status.hold_until_s = None if remaining_s is None else now_s + remaining_s
    positions = checkpoint.poll_positions
    countdown.status.poll = (
        None if positions is None else Poll(tuple(positions), dict(checkpoint.poll_answers))
    )
    countdown.status.resumable = checkpoint.resumable
    countdown.status.result = checkpoint.result
    countdown.status.pending_scrub = checkpoint.pending_scrub
    for flag, value in checkpoint.flags.items():
        countdown.context.set(flag, value)
    if checkpoint.count_state is S.SECURED:
        countdown.status.done.set()
    else:
        countdown.status.done.clear()
    where = f"checkpoint {label} " if label else "a checkpoint "
    countdown.record.emit(
        "RESTORED", f"count restored to {where}at {format_t_time(checkpoint.t_s)} by {actor}"
    )
    await countdown.record.journal(
        "countdown_state",
        {"trigger": "restore", "reason": checkpoint.hold_reason, "checkpoint": label},
        actor,
    )


def _event_index(sequence: CountdownSequence, index: int, name: str, t_s: float | None) -> int:
    """Where an event of the checkpoint is in the sequence now: at its index if it is still
    there, else by its name; else (an edited sequence) the first event after `t_s`."""
    events = sequence.events
    if index < len(events) and events[index].name == name:
        return index
    found = [i for i, event in enumerate(events) if event.name == name]
    if found:
        return found[0]
    if t_s is None:
        return len(events)
    return next((i for i, event in enumerate(events) if event.t_s > t_s), len(events))


def _running_event(event: Event, record: RunningRecord) -> RunningEvent:
    left = event.actions[len(event.actions) - record.pending :] if record.pending else ()
    return RunningEvent(event, deque(left), None, record.waiting)
