"""Checking a whole journal file: consecutive ids, hash links, row hashes, guards."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import structlog

from padctl.journal._entry import GENESIS_HASH, canonical_content, chain_hash
from padctl.journal._errors import JournalError
from padctl.journal._schema import ROW_COLUMNS, connect, identify, missing_guards

_log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What `verify_journal` found: ok, or the first broken row and what is wrong with it."""

    ok: bool
    rows_checked: int
    first_broken_id: int | None
    problem: str  # "" when ok


def verify_journal(path: str | os.PathLike[str]) -> VerifyResult:
    """Check every row of the journal at `path` (read-only); JournalError if it is no journal."""
    journal_path = Path(path)
    if not journal_path.is_file():
        raise JournalError(f"no journal file at {journal_path}")
    conn = connect(journal_path, mode="ro")
    try:
        identify(conn, journal_path)
        result = _verify_connection(conn)
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"cannot read journal {journal_path}: {exc}") from exc
    finally:
        conn.close()
    if result.ok:
        _log.info("journal_verified", path=str(journal_path), rows_checked=result.rows_checked)
    else:
        _log.warning(
            "journal_verify_failed",
            path=str(journal_path),
            rows_checked=result.rows_checked,
            first_broken_id=result.first_broken_id,
            problem=result.problem,
        )
    return result


def _verify_connection(conn: sqlite3.Connection) -> VerifyResult:
    conn.execute("BEGIN")  # one snapshot of the whole file, even while a writer appends
    try:
        if conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'journal'").fetchone() is None:
            return VerifyResult(False, 0, None, "the journal table is missing")
        result = _verify_rows(conn)
        if not result.ok:
            return result
        missing = missing_guards(conn)
        if missing:
            problem = f"rows intact, but append-only guards missing or altered: {missing}"
            return VerifyResult(False, result.rows_checked, None, problem)
        return result
    finally:
        conn.execute("COMMIT")


def _verify_rows(conn: sqlite3.Connection) -> VerifyResult:
    checked = 0
    prev_id = 0
    prev_hash = GENESIS_HASH
    for row in conn.execute(f"SELECT {ROW_COLUMNS} FROM journal ORDER BY id"):
        entry_id, t_wall, t_clock_s, kind, actor, payload_json, row_prev_hash, row_hash = row
        checked += 1
        if entry_id != prev_id + 1:
            problem = (
                f"row {prev_id + 1} is missing: row {entry_id} follows row {prev_id}"
                if entry_id > prev_id + 1
                else f"row {entry_id} is out of sequence after row {prev_id}"
            )
            return VerifyResult(False, checked, prev_id + 1, problem)
        if row_prev_hash != prev_hash:
            problem = (
                f"row {entry_id}: prev_hash does not match the hash of row {prev_id} "
                f"(row {prev_id} or an earlier one was rewritten)"
                if prev_id
                else f"row {entry_id}: prev_hash is not the genesis hash"
            )
            return VerifyResult(False, checked, entry_id, problem)
        try:
            content = canonical_content(
                entry_id=entry_id,
                t_wall=t_wall,
                t_clock_s=t_clock_s,
                kind=kind,
                actor=actor,
                payload_json=payload_json,
            )
            recomputed = chain_hash(row_prev_hash, content)
        except (TypeError, ValueError, UnicodeError, AttributeError) as exc:
            return VerifyResult(False, checked, entry_id, f"row {entry_id}: malformed ({exc})")
        if recomputed != row_hash:
            problem = f"row {entry_id}: content does not match its hash (the row was edited)"
            return VerifyResult(False, checked, entry_id, problem)
        prev_id, prev_hash = entry_id, row_hash
    return VerifyResult(True, checked, None, "")
