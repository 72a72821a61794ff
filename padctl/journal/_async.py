"""The journal for the asyncio program: SQLite and fsync run on dedicated threads."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from types import TracebackType

import structlog

from padctl.journal._entry import JournalEntry, make_draft
from padctl.journal._errors import JournalClosed, JournalError
from padctl.journal._journal import open_checked_writer
from padctl.journal._read import check_query, select_entries, select_last
from padctl.journal._schema import connect
from padctl.journal._time import JournalClock, read_clock
from padctl.journal._worker import ThreadWorker
from padctl.journal._write import commit_draft

_log = structlog.get_logger()

WRITER_THREAD_NAME = "padctl-journal-writer"
READER_THREAD_NAME = "padctl-journal-reader"


class AsyncJournal:
    """The journal for asyncio code: one writer thread owns the writing connection.

    `append` stamps and queues a row at once, in call order; awaiting it returns only
    after the row is committed, so a command can be journaled before it is sent. Reads
    run on a second thread with its own connection so they never wait behind appends.
    """

    def __init__(self, path: str | os.PathLike[str], *, clock: JournalClock) -> None:
        self._path = Path(path)
        self._clock = clock
        self._writer: ThreadWorker[sqlite3.Connection] = ThreadWorker(
            name=WRITER_THREAD_NAME,
            opener=lambda: open_checked_writer(self._path),
            closer=self._close_writer,
        )
        self._reader: ThreadWorker[sqlite3.Connection] = ThreadWorker(
            name=READER_THREAD_NAME, opener=self._open_reader, closer=_close_connection
        )
        self._state = "new"
        # The first row this opening writes: rows before it are an earlier run's, whose clock
        # times are that run's clock (a reader mapping them to the count's T must not).
        self.first_id_of_run = 1
        self._failure_listeners: list[Callable[[BaseException], None]] = []

    @classmethod
    async def open(cls, path: str | os.PathLike[str], *, clock: JournalClock) -> AsyncJournal:
        """Open (or create) the journal at `path` and start its threads."""
        journal = cls(path, clock=clock)
        await journal.start()
        return journal

    @property
    def path(self) -> Path:
        """The journal file."""
        return self._path

    async def start(self) -> None:
        """Open the writing and reading connections on their threads."""
        if self._state != "new":
            raise JournalError(f"journal {self._path} was already started")
        self._state = "starting"
        try:
            await self._writer.start()
            try:
                await self._reader.start()
            except BaseException:
                await self._writer.stop()
                raise
        except BaseException:
            self._state = "closed"
            raise
        self._state = "open"
        last = await self.last_entry()
        self.first_id_of_run = (last.id if last else 0) + 1

    def append(
        self, kind: str, payload: Mapping[str, object], *, actor: str
    ) -> asyncio.Future[JournalEntry]:
        """Stamp and queue one row now; await the result to know it is committed.

        Rows are committed in the order `append` is called. Cancelling the wait does not
        withdraw the row: once queued, it is committed.
        """
        self._check_open()
        t_clock_s, t_wall = read_clock(self._clock)
        draft = make_draft(kind, payload, actor=actor, t_clock_s=t_clock_s, t_wall=t_wall)
        future = self._writer.submit(lambda conn: commit_draft(conn, self._path, draft))
        if self._failure_listeners:
            future.add_done_callback(self._check_committed)
        return future

    def add_failure_listener(self, listener: Callable[[BaseException], None]) -> None:
        """Call `listener(error)` for every row that could not be committed."""
        self._failure_listeners.append(listener)

    def _check_committed(self, future: asyncio.Future[JournalEntry]) -> None:
        if future.cancelled() or future.exception() is None:
            return
        error = future.exception()
        assert error is not None
        for listener in list(self._failure_listeners):
            listener(error)

    async def entries(
        self,
        *,
        since_id: int = 0,
        kinds: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Rows with id > since_id, oldest first, optionally only `kinds`, at most `limit`.

        Every row appended before the call is among them (a report journaled as it happened
        is found by a query right after it)."""
        self._check_open()
        check_query(since_id=since_id, kinds=kinds, limit=limit)
        wanted = None if kinds is None else frozenset(kinds)
        await self._appended_so_far()
        return await self._reader.submit(
            lambda conn: select_entries(conn, since_id=since_id, kinds=wanted, limit=limit)
        )

    async def last_entry(self) -> JournalEntry | None:
        """The newest row appended before the call, or None if nothing has been journaled."""
        self._check_open()
        await self._appended_so_far()
        return await self._reader.submit(select_last)

    async def _appended_so_far(self) -> None:
        """Wait until the writer has dealt with every row queued so far (committed or failed:
        a failure is its own row's caller's to hear). The writer runs jobs in order."""
        await self._writer.submit(_nothing)

    async def aclose(self) -> None:
        """Commit the rows already queued, close both connections and end both threads."""
        if self._state in ("new", "closed"):
            self._state = "closed"
            return
        self._state = "closed"
        await self._reader.stop()
        await self._writer.stop()

    async def __aenter__(self) -> AsyncJournal:
        if self._state == "new":
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _check_open(self) -> None:
        if self._state == "closed":
            raise JournalClosed(self._path)
        if self._state != "open":
            raise JournalError(f"journal {self._path} is not open yet: await start() first")

    def _open_reader(self) -> sqlite3.Connection:
        conn = connect(self._path, mode="ro")
        conn.execute("PRAGMA query_only = ON")
        return conn

    def _close_writer(self, conn: sqlite3.Connection) -> None:
        conn.close()
        _log.info("journal_closed", path=str(self._path))


def _close_connection(conn: sqlite3.Connection) -> None:
    conn.close()


def _nothing(_conn: sqlite3.Connection) -> None:
    """A writer job that only marks its place in the queue."""
