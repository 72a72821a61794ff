"""When the count next wakes, and the timing windows it shows the rate governor.

The engine ticks to time LCC persistences and windows, and wakes exactly at the next moment
it must meet on time (a due moment): a timed event, the terminal count's start, T-0, or the
end of a built-in hold whose poll is all GO. As a due moment comes near, `CountPacing` opens
a DEADLINE window, so a scaled clock slows for the approach only (padctl.pace).
"""

from __future__ import annotations

from typing import NamedTuple

from padctl.countdown._events import EventRunner
from padctl.countdown._lcc_watch import LccWatch
from padctl.countdown._sequence import Event
from padctl.countdown._timeline import RUNNING, CountState, Poll
from padctl.pace import EVENT_TOLERANCE_S, Pace, Window

TICK_S = 0.1  # clock seconds between LCC evaluations ...
TICK_FLOOR_WALL_S = 0.02  # ... and at least a poll's wall time (changed LCC tags and timed
# events wake the engine at once; the tick only times persistence and windows)
DEADLINE_LEAD_WALL_S = 3 * TICK_FLOOR_WALL_S  # a deadline's window opens this far ahead (at
# the requested rate): three ticks, so one late tick still opens it in time
EVENTS_WINDOW = "events"
DEADLINE_WINDOW = "deadline"


class Due(NamedTuple):
    """The next moment the count must meet on time."""

    to_go_s: float  # clock seconds from now
    what: str


def next_due(
    state: CountState,
    *,
    t_now_s: float,
    terminal_count_t_s: float,
    next_event: Event | None,
    hold_remaining_s: float | None,
    poll: Poll | None,
) -> Due | None:
    """The next timed event, the terminal count's start, T-0, or a built-in hold's end (once
    its poll is all GO); None when nothing is due on time."""
    if state is CountState.HOLDING:
        if hold_remaining_s is None or (poll is not None and not poll.all_go):
            return None
        return Due(hold_remaining_s, "built-in hold end")
    if state not in RUNNING:
        return None
    moments = [Due(-t_now_s, "T-0")]
    if state is CountState.COUNTING:
        moments.append(Due(terminal_count_t_s - t_now_s, "terminal count"))
    if next_event is not None:
        moments.append(Due(next_event.t_s - t_now_s, f"event {next_event.name}"))
    soonest = min(moments, key=lambda moment: moment.to_go_s)
    return Due(max(0.0, soonest.to_go_s), soonest.what)


def sleep_until_next(due: Due | None, rate: float) -> tuple[float, float]:
    """Clock seconds (and a wall floor) to sleep: a tick, or exactly to `due` if sooner."""
    if due is not None and rate > 0:
        tick_wall_s = max(TICK_S / rate, TICK_FLOOR_WALL_S)
        if due.to_go_s / rate < tick_wall_s:
            return due.to_go_s, 0.0
    return TICK_S, TICK_FLOOR_WALL_S


class CountPacing:
    """The count's timing windows for the rate governor: the running events' `within_s`, the
    next due moment once it is near, and, in the terminal count, the LCC persistences."""

    def __init__(self, pace: Pace, events: EventRunner, lcc: LccWatch) -> None:
        self._pace = pace
        self._events = events
        self._lcc = lcc

    def show(self, due: Due | None, *, t_s: float, terminal_count: bool) -> None:
        pace = self._pace
        within_s = self._events.shortest_within_s()
        if within_s is not None:
            pace.open_window(EVENTS_WINDOW, within_s, "event within_s")
        else:
            pace.close_window(EVENTS_WINDOW)
        if due is not None and due.to_go_s <= DEADLINE_LEAD_WALL_S * pace.requested_rate:
            pace.open_window(DEADLINE_WINDOW, EVENT_TOLERANCE_S, due.what, Window.DEADLINE)
        else:
            pace.close_window(DEADLINE_WINDOW)
        self._lcc.pace(t_s=t_s, terminal_count=terminal_count)

    def close(self) -> None:
        """No window left open (the count stops)."""
        for window in (EVENTS_WINDOW, DEADLINE_WINDOW):
            self._pace.close_window(window)
        self._lcc.close()
