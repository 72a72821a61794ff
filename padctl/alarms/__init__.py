"""Alarms after ISA-18.2: priorities, acknowledge, shelve, suppression by design, service."""

from padctl.alarms._manager import AlarmError, AlarmManager, AlarmView
from padctl.alarms._model import (
    ALARM_TRANSITIONS,
    AlarmDefinition,
    AlarmKind,
    AlarmPriority,
    AlarmState,
)

__all__ = [
    "ALARM_TRANSITIONS",
    "AlarmDefinition",
    "AlarmError",
    "AlarmKind",
    "AlarmManager",
    "AlarmPriority",
    "AlarmState",
    "AlarmView",
]
