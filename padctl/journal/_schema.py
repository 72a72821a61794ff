"""The journal's SQLite file: schema, append-only guards, and how connections open it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

from padctl.journal._entry import GENESIS_HASH
from padctl.journal._errors import JournalBroken, JournalError, NotAJournal

APPLICATION_ID = 0x50414A4C  # "PAJL" in the SQLite header marks a padctl journal
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 5.0

_TABLE_DDL = """\
CREATE TABLE journal (
    id INTEGER PRIMARY KEY CHECK (id >= 1),
    t_wall TEXT NOT NULL,
    t_clock_s REAL NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT"""

_INDEX_DDL = "CREATE INDEX journal_kind ON journal (kind, id)"

GUARD_TRIGGERS: dict[str, str] = {
    "journal_refuse_update": """\
CREATE TRIGGER journal_refuse_update BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'padctl journal is append-only: UPDATE refused');
END""",
    "journal_refuse_delete": """\
CREATE TRIGGER journal_refuse_delete BEFORE DELETE ON journal
BEGIN
    SELECT RAISE(ABORT, 'padctl journal is append-only: DELETE refused');
END""",
    "journal_refuse_unchained_insert": f"""\
CREATE TRIGGER journal_refuse_unchained_insert BEFORE INSERT ON journal
WHEN NEW.id IS NOT (SELECT COALESCE(MAX(id), 0) + 1 FROM journal)
    OR NEW.prev_hash IS NOT COALESCE(
        (SELECT hash FROM journal WHERE id = NEW.id - 1), '{GENESIS_HASH}')
BEGIN
    SELECT RAISE(ABORT, 'padctl journal: an insert must continue the chain');
END""",
}

ROW_COLUMNS = "id, t_wall, t_clock_s, kind, actor, payload, prev_hash, hash"


def connect(path: Path, *, mode: Literal["rwc", "rw", "ro"]) -> sqlite3.Connection:
    """An autocommit connection (explicit BEGIN/COMMIT) to the file at `path`."""
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open journal {path}: {exc}") from exc
    return conn


def identify(conn: sqlite3.Connection, path: Path) -> Literal["journal", "empty"]:
    """Whether the file is a padctl journal or an empty database; else NotAJournal."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        n_objects = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise NotAJournal(path, f"not an SQLite database ({exc})") from exc
    if app_id == APPLICATION_ID:
        if version != SCHEMA_VERSION:
            raise JournalError(
                f"journal {path} has schema version {version}; "
                f"this padctl reads version {SCHEMA_VERSION}"
            )
        return "journal"
    if app_id == 0 and n_objects == 0:
        return "empty"
    raise NotAJournal(
        path, f"an SQLite database of another application (application_id {app_id:#x})"
    )


def open_writer(path: Path) -> tuple[sqlite3.Connection, bool]:
    """The one writing connection (WAL, synchronous=FULL); creates the journal if absent.

    Returns the connection and whether the journal was created now.
    """
    conn = connect(path, mode="rwc")
    try:
        created = False
        if identify(conn, path) == "empty":
            created = _create(conn, path)
        _set_pragma(conn, path, "journal_mode", "WAL", expect="wal")
        _set_pragma(conn, path, "synchronous", "FULL", expect=2)
        missing = missing_guards(conn)
        if missing:
            raise JournalBroken(path, f"append-only guards missing or altered: {missing}")
    except BaseException:
        conn.close()
        raise
    return conn, created


def missing_guards(conn: sqlite3.Connection) -> list[str]:
    """Names of the journal table and guard triggers that are absent or altered."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_schema"
        " WHERE tbl_name = 'journal' AND type IN ('table', 'trigger')"
    ).fetchall()
    found = {name: sql for name, sql in rows}
    expected = {"journal": _TABLE_DDL, **GUARD_TRIGGERS}
    return sorted(name for name, sql in expected.items() if found.get(name) != sql)


def _create(conn: sqlite3.Connection, path: Path) -> bool:
    # WAL first: journal_mode cannot change inside a transaction.
    _set_pragma(conn, path, "journal_mode", "WAL", expect="wal")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if identify(conn, path) == "journal":  # another process created it first
            conn.execute("ROLLBACK")
            return False
        for statement in (_TABLE_DDL, _INDEX_DDL, *GUARD_TRIGGERS.values()):
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return True


def _set_pragma(
    conn: sqlite3.Connection, path: Path, name: str, value: str, *, expect: str | int
) -> None:
    conn.execute(f"PRAGMA {name} = {value}")
    actual = conn.execute(f"PRAGMA {name}").fetchone()[0]
    if actual != expect:
        raise JournalError(
            f"journal {path}: PRAGMA {name} is {actual!r}, need {expect!r} "
            "(is the file on a filesystem SQLite cannot use in WAL mode?)"
        )
