"""Tag history in SQLite: one row per kept change of a tag (value, quality, wall and clock
time), indexed by tag and time, pruned by age."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    unit TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS samples (
    tag_id INTEGER NOT NULL REFERENCES tags(id),
    t_wall_s REAL NOT NULL,
    t_clock_s REAL NOT NULL,
    value REAL,
    quality TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS samples_by_tag_time ON samples (tag_id, t_wall_s);
"""


@dataclass(frozen=True)
class HistoryRow:
    tag: str
    t_wall_s: float  # Unix seconds (wall clock) of padctl's receipt
    t_clock_s: float  # padctl's (possibly scaled) clock at the receipt
    value: float | None  # a switch as 0 or 1; None before any value came
    quality: str  # GOOD, UNCERTAIN, BAD or STALE


class HistoryError(ValueError):
    """A history query padctl cannot answer; the message says why."""


class HistoryStore:
    """One SQLite file of tag history. Not thread-safe: use it from one thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._ids: dict[str, int] = dict(
            (name, tag_id) for tag_id, name in self._db.execute("SELECT id, name FROM tags")
        )

    def close(self) -> None:
        self._db.close()

    def register(self, tags: Iterable[tuple[str, str]]) -> None:
        """Make sure each (name, unit) has an id."""
        with self._db:
            for name, unit in tags:
                if name not in self._ids:
                    cursor = self._db.execute(
                        "INSERT INTO tags (name, unit) VALUES (?, ?)", (name, unit)
                    )
                    assert cursor.lastrowid is not None
                    self._ids[name] = cursor.lastrowid

    def append(self, rows: Sequence[HistoryRow]) -> None:
        """Keep `rows` (their tags registered) in one transaction."""
        if not rows:
            return
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                "INSERT INTO samples VALUES (?, ?, ?, ?, ?)",
                [(self._ids[r.tag], r.t_wall_s, r.t_clock_s, r.value, r.quality) for r in rows],
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def prune(self, before_wall_s: float) -> int:
        """Drop rows older than `before_wall_s`; how many."""
        cursor = self._db.execute("DELETE FROM samples WHERE t_wall_s < ?", (before_wall_s,))
        return cursor.rowcount

    def units(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT name, unit FROM tags").fetchall())

    def query(
        self, tags: Sequence[str], *, from_wall_s: float, to_wall_s: float
    ) -> list[HistoryRow]:
        """The kept rows of `tags` between the two times, by time (tag order within a time)."""
        unknown = [tag for tag in tags if tag not in self._ids]
        if unknown:
            raise HistoryError(f"{self.path}: no history of {', '.join(unknown)}")
        if not from_wall_s <= to_wall_s:
            raise HistoryError("--from must not be after --to")
        marks = ",".join("?" * len(tags))
        found = self._db.execute(
            f"SELECT tags.name, t_wall_s, t_clock_s, value, quality FROM samples "
            f"JOIN tags ON tags.id = samples.tag_id WHERE tags.name IN ({marks}) "
            "AND t_wall_s BETWEEN ? AND ? ORDER BY t_wall_s, tags.name",
            (*tags, from_wall_s, to_wall_s),
        )
        return [HistoryRow(*row) for row in found]
