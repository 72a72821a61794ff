"""The event loop's lag, measured all the time: how late a timer fires.

The loop that scans PLCs, feeds heartbeats, judges the LCC and drives subsystems must never be
starved. This monitor asks the loop for a wake-up every `period_wall_s` and records how late it
came; the station shows the figure in health and on the console, alarms above the limit in the
pad definition, and the rate governor slows a scaled clock by it.
"""

from __future__ import annotations

import collections
import gc
import itertools
from collections.abc import Callable
from typing import Any

import structlog

from padctl.clock import Clock
from padctl.supervisor import Pulse
from padctl.timeouts import STALL_SEEN_WALL_S

log = structlog.get_logger()

PERIOD_WALL_S = 0.02
STALL_LOG_WALL_S = 0.25  # one wake-up this late is logged, with the garbage collector's part
GC_LOG_WALL_S = 0.05  # a collection this long is logged (it stops every thread's Python)
WINDOW = 500  # samples kept: ten seconds at the default period
_start_up_frozen = False
RECENT = 100  # the last two seconds, for the rate governor


class LoopLagMonitor:
    """Keeps the lateness of the last `WINDOW` timer wake-ups (wall seconds).

    Two figures: the 99th percentile over the whole window (the alarm and health: sustained
    lag, not one late wake-up; over 500 samples it is the sixth worst), and the worst of the
    last two seconds (the rate governor: any lag slows a scaled clock at once)."""

    def __init__(self, clock: Clock, *, period_wall_s: float = PERIOD_WALL_S) -> None:
        self._clock = clock
        self._period_wall_s = period_wall_s
        self._recent: collections.deque[float] = collections.deque(maxlen=WINDOW)
        self._listeners: list[Callable[[LoopLagMonitor], None]] = []
        self.max_wall_s = 0.0  # the worst since start
        self.samples = 0
        self._stalls: collections.deque[tuple[float, float]] = collections.deque(maxlen=64)
        self._due_s: float | None = None  # when the pending wake-up is due (clock.monotonic)

    def add_listener(self, listener: Callable[[LoopLagMonitor], None]) -> None:
        self._listeners.append(listener)

    @property
    def p99_wall_s(self) -> float:
        """The 99th percentile of the lateness over the window (wall seconds)."""
        if not self._recent:
            return 0.0
        ordered = sorted(self._recent)
        return ordered[int((len(ordered) - 1) * 0.99)]

    @property
    def recent_max_wall_s(self) -> float:
        """The worst lateness of the last `RECENT` wake-ups (wall seconds)."""
        return max(itertools.islice(reversed(self._recent), RECENT), default=0.0)

    @property
    def last_wall_s(self) -> float:
        return self._recent[-1] if self._recent else 0.0

    def stalled_wall_s(self, since_s: float) -> float:
        """Wall seconds since `since_s` (clock.monotonic) that this loop stood still: the part
        after `since_s` of each wake-up later than `STALL_SEEN_WALL_S`, and of the pending one when
        it is that late already (the loop is waking from a stall this very turn).

        A judge of data age subtracts it, at most once over: data is not stale for a time in
        which padctl itself could not have read it (the LOOP-LAG alarm names that stall)."""
        now_s = self._clock.monotonic()
        stalled_s = 0.0
        for woke_s, lag_s in self._stalls:
            if woke_s > since_s:
                stalled_s += woke_s - max(since_s, woke_s - lag_s)
        due_s = self._due_s
        if due_s is not None and now_s - due_s > STALL_SEEN_WALL_S:
            stalled_s += now_s - max(since_s, due_s)
        return stalled_s

    def record(self, lag_wall_s: float) -> None:
        self._recent.append(lag_wall_s)
        self.samples += 1
        self.max_wall_s = max(self.max_wall_s, lag_wall_s)
        for listener in list(self._listeners):
            listener(self)

    async def run(self, pulse: Pulse) -> None:
        """Measure until cancelled (run it under a supervisor)."""
        clock = self._clock
        collections_seen = _GcWatch(clock)
        gc.callbacks.append(collections_seen)
        try:
            while True:
                asleep_s = clock.monotonic()
                self._due_s = asleep_s + self._period_wall_s
                await clock.wall_sleep(self._period_wall_s)
                woke_s = clock.monotonic()
                self._due_s = None
                lag_s = max(0.0, woke_s - asleep_s - self._period_wall_s)
                if lag_s > STALL_SEEN_WALL_S:
                    self._stalls.append((woke_s, lag_s))
                self.record(lag_s)
                if lag_s >= STALL_LOG_WALL_S:
                    log.warning(
                        "loop_stalled",
                        lag_ms=round(lag_s * 1000, 1),
                        gc_ms_meanwhile=round(collections_seen.paused_since(asleep_s) * 1000, 1),
                    )
                pulse.beat()
        finally:
            self._due_s = None
            gc.callbacks.remove(collections_seen)


def freeze_start_up() -> None:
    """Keep what start-up made (modules, definitions, tables: it lives as long as the process)
    out of the garbage collector's full passes, which stop the control loop for as long as
    they take to walk every object. Once per process; later calls do nothing."""
    global _start_up_frozen
    if not _start_up_frozen:
        gc.collect()
        gc.freeze()
        _start_up_frozen = True


class _GcWatch:
    """Times the garbage collector's pauses (a callback of `gc`, in whichever thread collects),
    so that a stalled loop can say whether a collection stopped it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._started_s: float | None = None
        self._pauses: collections.deque[tuple[float, float]] = collections.deque(maxlen=64)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        now_s = self._clock.monotonic()
        if phase == "start":
            self._started_s = now_s
            return
        if self._started_s is None:
            return
        pause_s, self._started_s = now_s - self._started_s, None
        self._pauses.append((now_s, pause_s))
        if pause_s >= GC_LOG_WALL_S:
            log.warning(
                "gc_pause",
                generation=info.get("generation"),
                pause_ms=round(pause_s * 1000, 1),
                collected=info.get("collected"),
            )

    def paused_since(self, since_s: float) -> float:
        """Wall seconds the collector paused Python since `since_s` (clock.monotonic)."""
        return sum(pause_s for ended_s, pause_s in self._pauses if ended_s >= since_s)
