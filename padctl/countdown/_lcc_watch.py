"""The launch commit criteria as a running count watches them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from padctl.alarms import AlarmManager
from padctl.countdown._lcc import Criterion, LccAction, LccMonitor, Violation
from padctl.countdown._lcc_alarms import DisqualificationAlarms
from padctl.pace import Window
from padctl.plant import Plant

PACE_WINDOW = "lcc"


class LccWatch:
    """Judges the criteria on the plant's samples for the countdown engine.

    - A change of any tag a criterion reads sets `wake` at once: the reaction time is the
      PLC's poll period, not the engine's tick.
    - The members of a redundant set that a criterion voted without are alarmed.
    - In the terminal count, where a breach cuts off, the shortest persistence in play is a
      timing window for the rate governor, so each persistence is judged on more than one
      sample.
    """

    def __init__(
        self,
        criteria: tuple[Criterion, ...],
        *,
        plant: Plant,
        alarms: AlarmManager | None,
        wake: asyncio.Event,
    ) -> None:
        self._monitor = LccMonitor(criteria, plant.read)
        self._disqualification_alarms = DisqualificationAlarms(alarms, criteria)
        self._pace = plant.pace
        self._wake = wake
        self._tags = {tag for criterion in criteria for tag in criterion.tags}
        self._remove_listener = plant.table.add_listener(self._on_tags_changed)

    def reason_to_stop(self, *, t_s: float, now_s: float) -> tuple[str, bool] | None:
        """The first persistent violation at T-time `t_s` as a reason to stop the count, and
        whether it cuts off (an AUTO criterion) rather than holds; None when all hold. The
        members of redundant sets voted without are alarmed."""
        violations = self._monitor.evaluate(t_s=t_s, now_s=now_s)
        self._disqualification_alarms.update(self._monitor.disqualified)
        if not violations:
            return None
        criterion, reason = violations[0].criterion, violations[0].reason
        return f"LCC {criterion.id} {criterion.name}: {reason}", criterion.action is LccAction.AUTO

    def violations(self, *, t_s: float, now_s: float) -> list[Violation]:
        """The persistent violations at T-time `t_s` (a check before a resume)."""
        return self._monitor.evaluate(t_s=t_s, now_s=now_s)

    def pace(self, *, t_s: float, terminal_count: bool) -> None:
        """Tell the rate governor the shortest persistence of the cutting-off criteria active
        at `t_s`, in the terminal count; outside it, no window."""
        windows: Sequence[float] = ()
        if terminal_count:
            windows = [
                criterion.persistence_s
                for criterion in self._monitor.criteria
                if criterion.persistence_s > 0
                and criterion.action is LccAction.AUTO
                and criterion.active_at(t_s)
            ]
        if windows:
            self._pace.open_window(PACE_WINDOW, min(windows), "LCC persistence", Window.OBSERVE)
        else:
            self._pace.close_window(PACE_WINDOW)

    def close(self) -> None:
        """No more wake-ups and no window (the count stops)."""
        self._pace.close_window(PACE_WINDOW)
        self._remove_listener()
        self._remove_listener = lambda: None

    def _on_tags_changed(self, names: Sequence[str]) -> None:
        if not self._wake.is_set() and any(name in self._tags for name in names):
            self._wake.set()
