"""The rate in effect: a scaled clock never runs faster than its wire can keep up with.

A simulation at rate N saves wall time; it must not change the outcome. Two things bound
the rate that is safe, and the `Pace` holds the clock to the lower of them:

- **the tightest timing window in play**: it must hold, in wall time, a margin of wire
  latencies. An OBSERVE window (a launch commit criterion's persistence in the terminal count)
  holds two sampling intervals (the slower of the poll and the PLC scan, plus the loop's lag),
  so a persistence is judged on more than one sample. A COMMAND window (a command's feedback
  timeout, an event's `within_s`) holds three command round trips (a write, a PLC scan to act
  on it, and a sample of the result), so the wire's share of the window stays a third;
- **the loop's measured lag**: a deadline (a timed event, the end of a built-in hold, the
  terminal count's start) may be met late by the lag; at rate N that is N times as many clock
  seconds, and must stay within `EVENT_TOLERANCE_S`. The count opens a DEADLINE window as a
  deadline comes near, so the clock slows for the approach only. Between deadlines the lag
  only bounds how much of the pad one stall may hide (`UNSEEN_TOLERANCE_S`): a six-hour
  count's long quiet stretches need not run at the pace of its timed moments.

The requested rate is what a person asked for (the CLI's `--rate`, an instructor); the
rate in effect is the requested rate or less, stepped down a ladder of round numbers so it
changes seldom. Real time and slower (a requested rate of 1 or less) is never changed.
"""

from __future__ import annotations

import asyncio
import enum
import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import structlog

log = structlog.get_logger()

EVENT_TOLERANCE_S = 1.0  # clock seconds a deadline may be met late by the loop's lag
UNSEEN_TOLERANCE_S = 5.0  # clock seconds of the pad one loop stall may hide between deadlines
LAG_FLOOR_WALL_S = 0.002  # timer and scheduling jitter counted even on an idle loop
DEFAULT_WRITE_WALL_S = 0.005  # until writes have been measured
RAISE_AFTER_WALL_S = 0.5  # a higher rate only once allowed this long (a lower one at once)
_STEPS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


class Window(enum.Enum):
    """What a timing window waits on, and so how many wire latencies it must hold."""

    OBSERVE = 2.0  # a change to be seen: sampling intervals
    COMMAND = 3.0  # a command's effect to be seen: command round trips
    DEADLINE = 1.0  # a moment to be met (window_s is its tolerance): the loop's lag, once


@dataclass(frozen=True)
class RateChange:
    rate: float  # in effect from now on
    requested: float
    reason: str  # what limits it ("" when it is the requested rate)


def ladder_floor(rate: float) -> float:
    """The largest round number (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten)
    at or below `rate` (rates below 1 are returned as they are)."""
    if rate < 1.0:
        return rate
    decade = 10.0 ** math.floor(math.log10(rate))
    best = decade
    for step in _STEPS:
        if step * decade <= rate * (1 + 1e-9):
            best = step * decade
    return best


