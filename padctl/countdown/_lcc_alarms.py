"""Event alarms for the redundant launch commit criteria: a member voted without is alarmed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from padctl.alarms import AlarmDefinition, AlarmManager, AlarmPriority
from padctl.countdown._lcc import Criterion, LccAction


def disqualification_alarm_id(criterion: Criterion) -> str:
    """The alarm raised while `criterion` votes without a member (`LCC-ERC-003-SENSOR`)."""
    return f"{criterion.id}-SENSOR"


def disqualification_alarm(criterion: Criterion) -> AlarmDefinition:
    """HIGH where a second failure would cut off in the terminal count, MEDIUM for advisory
    (hold-only) criteria: the count goes on, but with the redundancy that kept it going spent."""
    urgent = criterion.action is LccAction.AUTO
    return AlarmDefinition(
        id=disqualification_alarm_id(criterion),
        message=(
            f"{criterion.id} {criterion.name}: a redundant sensor is disqualified "
            f"(min_good {criterion.min_good} of {len(criterion.tags)})"
        ),
        priority=AlarmPriority.HIGH if urgent else AlarmPriority.MEDIUM,
    )


class DisqualificationAlarms:
    """One ISA-18.2 event alarm per redundant criterion (one with `min_good`), raised while the
    LCC monitor reports a member of it disqualified and cleared once every member is back."""

    def __init__(self, alarms: AlarmManager | None, criteria: Iterable[Criterion]) -> None:
        self._alarms = alarms
        redundant = [criterion for criterion in criteria if criterion.min_good is not None]
        self._ids = {criterion.id: disqualification_alarm_id(criterion) for criterion in redundant}
        if alarms is not None:
            alarms.define_all(disqualification_alarm(criterion) for criterion in redundant)

    def update(self, disqualified: Mapping[str, tuple[str, ...]]) -> None:
        """Raise the alarms of criteria with a member disqualified now; clear the others."""
        if self._alarms is None:
            return
        for criterion_id, alarm_id in self._ids.items():
            members = disqualified.get(criterion_id, ())
            self._alarms.set_condition(alarm_id, bool(members), detail="; ".join(members))
