"""Events under way: wait for their conditions, give their commands in turn, prove them.

A mixin of `Countdown` (see `_paths.py` for why the engine is split this way).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from padctl.countdown._paths import CountdownPaths
from padctl.countdown._sequence import Action, Event
from padctl.plant import record_soon
from padctl.procedure import Condition
from padctl.subsystems import CommandRefused, CommandTicket, Origin


@dataclass
class RunningEvent:
    """An event under way: once its `wait_for` conditions hold, its commands are given one
    after another, each once the one before it is confirmed; then its expectations must
    hold. Waiting may last `within_s` of T-time from the event's time."""

    event: Event
    pending: deque[Action]
    ticket: CommandTicket | None = None
    waiting: bool = True  # for `wait_for`, before the first command


class EventRunner(CountdownPaths):
    """Runs the events the T clock has reached (see `RunningEvent`)."""

    _tickets: list[tuple[str, CommandTicket]]
    _wake: asyncio.Event

    def _stamped(self, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _unmet(self, conditions: tuple[Condition, ...]) -> list[str]:
        read = self._plant.read
        return [c.describe(read(c.tag)) for c in conditions if not c.holds(read(c.tag))]

    def _begin(self, event: Event) -> None:
        self._emit("EVENT", event.name)
        record_soon(
            self._plant.journal,
            "countdown_event",
            self._stamped({"event": event.name, "index": self._next_event - 1}),
            actor="countdown",
        )
        self._running.append(RunningEvent(event, deque(event.actions)))

    async def _advance(self, running: RunningEvent) -> tuple[str, bool] | None:
        """Take an event as far as it can go now; a reason to stop the count, or None."""
        event = running.event
        if running.ticket is not None:
            if not running.ticket.outcome.done():
                return None
            if running.ticket.outcome.result() != "confirmed":
                # The fault has held (or cut off) the count already; what was left of this
                # event is not done by itself after a resume.
                self._running.remove(running)
                left = ", ".join(f"{a.subsystem}.{a.command}" for a in running.pending)
                self._emit("ABANDONED", f"{event.name}" + (f" (not done: {left})" if left else ""))
                return None
            running.ticket = None
        if running.waiting:
            unmet = self._unmet(event.wait_for)
            if unmet:
                if self.t_now() < event.t_s + event.within_s:
                    return None
                self._running.remove(running)
                return f"{event.name}: waited for " + "; ".join(unmet), True
            running.waiting = False
        while running.pending:
            action = running.pending.popleft()
            try:
                ticket = await self.subsystems[action.subsystem].command(
                    action.command, actor="countdown", origin=Origin.SEQUENCE
                )
            except CommandRefused as refused:
                self._running.remove(running)
                return f"{event.name}: {refused}", True
            self._tickets.append((f"{action.subsystem}.{action.command}", ticket))
            ticket.outcome.add_done_callback(lambda _f: self._wake.set())
            self._emit("COMMAND", f"{action.subsystem}.{action.command}")
            if not ticket.outcome.done() or ticket.outcome.result() != "confirmed":
                running.ticket = ticket
                return None
        unmet = self._unmet(event.expect)
        if unmet:
            if self.t_now() < event.t_s + event.within_s:
                return None
            self._running.remove(running)
            return f"{event.name}: expected " + "; ".join(unmet), True
        self._running.remove(running)
        if event.hold_id is not None:
            await self._hold(f"built-in hold {event.hold_id}", built_in=event)
        return None
