"""The count's two clocks: T (stopped in holds) and L (from the start, never stopped)."""

from __future__ import annotations

from padctl.clock import Clock


class CountClocks:
    """T and L on a `Clock` (clock seconds). T is the count's own time, relative to T-0: it
    runs while counting and stands still in a hold. L is the time since the count started."""

    def __init__(self, clock: Clock, start_t_s: float) -> None:
        self._clock = clock
        self._t_stopped_s = start_t_s  # T when it last stopped (or was set)
        self._t_anchor_s: float | None = None  # clock time when T last started running
        self._l_start_s: float | None = None  # clock time when the count started

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

    def l_now(self) -> float:
        return 0.0 if self._l_start_s is None else self._clock.now() - self._l_start_s

    def start_t(self) -> None:
        """T runs on from where it stands."""
        if self._t_anchor_s is None:
            self._t_anchor_s = self._clock.now()

    def stop_t(self) -> None:
        """T stands where it is."""
        self._t_stopped_s = self.t_now()
        self._t_anchor_s = None

    def set_t(self, t_s: float, *, running: bool = False) -> None:
        """T to `t_s` (a recycle, a recovery, a checkpoint), running from now or stopped."""
        self._t_stopped_s = t_s
        self._t_anchor_s = self._clock.now() if running else None

    def start_l(self, *, l_s: float = 0.0) -> None:
        """L runs from `l_s` now (0 at the start of a count; more after a recovery)."""
        self._l_start_s = self._clock.now() - l_s

    def clear_l(self) -> None:
        self._l_start_s = None
