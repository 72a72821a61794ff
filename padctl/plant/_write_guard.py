"""Write guards: what a bench (or a replay) lets padctl write, beyond the pad's own allow-list.

The plant checks every write against the pad definition first (writable, type, range). A
guard then narrows it further for the place padctl runs in: a HIL rig allows only some
tags, perhaps over narrower ranges, at a limited rate, maybe only as a dry run, and only
once an operator has confirmed the first write. A guard refuses by raising the plant's
`WriteRefused` with a reason that names the rule; the plant journals the refusal.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from padctl.definition import Tag, TagType
from padctl.plant._errors import WriteRefused
from padctl.plant._sample import TagValue

RATE_WINDOW_S = 1.0


class Admission(enum.StrEnum):
    """What the plant does with a write the guard lets through."""

    SEND = "send"  # journal it, send it, journal the outcome
    DRY_RUN = "dry_run"  # journal it as `write_dry_run`; nothing reaches the wire


class WriteGuard(Protocol):
    """Decides, after the pad definition's own checks, whether a write may go out."""

    async def admit(self, tag: Tag, value: TagValue, *, now_s: float) -> Admission:
        """SEND or DRY_RUN; raise WriteRefused with a reason naming the rule that refuses."""
        ...


WriteConfirmation = Callable[[Tag, TagValue], Awaitable[bool]]  # True: the operator agrees


@dataclass(frozen=True)
class WriteAllowance:
    """One tag a bench may write, optionally over a narrower engineering range."""

    tag: str
    range: tuple[float, float] | None = None


