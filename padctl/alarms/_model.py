"""Alarm definitions and the ISA-18.2 alarm state table."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class AlarmPriority(enum.IntEnum):
    """ISA-18.2 priorities: how soon an operator must act."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    URGENT = 4


class AlarmState(enum.StrEnum):
    NORMAL = "NORMAL"  # condition clear, nothing to acknowledge
    UNACK = "UNACK"  # active, unacknowledged
    ACKED = "ACKED"  # active, acknowledged
    RTN_UNACK = "RTN_UNACK"  # returned to normal, unacknowledged
    SHELVED = "SHELVED"  # hidden by an operator for a time, with a reason
    SUPPRESSED = "SUPPRESSED"  # suppressed by design: meaningless in the current phase
    OUT_OF_SERVICE = "OUT_OF_SERVICE"  # removed from service (maintenance)


class AlarmKind(enum.StrEnum):
    HIGH = "high"  # value above limit
    LOW = "low"  # value below limit
    DISCRETE = "discrete"  # a bool tag equal to `active_value`
    EVENT = "event"  # raised and cleared by code (a fault, an uncommanded change)


_ANNUNCIATED = [AlarmState.NORMAL, AlarmState.UNACK, AlarmState.ACKED, AlarmState.RTN_UNACK]

# The ISA-18.2 state table, as data: (trigger, sources, destination).
ALARM_TRANSITIONS: list[dict[str, object]] = [
    {
        "trigger": "activate",
        "source": [AlarmState.NORMAL, AlarmState.RTN_UNACK],
        "dest": AlarmState.UNACK,
    },
    {"trigger": "clear", "source": AlarmState.UNACK, "dest": AlarmState.RTN_UNACK},
    {"trigger": "clear", "source": AlarmState.ACKED, "dest": AlarmState.NORMAL},
    {"trigger": "acknowledge", "source": AlarmState.UNACK, "dest": AlarmState.ACKED},
    {"trigger": "acknowledge", "source": AlarmState.RTN_UNACK, "dest": AlarmState.NORMAL},
    {"trigger": "shelve", "source": _ANNUNCIATED, "dest": AlarmState.SHELVED},
    {"trigger": "unshelve", "source": AlarmState.SHELVED, "dest": AlarmState.NORMAL},
    {"trigger": "suppress", "source": _ANNUNCIATED, "dest": AlarmState.SUPPRESSED},
    {"trigger": "unsuppress", "source": AlarmState.SUPPRESSED, "dest": AlarmState.NORMAL},
    {
        "trigger": "remove_from_service",
        "source": [*_ANNUNCIATED, AlarmState.SHELVED, AlarmState.SUPPRESSED],
        "dest": AlarmState.OUT_OF_SERVICE,
    },
    {
        "trigger": "return_to_service",
        "source": AlarmState.OUT_OF_SERVICE,
        "dest": AlarmState.NORMAL,
    },
]


@dataclass(frozen=True)
class AlarmDefinition:
    """One alarm: what raises it, how urgent it is, and what keeps it from chattering."""

    id: str
    message: str
    priority: AlarmPriority
    kind: AlarmKind = AlarmKind.EVENT
    tag: str | None = None
    limit: float | None = None
    deadband: float = 0.0  # a HIGH clears below limit - deadband, a LOW above limit + deadband
    on_delay_s: float = 0.0  # the condition must hold this long before the alarm activates
    off_delay_s: float = 0.0  # and be clear this long before it clears
    active_value: bool = True  # for DISCRETE
    suppressed_in: frozenset[str] = field(default_factory=frozenset)  # phases

    def __post_init__(self) -> None:
        if self.kind in (AlarmKind.HIGH, AlarmKind.LOW) and (
            self.tag is None or self.limit is None
        ):
            raise ValueError(f"alarm {self.id}: a {self.kind.value} alarm needs a tag and a limit")
        if self.kind is AlarmKind.DISCRETE and self.tag is None:
            raise ValueError(f"alarm {self.id}: a discrete alarm needs a tag")
        if self.deadband < 0 or self.on_delay_s < 0 or self.off_delay_s < 0:
            raise ValueError(f"alarm {self.id}: deadband and delays must be >= 0")
