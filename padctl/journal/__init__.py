"""The audit journal: append-only, hash-chained SQLite that survives kill -9."""

from padctl.journal._async import AsyncJournal
from padctl.journal._entry import GENESIS_HASH, JournalEntry
from padctl.journal._errors import JournalBroken, JournalClosed, JournalError, NotAJournal
from padctl.journal._journal import Journal
from padctl.journal._time import JournalClock
from padctl.journal._verify import VerifyResult, verify_journal

__all__ = [
    "GENESIS_HASH",
    "AsyncJournal",
    "Journal",
    "JournalBroken",
    "JournalClock",
    "JournalClosed",
    "JournalEntry",
    "JournalError",
    "NotAJournal",
    "VerifyResult",
    "verify_journal",
]