class Pace:
    """Holds a scaled clock at the requested rate, or lower while the wire could not keep up.

    Parts of padctl that have a timing window in play `open_window` it and `close_window`
    when it is over; the plant reports its poll period and measured write latency, the loop
    monitor its lag. Each change of the rate in effect goes to the listeners (the journal
    and the console).
    """

    def __init__(
        self,
        clock: object,
        *,
        poll_wall_s: float,
        scan_wall_s: float = 0.0,
        requested_rate: float | None = None,
    ) -> None:
        """`poll_wall_s`: padctl's slowest poll; `scan_wall_s`: the slowest PLC program cycle."""
        self._clock = clock
        self._settable = callable(getattr(clock, "set_rate", None))
        rate = float(getattr(clock, "rate", 1.0))
        self._requested = rate if requested_rate is None else requested_rate
        self._poll_wall_s = poll_wall_s
        self._scan_wall_s = scan_wall_s
        self._write_wall_s = DEFAULT_WRITE_WALL_S
        self._lag_wall_s = 0.0
        self._windows: dict[Hashable, tuple[float, str, Window]] = {}
        self._listeners: list[Callable[[RateChange], None]] = []
        self._raise_due_wall_s: float | None = None
        self._refresh_handle: asyncio.TimerHandle | None = None
        self.reason = ""
        self.lowest_rate = rate
        if self._settable and rate != self._requested:
            self._apply(self._requested, "")

    # ---- what a person asked for -----------------------------------------------------------
    @property
    def requested_rate(self) -> float:
        return self._requested

    @property
    def rate(self) -> float:
        """The rate in effect now."""
        return float(getattr(self._clock, "rate", 1.0))

    def request(self, rate: float) -> float:
        """Ask for a new rate (0 pauses); returns the rate in effect."""
        if rate < 0 or not math.isfinite(rate):
            raise ValueError(f"a clock rate must be a finite number >= 0, got {rate}")
        self._requested = float(rate)
        self.refresh(now=True)
        return self.rate

    def add_listener(self, listener: Callable[[RateChange], None]) -> Callable[[], None]:
        """Call `listener` with every change of the rate in effect; returns a remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def close(self) -> None:
        """No more scheduled refreshes (the plant stops)."""
        handle, self._refresh_handle = self._refresh_handle, None
        if handle is not None:
            handle.cancel()

    # ---- what limits it ------------------------------------------------------------------------
    def open_window(
        self, key: Hashable, window_s: float, what: str, kind: Window = Window.COMMAND
    ) -> None:
        """A timing window of `window_s` clock seconds is in play until `close_window(key)`."""
        if window_s > 0 and math.isfinite(window_s):
            self._windows[key] = (window_s, what, kind)
            self.refresh()

    def close_window(self, key: Hashable) -> None:
        """The window is over: the rate it held down comes back at once (a window's end is
        known, not noise, unlike a lag that eases)."""
        if self._windows.pop(key, None) is not None:
            self.refresh(now=True)

    @property
    def windows_in_play(self) -> list[str]:
        """What each open timing window is (as `open_window` was told)."""
        return [what for _window_s, what, _kind in self._windows.values()]

    def note_write(self, duration_wall_s: float) -> None:
        """A write's round trip (wall seconds): the estimate follows the slow ones quickly."""
        if duration_wall_s > self._write_wall_s:
            self._write_wall_s = duration_wall_s
        else:
            self._write_wall_s += (duration_wall_s - self._write_wall_s) * 0.05

    def note_lag(self, lag_wall_s: float) -> None:
        """The loop's recent lag (wall seconds, a high percentile)."""
        self._lag_wall_s = max(0.0, lag_wall_s)
        self.refresh()

    @property
    def sample_wall_s(self) -> float:
        """How far apart fresh samples of the plant arrive (wall seconds)."""
        return max(self._poll_wall_s, self._scan_wall_s) + max(self._lag_wall_s, LAG_FLOOR_WALL_S)

    @property
    def command_wall_s(self) -> float:
        """A command's round trip: the write, a PLC scan to act on it, a sample of the result."""
        return self._write_wall_s + self._scan_wall_s + self.sample_wall_s

    def cap(self) -> tuple[float, str]:
        """The highest rate the wire keeps up with now, and what sets it."""
        lag_s = max(self._lag_wall_s, LAG_FLOOR_WALL_S)
        lag = f"loop lag {lag_s * 1000:.1f} ms"
        cap, reason = UNSEEN_TOLERANCE_S / lag_s, lag
        latencies_s = {
            Window.OBSERVE: self.sample_wall_s,
            Window.COMMAND: self.command_wall_s,
            Window.DEADLINE: lag_s,
        }
        for window_s, what, kind in self._windows.values():
            window_cap = window_s / (kind.value * latencies_s[kind])
            if window_cap < cap:
                limit = lag if kind is Window.DEADLINE else f"{window_s:g} s"
                cap, reason = window_cap, f"{what} ({limit})"
        return cap, reason

    def refresh(self, *, now: bool = False) -> None:
        """Set the rate in effect from the request and the cap. A lower rate applies at once;
        a higher one only once the cap has allowed it for `RAISE_AFTER_WALL_S` (or `now`)."""
        requested = self._requested
        if requested <= 1.0:
            self._apply(requested, "")
            return
        cap, reason = self.cap()
        rate, why = (requested, "") if cap >= requested else (max(1.0, ladder_floor(cap)), reason)
        if rate <= self.rate or now:
            self._raise_due_wall_s = None
            self._apply(rate, why)
            return
        wall_s = time.monotonic()
        if self._raise_due_wall_s is None:
            self._raise_due_wall_s = wall_s + RAISE_AFTER_WALL_S
            self._schedule_refresh(RAISE_AFTER_WALL_S)
        elif wall_s >= self._raise_due_wall_s:
            self._raise_due_wall_s = None
            self._apply(rate, why)

    def _schedule_refresh(self, delay_wall_s: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._refresh_handle is not None:
            self._refresh_handle.cancel()
        self._refresh_handle = loop.call_later(delay_wall_s + 0.001, self.refresh)

    def _apply(self, rate: float, reason: str) -> None:
        if not self._settable or rate == self.rate:
            self.reason = reason if rate != self._requested else ""
            return
        self._clock.set_rate(rate)  # type: ignore[attr-defined]
        self.reason = reason
        if self._requested > 1.0 and rate > 0:
            self.lowest_rate = min(self.lowest_rate, rate)
        change = RateChange(rate=rate, requested=self._requested, reason=reason)
        log.info("rate_in_effect", rate=rate, requested=self._requested, reason=reason)
        for listener in list(self._listeners):
            listener(change)
