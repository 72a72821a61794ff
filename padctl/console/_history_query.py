"""`GET /api/history?tags=A,B&from=EPOCH_S&to=EPOCH_S&points=N`: the console's long trends.

The console checks the request; the reading itself is given by whoever composes the console
(`padctl serve` passes padctl.history's, bound to the station's history file): it runs on a
worker thread of its own, never on the control loop. padctl.history downsamples each tag's
rows to at most `points` points: per time bucket its lowest and highest value at their own
times (spikes stay visible), with the worst quality of the bucket; the value held when the
span begins comes first. Times are Unix seconds of padctl's receipt (wall clock).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from padctl.off_loop import OffLoopWorker

MAX_SPAN_S = 400 * 86400.0  # longer than any retention a pad keeps
MIN_POINTS, MAX_POINTS = 10, 2000
MAX_TAGS = 64


class HistoryQueryError(ValueError):
    """A history request refused; the message names what was wrong."""


@dataclass(frozen=True)
class HistoryQuery:
    tags: tuple[str, ...]
    from_wall_s: float
    to_wall_s: float
    points: int


# The answer to a checked query, JSON-ready; run on a worker thread. A ValueError says why
# the history cannot answer.
HistoryReading = Callable[[HistoryQuery], dict[str, Any]]


def parse_history_query(params: Mapping[str, str], known_tags: Collection[str]) -> HistoryQuery:
    """The query in `params`; HistoryQueryError naming the first thing wrong."""
    tags = tuple(name for name in params.get("tags", "").split(",") if name)
    if not tags:
        raise HistoryQueryError("tags: give one or more tag names, comma-separated")
    if len(tags) > MAX_TAGS:
        raise HistoryQueryError(f"tags: at most {MAX_TAGS} at once ({len(tags)} given)")
    unknown = [name for name in tags if name not in known_tags]
    if unknown:
        raise HistoryQueryError(f"tags: unknown tag {', '.join(unknown)}")
    from_wall_s = _number(params, "from")
    to_wall_s = _number(params, "to")
    if not from_wall_s < to_wall_s:
        raise HistoryQueryError(f"from ({from_wall_s:g}) must be before to ({to_wall_s:g})")
    if to_wall_s - from_wall_s > MAX_SPAN_S:
        raise HistoryQueryError(
            f"span: at most {MAX_SPAN_S / 86400.0:g} days ({to_wall_s - from_wall_s:g} s asked)"
        )
    points_text = params.get("points", "500")
    try:
        points = int(points_text)
    except ValueError:
        raise HistoryQueryError(f"points: a whole number, not {points_text!r}") from None
    if not MIN_POINTS <= points <= MAX_POINTS:
        raise HistoryQueryError(f"points: {MIN_POINTS} to {MAX_POINTS} ({points} asked)")
    return HistoryQuery(tags, from_wall_s, to_wall_s, points)


def _number(params: Mapping[str, str], name: str) -> float:
    text = params.get(name)
    if text is None:
        raise HistoryQueryError(f"{name}: give Unix seconds")
    try:
        value = float(text)
    except ValueError:
        raise HistoryQueryError(f"{name}: Unix seconds, not {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise HistoryQueryError(f"{name}: Unix seconds, not {text!r}")
    return value


async def read_history(
    reading: HistoryReading, query: HistoryQuery, worker: OffLoopWorker
) -> dict[str, Any]:
    """The answer to `query`, read on `worker`'s thread."""
    try:
        return await worker.run(reading, query)
    except ValueError as error:
        raise HistoryQueryError(str(error)) from None
