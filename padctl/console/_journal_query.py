"""The console's journal view: the newest rows, filtered by kind, actor or text, paged back.

SQLite runs on the journal's reader thread; matching rows by text and decoding payloads (tens
of milliseconds over 50,000 rows) run on the console's worker thread, never on the loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from padctl.console._state import journal_row
from padctl.journal import AsyncJournal, JournalEntry
from padctl.off_loop import OffLoopWorker

MAX_SCANNED_ROWS = 50_000
_CHUNK_ROWS = 2_000


@dataclass(frozen=True)
class JournalQuery:
    kinds: tuple[str, ...] = ()
    actor: str = ""
    text: str = ""
    before_id: int | None = None
    limit: int = 100

    def matches(self, entry: JournalEntry) -> bool:
        if self.kinds and entry.kind not in self.kinds:
            return False
        if self.actor and entry.actor != self.actor:
            return False
        if self.text:
            needle = self.text.lower()
            return needle in entry.kind.lower() or needle in entry.payload_json.lower()
        return True


def _matching(chunk: list[JournalEntry], query: JournalQuery, top: int) -> list[JournalEntry]:
    return [entry for entry in reversed(chunk) if entry.id < top and query.matches(entry)]


def _rows(entries: list[JournalEntry]) -> list[dict[str, Any]]:
    return [journal_row(entry) for entry in entries]


async def run_query(
    journal: AsyncJournal, query: JournalQuery, worker: OffLoopWorker
) -> dict[str, Any]:
    """Rows matching `query`, newest first, at most `limit`; `more` if older ones may match."""
    last = await journal.last_entry()
    top = (last.id if last else 0) + 1
    if query.before_id is not None:
        top = min(top, query.before_id)
    found: list[JournalEntry] = []
    scanned = 0
    while top > 1 and len(found) < query.limit and scanned < MAX_SCANNED_ROWS:
        start = max(0, top - 1 - _CHUNK_ROWS)
        chunk = await journal.entries(
            since_id=start, kinds=query.kinds or None, limit=top - 1 - start
        )
        found += await worker.run(_matching, chunk, query, top)
        scanned += top - 1 - start
        top = start + 1
    rows = found[: query.limit]
    return {
        "rows": await worker.run(_rows, rows),
        "more": top > 1 or len(found) > len(rows),
    }
