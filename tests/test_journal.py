"""The audit journal: append/read, hash chain, tamper detection, asyncio face, kill -9."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from padctl.clock import ScaledClock
from padctl.journal import (
    GENESIS_HASH,
    AsyncJournal,
    Journal,
    JournalBroken,
    JournalClosed,
    JournalError,
    NotAJournal,
    verify_journal,
)

CHILD_SCRIPT = Path(__file__).with_name("journal_writer_child.py")


class FixedClock:
    """A clock standing still at a known instant, for exact timestamps."""

    def __init__(self, now_s: float, wall_s: float) -> None:
        self.now_s = now_s
        self.wall_s = wall_s

    def now(self) -> float:
        return self.now_s

    def wall_now(self) -> float:
        return self.wall_s


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "pad45.journal"


def _fill(path: Path, count: int) -> None:
    with Journal(path, clock=ScaledClock()) as journal:
        for i in range(count):
            journal.append("command_sent", {"tag": "LOX-FV-101", "seq": i}, actor="propellant")


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _journal_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("padctl-journal")]


# --- synchronous journal ---------------------------------------------------------------


def test_append_commits_rows_and_reads_them_back(journal_path: Path) -> None:
    clock = FixedClock(now_s=12.5, wall_s=1_780_000_000.123456)
    with Journal(journal_path, clock=clock) as journal:
        assert journal.last_entry() is None
        sent = journal.append(
            "command_sent", {"tag": "LOX-FV-101", "value": True}, actor="propellant"
        )
        clock.now_s = 12.75
        outcome = journal.append(
            "command_outcome", {"tag": "LOX-FV-101", "ok": True}, actor="padctl"
        )
        refused = journal.append("write_refused", {"reason": "interlock"}, actor="Иванов")

        assert [e.id for e in journal.entries()] == [1, 2, 3]
        assert journal.entries() == [sent, outcome, refused]
        assert journal.entries(since_id=1) == [outcome, refused]
        assert journal.entries(kinds=["command_outcome", "write_refused"]) == [outcome, refused]
        assert journal.entries(kinds=[]) == []
        assert journal.entries(limit=2) == [sent, outcome]
        assert journal.last_entry() == refused

    assert sent.kind == "command_sent" and sent.actor == "propellant"
    assert sent.payload == {"tag": "LOX-FV-101", "value": True}
    assert refused.actor == "Иванов"
    assert (sent.t_clock_s, outcome.t_clock_s) == (12.5, 12.75)
    assert sent.t_wall == "2026-05-28T20:26:40.123456+00:00"
    assert datetime.fromisoformat(sent.t_wall).tzinfo == UTC


def test_rows_chain_and_hash_as_documented(journal_path: Path) -> None:
    _fill(journal_path, 5)
    with Journal(journal_path, clock=ScaledClock()) as journal:
        rows = journal.entries()
    assert rows[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    for row in rows:  # an independent verifier can recompute each hash from the docstring
        canonical = {
            "actor": row.actor,
            "id": row.id,
            "kind": row.kind,
            "payload": row.payload_json,
            "t_clock_s": row.t_clock_s,
            "t_wall": row.t_wall,
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
        assert row.hash == hashlib.sha256((row.prev_hash + text).encode("ascii")).hexdigest()
    assert rows[0].payload_json == '{"seq":0,"tag":"LOX-FV-101"}'  # sorted keys

    result = verify_journal(journal_path)
    assert (result.ok, result.rows_checked, result.first_broken_id, result.problem) == (
        True,
        5,
        None,
        "",
    )


def test_update_delete_and_unchained_insert_are_refused(journal_path: Path) -> None:
    _fill(journal_path, 3)
    conn = _raw(journal_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only: UPDATE refused"):
            conn.execute("UPDATE journal SET payload = '{}' WHERE id = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE refused"):
            conn.execute("DELETE FROM journal WHERE id = 3")
        with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE refused"):
            conn.execute("DELETE FROM journal")
        with pytest.raises(sqlite3.IntegrityError, match="must continue the chain"):
            conn.execute(
                "INSERT OR REPLACE INTO journal VALUES (2, 't', 0.0, 'k', 'a', '{}', ?, 'h')",
                (GENESIS_HASH,),
            )
        assert conn.execute("SELECT count(*) FROM journal").fetchone()[0] == 3
    finally:
        conn.close()
    assert verify_journal(journal_path).ok


def _edit_payload(conn: sqlite3.Connection) -> None:
    conn.execute("""UPDATE journal SET payload = '{"seq":2,"tag":"LOX-FV-102"}' WHERE id = 3""")


def _edit_payload_and_rehash(conn: sqlite3.Connection) -> None:
    _edit_payload(conn)
    prev, t_wall, t_clock_s, kind, actor, payload = conn.execute(
        "SELECT prev_hash, t_wall, t_clock_s, kind, actor, payload FROM journal WHERE id = 3"
    ).fetchone()
    canonical = json.dumps(
        {
            "actor": actor,
            "id": 3,
            "kind": kind,
            "payload": payload,
            "t_clock_s": t_clock_s,
            "t_wall": t_wall,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    new_hash = hashlib.sha256((prev + canonical).encode("ascii")).hexdigest()
    conn.execute("UPDATE journal SET hash = ? WHERE id = 3", (new_hash,))


@pytest.mark.parametrize(
    ("tamper", "broken_id", "problem_words"),
    [
        (_edit_payload, 3, "row 3: content does not match its hash"),
        (_edit_payload_and_rehash, 4, "row 4: prev_hash does not match the hash of row 3"),
        (lambda conn: conn.execute("DELETE FROM journal WHERE id = 3"), 3, "row 3 is missing"),
        (lambda conn: conn.execute("UPDATE journal SET actor = 'x' WHERE id = 1"), 1, "row 1"),
        (lambda conn: None, None, "guards missing or altered"),
    ],
    ids=["payload", "payload_rehashed", "row_deleted", "actor_of_first_row", "guards_only"],
)
def test_tampering_with_guards_dropped_is_detected(
    journal_path: Path,
    tamper: Callable[[sqlite3.Connection], object],
    broken_id: int | None,
    problem_words: str,
) -> None:
    _fill(journal_path, 6)
    conn = _raw(journal_path)
    try:
        conn.execute("DROP TRIGGER journal_refuse_update")
        conn.execute("DROP TRIGGER journal_refuse_delete")
        tamper(conn)
    finally:
        conn.close()

    result = verify_journal(journal_path)

    assert not result.ok
    assert result.first_broken_id == broken_id
    assert problem_words in result.problem
    with pytest.raises(JournalBroken, match="guards missing"):
        Journal(journal_path, clock=ScaledClock())


def test_open_refuses_a_journal_whose_last_row_was_edited(journal_path: Path) -> None:
    _fill(journal_path, 3)
    conn = _raw(journal_path)
    try:
        # Recreate the UPDATE guard exactly as it was after the edit: only the row betrays it.
        (guard_sql,) = conn.execute(
            "SELECT sql FROM sqlite_schema WHERE name = 'journal_refuse_update'"
        ).fetchone()
        conn.execute("DROP TRIGGER journal_refuse_update")
        conn.execute("""UPDATE journal SET payload = '{"seq":99}' WHERE id = 3""")
        conn.execute(guard_sql)
    finally:
        conn.close()
    with pytest.raises(JournalBroken, match="last row 3 does not match its hash"):
        Journal(journal_path, clock=ScaledClock())
    assert verify_journal(journal_path).first_broken_id == 3


def test_reopened_journal_continues_the_chain(journal_path: Path) -> None:
    _fill(journal_path, 4)
    with Journal(journal_path, clock=ScaledClock()) as journal:
        fourth = journal.last_entry()
        fifth = journal.append("transition", {"to": "HOLD"}, actor="countdown")
    assert fourth is not None
    assert (fifth.id, fifth.prev_hash) == (5, fourth.hash)
    assert verify_journal(journal_path).rows_checked == 5


def test_files_that_are_not_journals_are_refused(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("LOX loading notes, not a database\n" * 10)
    with pytest.raises(NotAJournal, match=r"notes\.txt is not a padctl journal"):
        Journal(text_file, clock=ScaledClock())
    with pytest.raises(NotAJournal):
        verify_journal(text_file)

    other_db = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other_db)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = other_db.read_bytes()
    with pytest.raises(NotAJournal, match="another application"):
        Journal(other_db, clock=ScaledClock())
    assert other_db.read_bytes() == before  # not even switched to WAL

    with pytest.raises(JournalError, match="no journal file"):
        verify_journal(tmp_path / "absent.journal")
    with pytest.raises(JournalError, match="cannot open journal"):
        Journal(tmp_path / "no-such-dir" / "pad.journal", clock=ScaledClock())


@pytest.mark.parametrize(
    ("kind", "payload", "actor", "words"),
    [
        ("Command Sent", {}, "propellant", "snake_case"),
        ("command_sent", {"valves": {"LOX-FV-101"}}, "propellant", "not JSON data"),
        ("command_sent", {"pressure_bar": float("nan")}, "propellant", "not JSON data"),
        ("command_sent", {1: "x"}, "propellant", "keys must be strings"),
        ("command_sent", ["LOX-FV-101"], "propellant", "must be a mapping"),
        ("command_sent", {}, " ", "actor must be a non-empty string"),
    ],
)
def test_invalid_rows_are_refused_and_nothing_is_written(
    journal_path: Path, kind: str, payload: object, actor: str, words: str
) -> None:
    with Journal(journal_path, clock=ScaledClock()) as journal:
        with pytest.raises(JournalError, match=words):
            journal.append(kind, payload, actor=actor)  # type: ignore[arg-type]
        assert journal.last_entry() is None


def test_closed_journal_refuses_use(journal_path: Path) -> None:
    journal = Journal(journal_path, clock=ScaledClock())
    journal.close()
    journal.close()
    with pytest.raises(JournalClosed, match="is closed"):
        journal.append("transition", {}, actor="countdown")
    with pytest.raises(JournalClosed):
        journal.entries()


# --- asyncio face ----------------------------------------------------------------------


async def test_async_appends_from_many_tasks_are_ordered_and_chained(journal_path: Path) -> None:
    n_tasks, per_task = 20, 25

    async with await AsyncJournal.open(journal_path, clock=ScaledClock()) as journal:
        assert set(_journal_threads()) == {"padctl-journal-writer", "padctl-journal-reader"}

        async def operator(task_no: int) -> list[int]:
            ids = []
            for seq in range(per_task):
                entry = await journal.append(
                    "command_sent", {"task": task_no, "seq": seq}, actor=f"console-{task_no}"
                )
                ids.append(entry.id)
            return ids

        per_task_ids = await asyncio.gather(*(operator(n) for n in range(n_tasks)))
        rows = await journal.entries()

    assert _journal_threads() == []
    for ids in per_task_ids:
        assert ids == sorted(ids)
    all_ids = sorted(i for ids in per_task_ids for i in ids)
    assert all_ids == list(range(1, n_tasks * per_task + 1))
    by_id = {row.id: row.payload for row in rows}
    for task_no, ids in enumerate(per_task_ids):
        assert [by_id[i] for i in ids] == [{"task": task_no, "seq": s} for s in range(per_task)]
    assert [r.t_clock_s for r in rows] == sorted(r.t_clock_s for r in rows)
    assert verify_journal(journal_path).rows_checked == n_tasks * per_task


async def test_async_rows_are_committed_in_call_order(journal_path: Path) -> None:
    async with await AsyncJournal.open(journal_path, clock=ScaledClock()) as journal:
        pending = [journal.append("transition", {"i": i}, actor="countdown") for i in range(50)]
        entries = await asyncio.gather(*pending)
    assert [(e.id, e.payload["i"]) for e in entries] == [(i + 1, i) for i in range(50)]


async def test_a_query_sees_every_row_appended_before_it(journal_path: Path) -> None:
    """A report queued without waiting (a supervised task's recovery) is found by a query
    made right after it; the query once read past rows still in the writer's queue."""
    async with await AsyncJournal.open(journal_path, clock=ScaledClock()) as journal:
        for round_number in range(20):
            queued = [
                journal.append("task_recovered", {"round": round_number, "i": i}, actor="t")
                for i in range(5)
            ]
            rows = await journal.entries(kinds=["task_recovered"])
            assert [r.payload for r in rows[-5:]] == [
                {"round": round_number, "i": i} for i in range(5)
            ]
            last = await journal.last_entry()
            assert last is not None and last.payload == {"round": round_number, "i": 4}
            await asyncio.gather(*queued)


async def test_async_append_returns_after_commit(journal_path: Path) -> None:
    async with await AsyncJournal.open(journal_path, clock=ScaledClock()) as journal:
        entry = await journal.append("command_sent", {"tag": "GN2-PV-201"}, actor="pad_systems")
        other = sqlite3.connect(f"{journal_path.as_uri()}?mode=ro", uri=True)
        try:
            rows = other.execute("SELECT id, hash FROM journal").fetchall()
        finally:
            other.close()
        assert rows == [(entry.id, entry.hash)]
        assert await journal.last_entry() == entry
        assert await journal.entries(kinds={"command_outcome"}) == []


async def test_async_aclose_commits_queued_rows_and_stops_threads(journal_path: Path) -> None:
    journal = await AsyncJournal.open(journal_path, clock=ScaledClock())
    pending = [journal.append("transition", {"i": i}, actor="countdown") for i in range(100)]
    await journal.aclose()
    await journal.aclose()

    assert all(f.done() for f in pending)
    assert [f.result().id for f in pending] == list(range(1, 101))
    assert _journal_threads() == []
    with pytest.raises(JournalClosed):
        journal.append("transition", {}, actor="countdown")
    assert verify_journal(journal_path).rows_checked == 100


async def test_async_cancelled_wait_still_commits_the_row(journal_path: Path) -> None:
    async with await AsyncJournal.open(journal_path, clock=ScaledClock()) as journal:
        waiting = journal.append("command_sent", {"tag": "LOX-FV-101"}, actor="propellant")
        waiting.cancel()
        after = await journal.append("command_outcome", {"ok": False}, actor="padctl")
        rows = await journal.entries()
    assert after.id == 2
    assert [r.kind for r in rows] == ["command_sent", "command_outcome"]


async def test_async_open_of_a_non_journal_raises_and_leaves_no_thread(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.journal"
    bogus.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(NotAJournal):
        await AsyncJournal.open(bogus, clock=ScaledClock())
    assert _journal_threads() == []


async def test_async_journal_continues_a_synchronous_one(journal_path: Path) -> None:
    _fill(journal_path, 3)
    async with AsyncJournal(journal_path, clock=ScaledClock()) as journal:
        entry = await journal.append("transition", {"to": "HOLD"}, actor="countdown")
    assert entry.id == 4
    assert verify_journal(journal_path).ok


# --- kill -9 ---------------------------------------------------------------------------


class _IdReader:
    """Reads the ids a child prints, one per line, without blocking past a deadline."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self._fd = proc.stdout.fileno()
        self._buffer = b""
        self.ids: list[int] = []
        self.eof = False

    def read_some(self, timeout_s: float) -> None:
        ready, _, _ = select.select([self._fd], [], [], max(timeout_s, 0.0))
        if not ready:
            return
        chunk = os.read(self._fd, 65536)
        if not chunk:
            self.eof = True
            return
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")  # a torn last line stays behind
        self.ids.extend(int(line) for line in lines)


def test_kill_9_mid_stream_keeps_every_committed_row(journal_path: Path, tmp_path: Path) -> None:
    _fill(journal_path, 3)  # the child continues an existing chain
    stderr_path = tmp_path / "child.stderr"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD_SCRIPT), str(journal_path)],
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        reader = _IdReader(proc)
        deadline = time.monotonic() + 30.0
        while len(reader.ids) < 1000 and not reader.eof and time.monotonic() < deadline:
            reader.read_some(deadline - time.monotonic())
        assert len(reader.ids) >= 1000, (
            f"child reported {len(reader.ids)} ids: {stderr_path.read_text()}"
        )
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
        while not reader.eof:  # ids printed before the kill landed are committed too
            reader.read_some(5.0)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()

    reported = reader.ids
    assert reported == list(range(4, 4 + len(reported)))
    result = verify_journal(journal_path)
    assert result.ok, result.problem
    assert result.rows_checked >= reported[-1]  # at most a row committed but not yet printed

    with Journal(journal_path, clock=ScaledClock()) as journal:
        ids_present = {e.id for e in journal.entries(since_id=3)}
        after_crash = journal.append("transition", {"to": "HOLD"}, actor="recovery")
    assert set(reported) <= ids_present
    assert after_crash.id == result.rows_checked + 1
    assert verify_journal(journal_path).ok


async def test_the_wall_time_column_is_real_utc_whatever_the_clock_rate(
    journal_path: Path,
) -> None:
    """Finding (issue 12.10): the wall-time column must hold the real UTC time of the row,
    not the scaled clock's idea of it, even at rate 500."""
    clock = ScaledClock(500.0)  # its clock seconds run 500 times faster than the wall
    async with AsyncJournal(journal_path, clock=clock) as journal:
        before = datetime.now(UTC)
        entry = await journal.append("command_sent", {"tag": "LOX-FV-101"}, actor="test")
        after = datetime.now(UTC)
    written = datetime.fromisoformat(entry.t_wall)
    assert written.tzinfo == UTC
    assert before <= written <= after


async def test_a_journal_knows_the_first_row_of_this_run(tmp_path: Path) -> None:
    """Clock times are one run's own (a restarted clock starts afresh): a reader that maps a
    row's clock time to the count's T must know which rows this run wrote."""
    journal_path = tmp_path / "journal.sqlite"
    async with await AsyncJournal.open(journal_path, clock=ScaledClock()) as journal:
        assert journal.first_id_of_run == 1
        for n in range(3):
            await journal.append("note", {"n": n}, actor="op")
    async with await AsyncJournal.open(journal_path, clock=ScaledClock()) as journal:
        assert journal.first_id_of_run == 4
        entry = await journal.append("note", {"n": 3}, actor="op")
        assert entry.id == journal.first_id_of_run
