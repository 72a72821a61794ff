"""Samples: a value with its quality and timestamps."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Quality(enum.StrEnum):
    """How far a value can be trusted. Anything but GOOD is NO-GO where a decision depends on it."""

    GOOD = "GOOD"
    UNCERTAIN = "UNCERTAIN"
    BAD = "BAD"
    STALE = "STALE"


TagValue = float | int | bool


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of a tag: value, quality, source and receive time (clock seconds; the
    receipt also in wall seconds, by which staleness is judged)."""

    tag: str
    value: TagValue | None  # None only when nothing was ever received
    quality: Quality
    t_source_s: float
    t_received_s: float
    reason: str = ""  # why the quality is not GOOD, for people
    t_received_wall_s: float = float("-inf")  # wall seconds (clock.monotonic) of the receipt

    @property
    def is_good(self) -> bool:
        return self.quality is Quality.GOOD
