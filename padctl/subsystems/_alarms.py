"""The event alarms every subsystem raises: its fault, a safing not proven, an uncommanded
change. Their ids are `SUBSYSTEM-SUFFIX` (LOX_LOADING-FAULT); this is the one place that
builds and reads them."""

from __future__ import annotations

import enum

from padctl.alarms import AlarmDefinition, AlarmKind, AlarmManager, AlarmPriority


class SubsystemAlarm(enum.StrEnum):
    FAULT = "FAULT"
    SAFING_FAILED = "SAFING-FAILED"
    UNCOMMANDED = "UNCOMMANDED"


_MESSAGE_AND_PRIORITY = {
    SubsystemAlarm.FAULT: ("FAULT", AlarmPriority.HIGH),
    SubsystemAlarm.SAFING_FAILED: (": safing not proven", AlarmPriority.URGENT),
    SubsystemAlarm.UNCOMMANDED: (": uncommanded change", AlarmPriority.HIGH),
}


def subsystem_alarm_id(subsystem: str, alarm: SubsystemAlarm) -> str:
    """The id of one of a subsystem's event alarms (lox_loading, FAULT: LOX_LOADING-FAULT)."""
    return f"{subsystem.upper()}-{alarm.value}"


def subsystem_of_alarm(alarm_id: str, subsystems: set[str] | list[str]) -> str | None:
    """The subsystem whose event alarm `alarm_id` is, among `subsystems`; None if none's."""
    for name in subsystems:
        if any(alarm_id == subsystem_alarm_id(name, alarm) for alarm in SubsystemAlarm):
            return name
    return None


class SubsystemAlarms:
    """One subsystem's event alarms, defined in the alarm manager (when there is one)."""

    def __init__(self, subsystem: str, title: str, alarms: AlarmManager | None) -> None:
        self._alarms = alarms
        self._ids = {alarm: subsystem_alarm_id(subsystem, alarm) for alarm in SubsystemAlarm}
        if alarms is None:
            return
        for alarm, (message, priority) in _MESSAGE_AND_PRIORITY.items():
            separator = " " if not message.startswith(":") else ""
            alarms.define(
                AlarmDefinition(
                    id=self._ids[alarm],
                    message=f"{title}{separator}{message}",
                    priority=priority,
                    kind=AlarmKind.EVENT,
                )
            )

    def set(self, alarm: SubsystemAlarm, active: bool, detail: str = "") -> None:
        if self._alarms is not None:
            self._alarms.set_condition(self._ids[alarm], active, detail=detail)
