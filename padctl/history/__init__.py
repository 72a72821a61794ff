"""Tag history: every kept change of every tag in SQLite, off the control loop."""

from padctl.history._recorder import HISTORY_ALARM_ID, TagHistory, recorded
from padctl.history._store import HistoryError, HistoryRow, HistoryStore

__all__ = [
    "HISTORY_ALARM_ID",
    "HistoryError",
    "HistoryRow",
    "HistoryStore",
    "TagHistory",
    "recorded",
]