class BenchWriteGuard:
    """A HIL rig's guard: allow-list, narrower ranges, rate limits, dry run, confirmation.

    - Allow-list: only the named tags, each within its narrower range if one is given.
      Writing a tag's safe value is always allowed (the PLC drives it by itself when
      padctl's heartbeat stops), so safing works on any bench.
    - Rate limits, per tag and overall, over any 1 s of the plant's clock. Safe values
      are counted but never refused: a rate limit never stands between a plant and its
      safe state.
    - Dry run: every admitted write is journaled as `write_dry_run` and never sent.
    - Confirmation: before the first write that would be sent, `confirm` is asked once;
      a refusal closes the guard for good (every later write is refused).
    """

    def __init__(
        self,
        *,
        name: str,
        allowances: Mapping[str, WriteAllowance],
        max_writes_per_s_per_tag: int,
        max_writes_per_s: int,
        dry_run: bool = False,
        confirm: WriteConfirmation | None = None,
    ) -> None:
        if max_writes_per_s_per_tag < 1 or max_writes_per_s < 1:
            raise ValueError("rate limits must allow at least 1 write per second")
        self.name = name
        self._allowances = dict(allowances)
        self._max_per_tag = max_writes_per_s_per_tag
        self._max_total = max_writes_per_s
        self.dry_run = dry_run
        self._confirm = confirm
        self._confirmed = confirm is None
        self._declined = False
        self._confirm_lock = asyncio.Lock()
        self._recent_by_tag: dict[str, deque[float]] = {}
        self._recent: deque[float] = deque()

    @property
    def allowances(self) -> Mapping[str, WriteAllowance]:
        return self._allowances

    @property
    def declined(self) -> bool:
        """Whether the operator refused the confirmation (every write is refused since)."""
        return self._declined

    def allowed_range(self, tag: Tag) -> tuple[float, float] | None:
        """The range a round trip may use: the bench's narrower one, else the tag's own."""
        allowance = self._allowances.get(tag.name)
        if allowance is not None and allowance.range is not None:
            return allowance.range
        return tag.range

    def check(self, tag: Tag, value: TagValue) -> None:
        """The static rules (confirmation refused, allow-list, range); WriteRefused if broken."""
        if self._declined:
            raise WriteRefused(
                tag.name, f"rig {self.name} confirmation: the operator declined writes"
            )
        if is_safe_value(tag, value):
            return
        allowance = self._allowances.get(tag.name)
        if allowance is None:
            raise WriteRefused(
                tag.name,
                f"rig {self.name} allow-list: {tag.name} is not on it "
                f"(only its safe value {tag.safe!r} may be written)",
            )
        if allowance.range is not None and not isinstance(value, bool):
            low, high = allowance.range
            if not low <= float(value) <= high:
                raise WriteRefused(
                    tag.name,
                    f"rig {self.name} range: {value} {tag.unit} outside the rig's "
                    f"[{low:g}, {high:g}] {tag.unit}",
                )

    def delay_s(self, tag: Tag, value: TagValue, now_s: float) -> float:
        """Clock seconds until this write would pass the rate limits (0: now; safe values: 0)."""
        if is_safe_value(tag, value):
            return 0.0
        self._forget_before(now_s - RATE_WINDOW_S)
        waits = [0.0]
        per_tag = self._recent_by_tag.get(tag.name)
        if per_tag is not None and len(per_tag) >= self._max_per_tag:
            waits.append(per_tag[-self._max_per_tag] + RATE_WINDOW_S - now_s)
        if len(self._recent) >= self._max_total:
            waits.append(self._recent[-self._max_total] + RATE_WINDOW_S - now_s)
        return max(waits)

    async def admit(self, tag: Tag, value: TagValue, *, now_s: float) -> Admission:
        self.check(tag, value)
        if not is_safe_value(tag, value):
            self._check_rate(tag.name, now_s)
        if self.dry_run:
            self._count(tag.name, now_s)
            return Admission.DRY_RUN
        if not await self.confirm_writes(tag, value):
            raise WriteRefused(
                tag.name, f"rig {self.name} confirmation: the operator declined the first write"
            )
        self._count(tag.name, now_s)
        return Admission.SEND

    async def confirm_writes(self, tag: Tag, value: TagValue) -> bool:
        """Ask once (the first write, or a program before it starts writing heartbeats)."""
        async with self._confirm_lock:
            if not self._confirmed and not self._declined and self._confirm is not None:
                self._confirmed = await self._confirm(tag, value)
                self._declined = not self._confirmed
            return self._confirmed

    def _check_rate(self, tag: str, now_s: float) -> None:
        self._forget_before(now_s - RATE_WINDOW_S)
        per_tag = self._recent_by_tag.get(tag, ())
        if len(per_tag) >= self._max_per_tag:
            raise WriteRefused(
                tag,
                f"rig {self.name} rate limit: {len(per_tag)} writes to {tag} in the last "
                f"{RATE_WINDOW_S:g} s (limit {self._max_per_tag} per s per tag)",
            )
        if len(self._recent) >= self._max_total:
            raise WriteRefused(
                tag,
                f"rig {self.name} rate limit: {len(self._recent)} writes in the last "
                f"{RATE_WINDOW_S:g} s (limit {self._max_total} per s overall)",
            )

    def _count(self, tag: str, now_s: float) -> None:
        self._recent_by_tag.setdefault(tag, deque()).append(now_s)
        self._recent.append(now_s)

    def _forget_before(self, cutoff_s: float) -> None:
        while self._recent and self._recent[0] <= cutoff_s:
            self._recent.popleft()
        for name in list(self._recent_by_tag):
            times = self._recent_by_tag[name]
            while times and times[0] <= cutoff_s:
                times.popleft()
            if not times:
                del self._recent_by_tag[name]


class RefuseAllWrites:
    """A guard for read-only runs (a replay): every write is refused with `reason`."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def admit(self, tag: Tag, value: TagValue, *, now_s: float) -> Admission:
        raise WriteRefused(tag.name, self.reason)


def is_safe_value(tag: Tag, value: TagValue) -> bool:
    """Whether `value` is the tag's declared safe value (what the PLC drives on a trip)."""
    if tag.safe is None:
        return False
    if tag.type is TagType.BOOL:
        return isinstance(value, bool) and value is bool(tag.safe)
    if isinstance(value, bool):
        return False
    return float(value) == float(tag.safe)
