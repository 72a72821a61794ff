"""How one alarm and one journal row read on a console: wall time (UTC), T-time, who, what.

T-times are read on the server from the count's own clocks (`t_at`: T as it read at a clock
time, through holds and whatever the rate), so a page never has to guess them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from padctl.alarms import AlarmView
from padctl.countdown import format_t_time
from padctl.journal import AsyncJournal, JournalEntry

TAt = Callable[[float], float | None]  # clock s -> T s (None: no count then)

CRITICAL_KINDS = frozenset(
    {"station_crashed", "countdown_crashed", "subsystem_fault", "uncommanded_change"}
)
WARNING_KINDS = frozenset(
    {
        "console_refused",
        "console_login_failed",
        "console_login_throttled",
        "staleness",
        "alarm_shelved",
        "alarm_out_of_service",
        "authority_forced",
        "console_disarmed",
    }
)
SEVERITIES = ("info", "warning", "critical")
# The kinds whose severity depends on their payload (the others' payloads need no decoding).
PAYLOAD_SEVERITY_KINDS = frozenset({"alarm_activated", "safing_result"})
# A user's session rows, folded into one line per user while they come one after another.
SESSION_KINDS = frozenset({"console_login", "console_logout", "console_session_expired"})


def journal_severity(kind: str, payload: dict[str, Any]) -> str:
    """`critical`, `warning` or `info`: how much a row asks for a person's attention."""
    if kind == "alarm_activated":
        return "critical" if payload.get("priority") in ("HIGH", "URGENT") else "warning"
    if kind == "safing_result" and payload.get("proven") is False:
        return "critical"
    if kind in CRITICAL_KINDS:
        return "critical"
    return "warning" if kind in WARNING_KINDS else "info"


def t_fields(prefix: str, t_s: float | None) -> dict[str, Any]:
    """`{prefix}t_s` and `{prefix}t_text` for a T-time (both null when there was no count)."""
    return {
        f"{prefix}t_s": None if t_s is None else round(t_s, 3),
        f"{prefix}t_text": None if t_s is None else format_t_time(t_s),
    }


def row_t_s(journal: AsyncJournal, t_at: TAt, entry_id: int, clock_s: float) -> float | None:
    """The count's T at a journal row's time; None for an earlier run's row (its clock times
    are that run's clock) or when there was no count."""
    return t_at(clock_s) if entry_id >= journal.first_id_of_run else None


def journal_row(entry: JournalEntry, t_s: float | None = None) -> dict[str, Any]:
    """A journal row as consoles get it, with the count's T at its time (`t_s`, see row_t_s)."""
    payload = entry.payload
    return {
        "id": entry.id,
        "t_wall": entry.t_wall,
        "t_clock_s": entry.t_clock_s,
        **t_fields("", t_s),
        "kind": entry.kind,
        "severity": journal_severity(entry.kind, payload),
        "actor": entry.actor,
        "payload": payload,
    }


def alarm_row(view: AlarmView, offset_s: float, t_at: TAt) -> dict[str, Any]:
    """An alarm as consoles show it: pad clock times (`since`, `occurred`, ...), and the
    moments it occurred and was acknowledged in wall time and in T-time."""

    def pad_epoch(clock_s: float | None) -> float | None:
        return None if clock_s is None else clock_s + offset_s

    def t_of(clock_s: float | None) -> float | None:
        return None if clock_s is None else t_at(clock_s)

    return {
        "id": view.id,
        "message": view.message,
        "priority": view.priority.name,
        "priority_level": int(view.priority),
        "state": view.state.value,
        "condition_active": view.condition_active,
        "since": pad_epoch(view.since_s),
        "occurred": pad_epoch(view.occurred_s),
        "occurred_wall": view.occurred_wall_s,
        **t_fields("occurred_", t_of(view.occurred_s)),
        "acknowledged": pad_epoch(view.acknowledged_s),
        "acknowledged_wall": view.acknowledged_wall_s,
        **t_fields("acknowledged_", t_of(view.acknowledged_s)),
        "acknowledged_by": view.acknowledged_by,
        "shelved_until": pad_epoch(view.shelved_until_s),
        "out_of_service_by": view.out_of_service_by,
        "out_of_service_note": view.out_of_service_note,
        "detail": view.detail,
    }
