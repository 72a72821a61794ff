"""The count's two clocks: T (stopped in holds) and L (from the start, never stopped)."""

from __future__ import annotations

from bisect import bisect_right

from padctl.clock import Clock

MAX_TRACK_POINTS = 10_000  # T's starts, stops and settings kept to read T at a past moment


class CountClocks:
    """T and L on a `Clock` (clock seconds). T is the count's own time, relative to T-0: it
    runs while counting and stands still in a hold. L is the time since the count started."""

    def __init__(self, clock: Clock, start_t_s: float) -> None:
        self._clock = clock
        self._t_stopped_s = start_t_s  # T when it last stopped (or was set)
        self._t_anchor_s: float | None = None  # clock time when T last started running
        self._l_start_s: float | None = None  # clock time when the count started
        # (clock s, T s, running) at every start, stop or setting of T: T at any past moment.
        self._track: list[tuple[float, float, bool]] = [(clock.now(), start_t_s, False)]

    @property
    def t_running(self) -> bool:
        return self._t_anchor_s is not None

    @property
    def l_started(self) -> bool:
        return self._l_start_s is not None

    def t_now(self) -> float:
        if self._t_anchor_s is None:
            return self._t_stopped_s
        return self._t_stopped_s + (self._clock.now() - self._t_anchor_s)

    def t_at(self, clock_s: float) -> float | None:
        """T as it read at clock time `clock_s` (None before these clocks were made)."""
        index = bisect_right(self._track, clock_s, key=lambda point: point[0]) - 1
        if index < 0:
            return None
        at_s, t_s, running = self._track[index]
        return t_s + (clock_s - at_s) if running else t_s

    def _mark(self) -> None:
        self._track.append((self._clock.now(), self.t_now(), self.t_running))
        if len(self._track) > MAX_TRACK_POINTS:
            del self._track[: len(self._track) - MAX_TRACK_POINTS]

    def l_now(self) -> float:
        return 0.0 if self._l_start_s is None else self._clock.now() - self._l_start_s

    def start_t(self) -> None:
        """T runs on from where it stands."""
        if self._t_anchor_s is None:
            self._t_anchor_s = self._clock.now()
            self._mark()

    def stop_t(self) -> None:
        """T stands where it is."""
        self._t_stopped_s = self.t_now()
        self._t_anchor_s = None
        self._mark()

    def set_t(self, t_s: float, *, running: bool = False) -> None:
        """T to `t_s` (a recycle, a recovery, a checkpoint), running from now or stopped."""
        self._t_stopped_s = t_s
        self._t_anchor_s = self._clock.now() if running else None
        self._mark()

    def start_l(self, *, l_s: float = 0.0) -> None:
        """L runs from `l_s` now (0 at the start of a count; more after a recovery)."""
        self._l_start_s = self._clock.now() - l_s

    def clear_l(self) -> None:
        self._l_start_s = None
