"""Tag history: every kept change of every tag in SQLite, off the control loop."""

from padctl.history._reader import (
    DOWNSAMPLING,
    HistoryReader,
    Trace,
    TracePoint,
    TraceSummary,
    traces_answer,
)
from padctl.history._recorder import HISTORY_ALARM_ID, TagHistory, recorded
from padctl.history._store import HistoryError, HistoryRow, HistoryStore

__all__ = [
    "DOWNSAMPLING",
    "HISTORY_ALARM_ID",
    "HistoryError",
    "HistoryReader",
    "HistoryRow",
    "HistoryStore",
    "TagHistory",
    "Trace",
    "TracePoint",
    "TraceSummary",
    "recorded",
    "traces_answer",
]
