"""The sequence's timed events: which comes next, which are under way, what they commanded.

Events under way wait for their conditions, give their commands in turn, and prove them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from padctl.countdown._count_clocks import CountClocks
from padctl.countdown._count_record import CountRecord
from padctl.countdown._sequence import Action, CountdownSequence, Event
from padctl.plant import Plant
from padctl.procedure import Condition
from padctl.subsystems import CommandRefused, CommandTicket, Origin, Subsystem

StopReason = tuple[str, bool]  # why the count must stop, and whether that cuts off


@dataclass
class RunningEvent:
    """An event under way: once its `wait_for` conditions hold, its commands are given one
    after another, each once the one before it is confirmed; then its expectations must
    hold. Waiting may last `within_s` of T-time from the event's time."""

    event: Event
    pending: deque[Action]
    ticket: CommandTicket | None = None
    waiting: bool = True  # for `wait_for`, before the first command
    action: Action | None = None  # the command `ticket` is for
    since_t_s: float | None = None  # a retried event's T-time of retry (its window restarts)

    @property
    def deadline_t_s(self) -> float:
        """The T-time its waiting ends: `within_s` after the event (or after its retry)."""
        since_t_s = self.event.t_s if self.since_t_s is None else self.since_t_s
        return since_t_s + self.event.within_s


@dataclass
class FaultedStep:
    """An event that stopped the count (a command faulted or was refused, a wait or an
    expectation ran out): a resume must retry it or skip it, with a reason."""

    running: RunningEvent
    reason: str

    @property
    def name(self) -> str:
        return self.running.event.name

    @property
    def not_done(self) -> list[str]:
        return [f"{a.subsystem}.{a.command}" for a in self.running.pending]


class EventRunner:
    """Runs the events the T clock has reached, for the countdown engine.

    `next_index` is the next event of the sequence not begun; `running` the events under way;
    `tickets` the commands they gave, whose faults stop the count until a resume answers
    them; `faulted` the events that stopped the count, each waiting for a retry or a skip.
    A recycle, a recovery or a checkpoint sets these directly.
    """

    def __init__(
        self,
        sequence: CountdownSequence,
        *,
        subsystems: dict[str, Subsystem],
        plant: Plant,
        clocks: CountClocks,
        record: CountRecord,
        wake: asyncio.Event,
    ) -> None:
        self._sequence = sequence
        self._clocks = clocks
        self._subsystems = subsystems
        self._plant = plant
        self._record = record
        self._wake = wake
        self.next_index = 0
        self.running: list[RunningEvent] = []
        self.tickets: list[tuple[str, CommandTicket]] = []
        self.faulted: list[FaultedStep] = []

    def next_event(self) -> Event | None:
        events = self._sequence.events
        return events[self.next_index] if self.next_index < len(events) else None

    def begin_due(self) -> None:
        """Begin every event whose time the T clock has reached, in order."""
        while (event := self.next_event()) is not None and event.t_s <= self._clocks.t_now():
            self.next_index += 1
            self._record.emit("EVENT", event.name)
            self._record.journal_soon(
                "countdown_event", {"event": event.name, "index": self.next_index - 1}
            )
            self.running.append(RunningEvent(event, deque(event.actions)))

    def shortest_within_s(self) -> float | None:
        """The tightest `within_s` of the events under way (a timing window), if any."""
        return min((r.event.within_s for r in self.running if r.event.within_s > 0), default=None)

    def faulted_command(self) -> StopReason | None:
        """A command an event gave that faulted, and has not been answered by a resume."""
        for name, ticket in self.tickets:
            if ticket.outcome.done() and ticket.outcome.result().startswith("fault"):
                owner = next((r for r in self.running if r.ticket is ticket), None)
                if owner is not None:
                    return self._fault(owner, f"{name}: {ticket.outcome.result()}")
                return f"{name}: {ticket.outcome.result()}", True
        return None

    def _fault(self, running: RunningEvent, reason: str) -> StopReason:
        """`running` stopped the count: kept aside, its unconfirmed command first in line,
        until a resume retries or skips it."""
        if running in self.running:
            self.running.remove(running)
        if running.ticket is not None and running.action is not None:
            running.pending.appendleft(running.action)
        running.ticket, running.action = None, None
        self.faulted.append(FaultedStep(running, reason))
        return reason, True

    def retry_faulted(self) -> list[FaultedStep]:
        """The faulted events run again from where they stopped, their window from now."""
        retried, self.faulted = self.faulted, []
        for step in retried:
            step.running.since_t_s = self._clocks.t_now()
            self.running.append(step.running)
        return retried

    def skip_faulted(self) -> list[FaultedStep]:
        """The faulted events are given up: what was left of them is not done."""
        skipped, self.faulted = self.faulted, []
        return skipped

    def forget_answered(self) -> None:
        """A resume answers the faults seen so far: only commands in flight are kept."""
        self.tickets = [(name, t) for name, t in self.tickets if not t.outcome.done()]

    async def advance(self, running: RunningEvent) -> StopReason | Event | None:
        """Take an event as far as it can go now: a reason to stop the count, the event
        itself when it ends in a built-in hold, or None."""
        event = running.event
        if running.ticket is not None:
            if not running.ticket.outcome.done():
                return None
            if running.ticket.outcome.result() != "confirmed":
                name = (
                    f"{running.action.subsystem}.{running.action.command}" if running.action else ""
                )
                return self._fault(running, f"{name}: {running.ticket.outcome.result()}")
            running.ticket = None
        if running.waiting:
            unmet = self._unmet(event.wait_for)
            if unmet:
                if self._clocks.t_now() < running.deadline_t_s:
                    return None
                return self._fault(running, f"{event.name}: waited for " + "; ".join(unmet))
            running.waiting = False
        while running.pending:
            action = running.pending.popleft()
            try:
                ticket = await self._subsystems[action.subsystem].command(
                    action.command, actor="countdown", origin=Origin.SEQUENCE
                )
            except CommandRefused as refused:
                running.pending.appendleft(action)
                return self._fault(running, f"{event.name}: {refused}")
            self.tickets.append((f"{action.subsystem}.{action.command}", ticket))
            ticket.outcome.add_done_callback(lambda _f: self._wake.set())
            self._record.emit("COMMAND", f"{action.subsystem}.{action.command}")
            if not ticket.outcome.done() or ticket.outcome.result() != "confirmed":
                running.ticket, running.action = ticket, action
                return None
        unmet = self._unmet(event.expect)
        if unmet:
            if self._clocks.t_now() < running.deadline_t_s:
                return None
            return self._fault(running, f"{event.name}: expected " + "; ".join(unmet))
        self.running.remove(running)
        return event if event.hold_id is not None else None

    def _unmet(self, conditions: tuple[Condition, ...]) -> list[str]:
        read = self._plant.read
        return [c.describe(read(c.tag)) for c in conditions if not c.holds(read(c.tag))]
