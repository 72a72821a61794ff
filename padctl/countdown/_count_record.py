"""What a count leaves behind: its timeline for people, its journal rows for the audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from padctl.countdown._count_clocks import CountClocks
from padctl.countdown._tclock import format_t_time
from padctl.countdown._timeline import CountEvent
from padctl.plant import CommandJournal, record_soon

log = structlog.get_logger()


class CountRecord:
    """The timeline (`CountEvent`s: what the console and the CLI show) and the journal rows
    of one count, each stamped with its T and L clocks and its state."""

    def __init__(
        self,
        clocks: CountClocks,
        journal: CommandJournal | None,
        state: Callable[[], str],
        on_event: Callable[[CountEvent], None] | None,
    ) -> None:
        self._clocks = clocks
        self._journal = journal
        self._state = state
        self._on_event = on_event
        self.timeline: list[CountEvent] = []

    def emit(self, kind: str, text: str) -> None:
        """A line of the timeline, now."""
        event = CountEvent(self._clocks.t_now(), self._clocks.l_now(), kind, text)
        self.timeline.append(event)
        log.info("countdown_event", kind=kind, text=text, t=format_t_time(event.t_s))
        if self._on_event is not None:
            self._on_event(event)

    def stamped(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`payload` with the T and L clocks and the count's state."""
        clocks = {"t_s": round(self._clocks.t_now(), 3), "l_s": round(self._clocks.l_now(), 3)}
        return {**clocks, "state": self._state(), **payload}

    async def journal(self, kind: str, payload: dict[str, Any], actor: str = "countdown") -> None:
        """A journal row, written before this returns."""
        if self._journal is not None:
            await self._journal.append(kind, self.stamped(payload), actor=actor)

    def journal_soon(self, kind: str, payload: dict[str, Any], actor: str = "countdown") -> None:
        """A journal row, queued now (stamped now) and written in order."""
        record_soon(self._journal, kind, self.stamped(payload), actor=actor)
