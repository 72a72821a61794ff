"""The clock the journal reads, and how its rows write time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class JournalClock(Protocol):
    """The part of padctl's clock (`padctl.clock.ScaledClock`) the journal needs."""

    def now(self) -> float:
        """Current clock time, seconds."""
        ...

    def wall_now(self) -> float:
        """Current UTC time as this clock shows it, seconds since the Unix epoch."""
        ...


def read_clock(clock: JournalClock) -> tuple[float, str]:
    """Clock seconds and UTC ISO-8601 wall time (with microseconds) of one instant."""
    t_clock_s = clock.now()
    t_wall = datetime.fromtimestamp(clock.wall_now(), tz=UTC).isoformat(timespec="microseconds")
    return t_clock_s, t_wall
