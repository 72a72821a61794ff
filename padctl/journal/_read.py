"""Reading rows back from a journal connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from pathlib import Path

from padctl.journal._entry import GENESIS_HASH, JournalEntry, canonical_content, chain_hash
from padctl.journal._errors import JournalBroken, JournalError
from padctl.journal._schema import ROW_COLUMNS

Row = tuple[int, str, float, str, str, str, str, str]


def row_to_entry(row: Row) -> JournalEntry:
    """A JournalEntry from a row selected as ROW_COLUMNS."""
    entry_id, t_wall, t_clock_s, kind, actor, payload_json, prev_hash, row_hash = row
    return JournalEntry(
        id=entry_id,
        t_wall=t_wall,
        t_clock_s=t_clock_s,
        kind=kind,
        actor=actor,
        payload_json=payload_json,
        prev_hash=prev_hash,
        hash=row_hash,
    )


def check_query(*, since_id: int, kinds: Collection[str] | None, limit: int | None) -> None:
    """Raise JournalError for arguments `select_entries` cannot honour."""
    if since_id < 0:
        raise JournalError(f"since_id must be >= 0, got {since_id}")
    if limit is not None and limit < 0:
        raise JournalError(f"limit must be >= 0 or None, got {limit}")
    if isinstance(kinds, str):
        raise JournalError(f"kinds must be a collection of kinds, not the string {kinds!r}")


def select_entries(
    conn: sqlite3.Connection,
    *,
    since_id: int = 0,
    kinds: Collection[str] | None = None,
    limit: int | None = None,
) -> list[JournalEntry]:
    """Rows with id > since_id, oldest first, optionally of the given kinds, at most limit."""
    check_query(since_id=since_id, kinds=kinds, limit=limit)
    sql = f"SELECT {ROW_COLUMNS} FROM journal WHERE id > ?"
    params: list[object] = [since_id]
    if kinds is not None:
        wanted = sorted(set(kinds))
        if not wanted:
            return []
        sql += f" AND kind IN ({', '.join('?' * len(wanted))})"
        params.extend(wanted)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [row_to_entry(row) for row in conn.execute(sql, params)]


def select_last(conn: sqlite3.Connection) -> JournalEntry | None:
    """The newest row, or None if the journal has no rows yet."""
    row = conn.execute(f"SELECT {ROW_COLUMNS} FROM journal ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else row_to_entry(row)


def check_tail(conn: sqlite3.Connection, path: Path) -> JournalEntry | None:
    """The newest row after checking it links to its predecessor and matches its hash."""
    last = select_last(conn)
    if last is None:
        return None
    if last.id == 1:
        expected_prev = GENESIS_HASH
    else:
        before = conn.execute("SELECT hash FROM journal WHERE id = ?", (last.id - 1,)).fetchone()
        if before is None:
            raise JournalBroken(path, f"row {last.id - 1} before the last row {last.id} is missing")
        expected_prev = before[0]
    if last.prev_hash != expected_prev:
        raise JournalBroken(path, f"last row {last.id} does not link to row {last.id - 1}")
    content = canonical_content(
        entry_id=last.id,
        t_wall=last.t_wall,
        t_clock_s=last.t_clock_s,
        kind=last.kind,
        actor=last.actor,
        payload_json=last.payload_json,
    )
    if chain_hash(last.prev_hash, content) != last.hash:
        raise JournalBroken(path, f"last row {last.id} does not match its hash")
    return last
