"""Training runs kept over time (SQLite), so an instructor can compare a trainee's runs."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from padctl.training._scoring import RunScore, Status

DEFAULT_HISTORY_FILE = Path("padctl-training.sqlite")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    finished_at TEXT NOT NULL,
    scenario TEXT NOT NULL,
    trainee TEXT NOT NULL,
    rate REAL NOT NULL,
    duration_s REAL NOT NULL,
    done INTEGER NOT NULL,
    expected INTEGER NOT NULL,
    extra INTEGER NOT NULL,
    wrong_authority INTEGER NOT NULL,
    ignored_alarms INTEGER NOT NULL,
    result TEXT NOT NULL,
    end_reason TEXT NOT NULL,
    report TEXT
);
CREATE TABLE IF NOT EXISTS responses (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    position INTEGER NOT NULL,
    response TEXT NOT NULL,
    status TEXT NOT NULL,
    took_s REAL,
    within_s REAL NOT NULL,
    by TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX IF NOT EXISTS runs_by_trainee ON runs (trainee, finished_at);
"""


@dataclass(frozen=True)
class RunRecord:
    id: int
    finished_at: str
    scenario: str
    trainee: str
    rate: float
    duration_s: float
    done: int
    expected: int
    extra: int
    wrong_authority: int
    ignored_alarms: int
    result: str
    end_reason: str
    report: str | None
    missed: tuple[str, ...] = ()


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(_SCHEMA)
        with connection:
            yield connection
    finally:
        connection.close()


def record_run(
    path: Path,
    score: RunScore,
    *,
    trainee: str,
    rate: float,
    result: str,
    end_reason: str,
    report: Path | None,
) -> int:
    """Keep one scored run; its id."""
    with _connect(path) as connection:
        cursor = connection.execute(
            "INSERT INTO runs (finished_at, scenario, trainee, rate, duration_s, done, expected,"
            " extra, wrong_authority, ignored_alarms, result, end_reason, report)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                score.scenario,
                trainee,
                rate,
                round(score.duration_s, 1),
                score.done,
                len(score.responses),
                len(score.extra),
                len(score.wrong_authority),
                len(score.ignored_alarms),
                result,
                end_reason,
                None if report is None else str(report),
            ),
        )
        run_id = int(cursor.lastrowid or 0)
        connection.executemany(
            "INSERT INTO responses (run_id, position, response, status, took_s, within_s, by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (run_id, i, s.response.label, s.status.value, s.took_s, s.response.within_s, s.by)
                for i, s in enumerate(score.responses)
            ],
        )
    return run_id


def runs(path: Path, *, trainee: str | None = None, scenario: str | None = None) -> list[RunRecord]:
    """The runs kept, oldest first, optionally of one trainee and/or one scenario."""
    if not path.exists():
        return []
    where, args = [], []
    if trainee is not None:
        where.append("trainee = ?")
        args.append(trainee)
    if scenario is not None:
        where.append("scenario = ?")
        args.append(scenario)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    with _connect(path) as connection:
        connection.row_factory = sqlite3.Row
        found = connection.execute(
            "SELECT id, finished_at, scenario, trainee, rate, duration_s, done, expected, extra,"
            f" wrong_authority, ignored_alarms, result, end_reason, report FROM runs{clause}"
            " ORDER BY finished_at, id",
            args,
        ).fetchall()
        missed = connection.execute(
            "SELECT run_id, response FROM responses WHERE status != ? ORDER BY run_id, position",
            (Status.DONE.value,),
        ).fetchall()
    missing: dict[int, list[str]] = {}
    for run_id, response in missed:
        missing.setdefault(run_id, []).append(response)
    return [RunRecord(**dict(row), missed=tuple(missing.get(row["id"], ()))) for row in found]
