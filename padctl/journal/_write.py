"""Committing one row: read the tail, chain, insert and commit in one write transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import structlog

from padctl.journal._entry import GENESIS_HASH, Draft, JournalEntry
from padctl.journal._errors import JournalError

_log = structlog.get_logger()


def commit_draft(conn: sqlite3.Connection, path: Path, draft: Draft) -> JournalEntry:
    """Append `draft` after the current last row and commit (fsync) before returning."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            tail = conn.execute("SELECT id, hash FROM journal ORDER BY id DESC LIMIT 1").fetchone()
            last_id, last_hash = (0, GENESIS_HASH) if tail is None else tail
            entry = draft.chained(entry_id=last_id + 1, prev_hash=last_hash)
            conn.execute(
                "INSERT INTO journal (id, t_wall, t_clock_s, kind, actor, payload, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.id,
                    entry.t_wall,
                    entry.t_clock_s,
                    entry.kind,
                    entry.actor,
                    entry.payload_json,
                    entry.prev_hash,
                    entry.hash,
                ),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        _log.error("journal_append_failed", path=str(path), kind=draft.kind, error=str(exc))
        raise JournalError(f"append of {draft.kind!r} to journal {path} failed: {exc}") from exc
    return entry
