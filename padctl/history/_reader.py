"""Reading a history file while a station writes it: a read-only connection, for one thread.

Trends over hours are downsampled in SQLite itself (a day of changes is millions of rows):
the asked span, from the later of its start and the first kept row, is cut into buckets, and
each bucket gives its lowest and its highest value at their own times, so a spike a pixel
wide still shows. A point's quality is the worst quality seen in its bucket.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from padctl.history._store import HistoryError

_QUALITY_RANK_SQL = (
    "MAX(CASE quality WHEN 'BAD' THEN 3 WHEN 'STALE' THEN 2 WHEN 'UNCERTAIN' THEN 1 ELSE 0 END)"
)
_QUALITY_BY_RANK = ("GOOD", "UNCERTAIN", "STALE", "BAD")
DOWNSAMPLING = "min-max per bucket"


@dataclass(frozen=True)
class TracePoint:
    t_wall_s: float  # Unix seconds of padctl's receipt
    value: float | None
    quality: str  # the worst quality in the point's bucket


@dataclass(frozen=True)
class Trace:
    tag: str
    unit: str
    points: tuple[TracePoint, ...]  # by time; the first may be the value held at the start
    rows: int  # kept rows in the span, before downsampling


@dataclass(frozen=True)
class TraceSummary:
    """A tag over a window of padctl's clock: its lowest, highest and last value."""

    tag: str
    unit: str
    rows: int
    low: float | None
    high: float | None
    last: float | None
    worst_quality: str


class HistoryReader:
    """One history file opened read-only (never created, never written)."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise HistoryError(f"{path}: no such history file")
        self.path = path
        self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        self._ids = {name: tag_id for tag_id, name in self._db.execute("SELECT id, name FROM tags")}
        self._units: dict[str, str] = dict(self._db.execute("SELECT name, unit FROM tags"))

    def close(self) -> None:
        self._db.close()

    def traces(
        self, tags: Sequence[str], *, from_wall_s: float, to_wall_s: float, max_points: int
    ) -> tuple[float, list[Trace]]:
        """Each tag's trace between the two times, at most `max_points` points a tag (at
        least 2); and the start the buckets were cut from (the later of `from_wall_s` and the
        tags' first kept row in the span). The value a tag held at that start comes first."""
        if not from_wall_s < to_wall_s:
            raise HistoryError("from must be before to")
        if max_points < 3:
            raise HistoryError("a trace needs at least 3 points")
        ids = [self._ids[tag] for tag in tags if tag in self._ids]
        start_s = from_wall_s
        if ids:
            marks = ",".join("?" * len(ids))
            (first,) = self._db.execute(
                f"SELECT MIN(t_wall_s) FROM samples WHERE tag_id IN ({marks}) "
                "AND t_wall_s BETWEEN ? AND ?",
                (*ids, from_wall_s, to_wall_s),
            ).fetchone()
            if first is not None:
                start_s = max(from_wall_s, first)
        buckets = (max_points - 1) // 2  # two points a bucket, and the value held before
        return start_s, [self._trace(tag, start_s, to_wall_s, buckets, from_wall_s) for tag in tags]

    def _trace(
        self,
        tag: str,
        start_s: float,
        end_s: float,
        buckets: int,
        from_wall_s: float,
    ) -> Trace:
        unit = self._units.get(tag, "")
        tag_id = self._ids.get(tag)
        if tag_id is None:
            return Trace(tag, unit, (), 0)
        points: list[TracePoint] = []
        held = self._db.execute(
            "SELECT t_wall_s, value, quality FROM samples WHERE tag_id = ? AND t_wall_s < ? "
            "ORDER BY t_wall_s DESC LIMIT 1",
            (tag_id, start_s),
        ).fetchone()
        if held is not None and start_s == from_wall_s:
            points.append(TracePoint(*held))
        bucket_s = max((end_s - start_s) / buckets, 1e-6)
        bucket_sql = "MIN(CAST((t_wall_s - ?) / ? AS INTEGER), ?) AS bucket"
        where = (start_s, bucket_s, buckets - 1, tag_id, start_s, end_s)
        qualities: dict[int, str] = {}
        rows = 0
        for bucket, rank, count in self._db.execute(
            f"SELECT {bucket_sql}, {_QUALITY_RANK_SQL}, COUNT(*) FROM samples "
            "WHERE tag_id = ? AND t_wall_s BETWEEN ? AND ? GROUP BY bucket",
            where,
        ):
            qualities[bucket] = _QUALITY_BY_RANK[rank]
            rows += count
        bucketed: dict[int, list[TracePoint]] = {}
        for pick in ("MIN", "MAX"):
            # With one MIN (or MAX) aggregate, SQLite gives the other columns from its row.
            for bucket, t_wall_s, value in self._db.execute(
                f"SELECT {bucket_sql}, t_wall_s, {pick}(value) FROM samples "
                "WHERE tag_id = ? AND t_wall_s BETWEEN ? AND ? GROUP BY bucket",
                where,
            ):
                kept = bucketed.setdefault(bucket, [])
                if all(p.t_wall_s != t_wall_s for p in kept):
                    kept.append(TracePoint(t_wall_s, value, qualities[bucket]))
        for bucket in sorted(bucketed):
            points.extend(sorted(bucketed[bucket], key=lambda p: p.t_wall_s))
        return Trace(tag, unit, tuple(points), rows)

    def summaries(
        self, tags: Sequence[str], *, from_clock_s: float, to_clock_s: float
    ) -> list[TraceSummary]:
        """Each known tag's lowest, highest and last value between two times of padctl's
        clock (one run's clock: a training run's response window)."""
        summaries = []
        for tag in tags:
            tag_id = self._ids.get(tag)
            if tag_id is None:
                continue
            low, high, rank, count = self._db.execute(
                f"SELECT MIN(value), MAX(value), {_QUALITY_RANK_SQL}, COUNT(*) FROM samples "
                "WHERE tag_id = ? AND t_clock_s BETWEEN ? AND ?",
                (tag_id, from_clock_s, to_clock_s),
            ).fetchone()
            last = self._db.execute(
                "SELECT value FROM samples WHERE tag_id = ? AND t_clock_s <= ? "
                "ORDER BY t_clock_s DESC LIMIT 1",
                (tag_id, to_clock_s),
            ).fetchone()
            summaries.append(
                TraceSummary(
                    tag=tag,
                    unit=self._units[tag],
                    rows=count,
                    low=low,
                    high=high,
                    last=None if last is None else last[0],
                    worst_quality=_QUALITY_BY_RANK[rank or 0],
                )
            )
        return summaries


def traces_answer(
    path: Path, tags: Sequence[str], *, from_wall_s: float, to_wall_s: float, max_points: int
) -> dict[str, Any]:
    """`HistoryReader.traces` of the file at `path` as JSON-ready data: per tag its unit, its
    kept rows in the span and its points as [t_wall_s, value, quality]."""
    reader = HistoryReader(path)
    try:
        start_s, traces = reader.traces(
            tags, from_wall_s=from_wall_s, to_wall_s=to_wall_s, max_points=max_points
        )
    finally:
        reader.close()
    return {
        "from": start_s,
        "to": to_wall_s,
        "points": max_points,
        "downsampling": DOWNSAMPLING,
        "tags": {
            trace.tag: {
                "unit": trace.unit,
                "rows": trace.rows,
                "points": [[p.t_wall_s, _finite(p.value), p.quality] for p in trace.points],
            }
            for trace in traces
        },
    }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
