"""The synchronous journal: one connection, every append committed before it returns."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection, Mapping
from pathlib import Path
from types import TracebackType

import structlog

from padctl.journal._entry import JournalEntry, make_draft
from padctl.journal._errors import JournalClosed
from padctl.journal._read import check_tail, select_entries, select_last
from padctl.journal._schema import open_writer
from padctl.journal._time import JournalClock, read_clock
from padctl.journal._write import commit_draft

_log = structlog.get_logger()


def open_checked_writer(path: Path) -> sqlite3.Connection:
    """The writing connection to `path`, after checking its guards and last row."""
    conn, created = open_writer(path)
    try:
        last = check_tail(conn, path)
    except BaseException:
        conn.close()
        raise
    _log.info(
        "journal_opened", path=str(path), created=created, last_id=0 if last is None else last.id
    )
    return conn


class Journal:
    """The append-only, hash-chained audit journal in one SQLite file (use from one thread).

    Opening creates the file if it is absent and continues the chain of an existing one;
    a journal whose guards or last row fail their checks is refused with JournalBroken.
    """

    def __init__(self, path: str | os.PathLike[str], *, clock: JournalClock) -> None:
        self._path = Path(path)
        self._clock = clock
        self._conn = open_checked_writer(self._path)
        self._closed = False

    @property
    def path(self) -> Path:
        """The journal file."""
        return self._path

    def append(self, kind: str, payload: Mapping[str, object], *, actor: str) -> JournalEntry:
        """Append one row stamped with the clock's time; returns once it is committed."""
        self._check_open()
        t_clock_s, t_wall = read_clock(self._clock)
        draft = make_draft(kind, payload, actor=actor, t_clock_s=t_clock_s, t_wall=t_wall)
        return commit_draft(self._conn, self._path, draft)

    def entries(
        self,
        *,
        since_id: int = 0,
        kinds: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Rows with id > since_id, oldest first, optionally only `kinds`, at most `limit`."""
        self._check_open()
        return select_entries(self._conn, since_id=since_id, kinds=kinds, limit=limit)

    def last_entry(self) -> JournalEntry | None:
        """The newest row, or None if nothing has been journaled yet."""
        self._check_open()
        return select_last(self._conn)

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        self._conn.close()
        _log.info("journal_closed", path=str(self._path))

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise JournalClosed(self._path)
