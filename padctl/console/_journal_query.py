"""The console's journal view: the newest rows, filtered by kind, severity, actor or text, and
paged back; a user's logins and logouts that come one after another fold into one line.

SQLite runs on the journal's reader thread; matching rows by text and decoding payloads (tens
of milliseconds over 50,000 rows) run on the console's worker thread, never on the loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from padctl.console._rows import (
    PAYLOAD_SEVERITY_KINDS,
    SESSION_KINDS,
    TAt,
    journal_row,
    journal_severity,
    row_t_s,
    t_fields,
)
from padctl.journal import AsyncJournal, JournalEntry
from padctl.off_loop import OffLoopWorker

MAX_SCANNED_ROWS = 50_000
_CHUNK_ROWS = 2_000


@dataclass(frozen=True)
class JournalQuery:
    kinds: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    actor: str = ""
    text: str = ""
    before_id: int | None = None
    limit: int = 100
    fold_sessions: bool = False

    def matches(self, entry: JournalEntry) -> bool:
        if self.kinds and entry.kind not in self.kinds:
            return False
        if self.actor and entry.actor != self.actor:
            return False
        if self.severities:
            payload = entry.payload if entry.kind in PAYLOAD_SEVERITY_KINDS else {}
            if journal_severity(entry.kind, payload) not in self.severities:
                return False
        if self.text:
            needle = self.text.lower()
            return needle in entry.kind.lower() or needle in entry.payload_json.lower()
        return True


@dataclass
class _Line:
    """One line of the answer: a row, or one user's session rows folded (newest first)."""

    newest: JournalEntry
    run: int  # lines of one run of consecutive session rows share it; never split by a page
    oldest: JournalEntry
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Lines:
    fold: bool
    lines: list[_Line] = field(default_factory=list)
    runs: int = 0
    open_run: dict[str, _Line] = field(default_factory=dict)  # actor -> line, in a session run

    def add(self, entry: JournalEntry) -> None:
        folding = self.fold and entry.kind in SESSION_KINDS
        if not folding:
            self.open_run.clear()
            self.runs += 1
            self.lines.append(_Line(entry, self.runs, entry, {entry.kind: 1}))
            return
        if not self.open_run:
            self.runs += 1
        line = self.open_run.get(entry.actor)
        if line is None:
            line = self.open_run[entry.actor] = _Line(entry, self.runs, entry)
            self.lines.append(line)
        line.oldest = entry
        line.counts[entry.kind] = line.counts.get(entry.kind, 0) + 1

    def complete(self, limit: int) -> bool:
        """Enough lines for a page, and the page's last run is whole."""
        return len(self.lines) > limit and self.lines[-1].run != self.lines[limit - 1].run

    def page(self, limit: int) -> list[_Line]:
        cut = min(limit, len(self.lines))
        while 0 < cut < len(self.lines) and self.lines[cut].run == self.lines[cut - 1].run:
            cut += 1
        return self.lines[:cut]


def _match_and_fold(
    chunk: list[JournalEntry], query: JournalQuery, top: int, lines: _Lines
) -> None:
    for entry in reversed(chunk):
        if entry.id < top and query.matches(entry):
            lines.add(entry)


def _rows(lines: list[_Line]) -> list[dict[str, Any]]:
    rows = []
    for line in lines:
        row = journal_row(line.newest)
        if line.oldest is not line.newest:
            row["folded"] = dict(line.counts)
            row["first_id"], row["first_t_wall"] = line.oldest.id, line.oldest.t_wall
        rows.append(row)
    return rows


async def run_query(
    journal: AsyncJournal, query: JournalQuery, worker: OffLoopWorker, t_at: TAt
) -> dict[str, Any]:
    """Lines matching `query`, newest first, at least `limit` when there are (more only to
    keep a run of folded session rows whole); `more` if older ones may match, and
    `next_before_id` to ask for them."""
    last = await journal.last_entry()
    top = (last.id if last else 0) + 1
    if query.before_id is not None:
        top = min(top, query.before_id)
    lines = _Lines(query.fold_sessions)
    scanned = 0
    while top > 1 and not lines.complete(query.limit) and scanned < MAX_SCANNED_ROWS:
        start = max(0, top - 1 - _CHUNK_ROWS)
        chunk = await journal.entries(
            since_id=start, kinds=query.kinds or None, limit=top - 1 - start
        )
        await worker.run(_match_and_fold, chunk, query, top, lines)
        scanned += top - 1 - start
        top = start + 1
    page = lines.page(query.limit)
    rows = await worker.run(_rows, page)
    for row in rows:  # T-times on the loop: the count's clocks are the loop's
        row.update(t_fields("", row_t_s(journal, t_at, row["id"], row["t_clock_s"])))
    return {
        "rows": rows,
        "more": top > 1 or len(lines.lines) > len(page),
        "next_before_id": min((line.oldest.id for line in page), default=None),
    }
