"""The tag table: the latest sample of every tag, with quality judged at read time."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable, Sequence

from padctl.clock import Clock, Deadline, wait_event
from padctl.definition import PadDefinition, Tag
from padctl.plant._sample import Quality, Sample, TagValue

ChangeListener = Callable[[Sequence[str]], None]


class TagGroup:
    """Tags that arrive together (one Modbus block, one OPC UA item) share timestamps.

    The group owns its values list, so storing a whole block is one assignment.
    """

    __slots__ = (
        "names",
        "quality",
        "reason",
        "received_wall_s",
        "stale_after_s",
        "t_received_s",
        "t_source_s",
        "values",
    )

    def __init__(self, names: list[str], stale_after_s: float) -> None:
        self.names = names
        self.values: Sequence[TagValue | None] = [None] * len(names)
        self.stale_after_s = stale_after_s
        self.t_source_s = -math.inf
        self.t_received_s = -math.inf
        self.received_wall_s = -math.inf  # wall seconds (clock.monotonic) of the last receipt
        self.quality = Quality.BAD
        self.reason = "no data received yet"


class TagTable:
    """Latest value of each tag of a pad definition.

    Quality is decided when a sample is read, never cached: STALE when the last good update
    is older than the PLC's `stale_after_s` (wall seconds: the wire's time, whatever the clock
    rate; less the time padctl's own loop stood still meanwhile, at most `stale_after_s`, when
    told of its stalls by `excuse_stalls`), BAD when the value is NaN or outside the tag's
    engineering range, when the PLC reports the channel failed (the tag's `fail_raw`
    sentinel, or its `status_tag` true), or when the source said so.
    """

    def __init__(self, definition: PadDefinition, clock: Clock) -> None:
        self._definition = definition
        self._clock = clock
        self._tags: list[Tag] = list(definition.tags)
        self._slot_by_name = {tag.name: slot for slot, tag in enumerate(self._tags)}
        self._group_of_slot: list[TagGroup] = []
        self._index_of_slot: list[int] = [0] * len(self._tags)
        for tag in self._tags:
            stale_after_s = definition.plc(tag.plc).stale_after_s
            self._group_of_slot.append(TagGroup([tag.name], stale_after_s))
        self._listeners: list[ChangeListener] = []
        self._updated = asyncio.Event()
        self._unique_groups: list[TagGroup] | None = None
        self._groups_of_names: dict[tuple[str, ...], list[TagGroup]] = {}  # for `staleness`
        self._stale_groups: set[int] = set()  # ids of groups last found STALE by the sweep
        self._stalled_wall_s: Callable[[float], float] | None = None
        # Tags whose PLC reports a failed channel, and the tags a channel status qualifies.
        self._failure_reported = {
            slot
            for slot, tag in enumerate(self._tags)
            if tag.fail_raw is not None or tag.status_tag is not None
        }
        self._dependents: dict[str, list[str]] = {}
        for tag in self._tags:
            if tag.status_tag is not None:
                self._dependents.setdefault(tag.status_tag, []).append(tag.name)

    @property
    def definition(self) -> PadDefinition:
        return self._definition

    @property
    def clock(self) -> Clock:
        return self._clock

    def excuse_stalls(self, stalled_wall_s: Callable[[float], float]) -> None:
        """Judge age less the wall seconds padctl's own loop stood still since a sample came
        (`stalled_wall_s(since)`: the loop monitor's), at most once over: a stall is LOOP-LAG,
        not the wire's silence. Data older than twice its limit is STALE whatever the cause."""
        self._stalled_wall_s = stalled_wall_s

    def excused_wall_s(self, since_s: float, stale_after_s: float) -> float:
        """Of a sample's age since `since_s`, the loop's stall (at most `stale_after_s`)."""
        stalled = self._stalled_wall_s
        if stalled is None or since_s == -math.inf:
            return 0.0
        return min(stalled(since_s), stale_after_s)

    def _too_old(self, group: TagGroup, wall_s: float) -> float | None:
        """The age (wall seconds) of `group`'s data when it is too old to be fresh, else None."""
        age_s, limit_s = wall_s - group.received_wall_s, group.stale_after_s
        excused_s = self.excused_wall_s(group.received_wall_s, limit_s) if age_s > limit_s else 0
        return None if age_s - excused_s <= limit_s else age_s

    def slot_of(self, name: str) -> int:
        try:
            return self._slot_by_name[name]
        except KeyError:
            raise KeyError(f"no tag {name!r} in the tag table") from None

    def group(self, names: Iterable[str]) -> TagGroup:
        """Make `names` one group that is updated together; returns the group."""
        ordered = list(names)
        slots = [self.slot_of(name) for name in ordered]
        stale_after_s = min(self._group_of_slot[slot].stale_after_s for slot in slots)
        shared = TagGroup(ordered, stale_after_s)
        for index, slot in enumerate(slots):
            self._group_of_slot[slot] = shared
            self._index_of_slot[slot] = index
        self._unique_groups = None
        self._groups_of_names.clear()
        return shared

    def sweep_staleness(self) -> list[str]:
        """Notify the listeners of every tag that went STALE by age alone since the last sweep
        (a quality change without a value change); returns those tags."""
        groups = self._unique_groups
        if groups is None:
            groups = self._unique_groups = list({id(g): g for g in self._group_of_slot}.values())
        wall_s = self._clock.monotonic()
        went_stale: list[str] = []
        for group in groups:
            stale = (
                group.quality is not Quality.BAD
                and group.received_wall_s > -math.inf
                and self._too_old(group, wall_s) is not None
            )
            key = id(group)
            if stale and key not in self._stale_groups:
                self._stale_groups.add(key)
                went_stale.extend(group.names)
            elif not stale:
                self._stale_groups.discard(key)
        if went_stale:
            self._wake()
            self._notify(went_stale)
        return went_stale

    def update_group(
        self,
        group: TagGroup,
        values: Sequence[TagValue],
        *,
        t_source_s: float,
        t_received_s: float,
        quality: Quality = Quality.GOOD,
        reason: str = "",
        received_wall_s: float | None = None,
    ) -> None:
        """Store the values of a group (in the order its names were given); O(1) per block.

        `received_wall_s` (clock.monotonic seconds) is now unless a source replays old data.
        """
        if len(values) != len(group.names):
            raise ValueError(f"{len(values)} values for a group of {len(group.names)} tags")
        previous = group.values
        requalified = self._requalified(group, quality)
        group.values = values
        self._stamp(group, t_source_s, t_received_s, quality, reason, received_wall_s)
        if requalified:
            self._wake()
            self._notify(group.names)
        elif previous != values:
            changed = [
                name
                for name, old, new in zip(group.names, previous, values, strict=True)
                if old != new
            ]
            if changed:
                self._wake()
                self._notify(changed)

    def _requalified(self, group: TagGroup, quality: Quality) -> bool:
        """Whether an update changes the group's quality (BAD or STALE before, or now)."""
        was_stale = id(group) in self._stale_groups
        self._stale_groups.discard(id(group))
        return was_stale or group.quality is not quality

    def update(
        self,
        name: str,
        value: TagValue,
        *,
        t_source_s: float,
        t_received_s: float,
        quality: Quality = Quality.GOOD,
        reason: str = "",
    ) -> None:
        """Store one tag's value (its group's timestamps are renewed with it)."""
        slot = self.slot_of(name)
        group = self._group_of_slot[slot]
        index = self._index_of_slot[slot]
        previous = group.values[index]
        requalified = self._requalified(group, quality)
        if len(group.names) == 1:
            group.values = (value,)
        else:
            values = list(group.values)
            values[index] = value
            group.values = values
        self._stamp(group, t_source_s, t_received_s, quality, reason, None)
        if requalified or previous != value:
            self._wake()
            self._notify(group.names if requalified else [name])

    def confirm(
        self,
        groups: Iterable[TagGroup],
        *,
        t_received_s: float,
        received_wall_s: float | None = None,
    ) -> None:
        """The source says these values still stand (an OPC UA keep-alive: nothing changed).

        Renews the receive time of every group that holds a value and is not BAD, so a steady
        value on a report-by-exception link does not go STALE while the link is alive.
        `received_wall_s` (clock.monotonic seconds) is when the source said so; now if None.
        """
        wall_s = self._clock.monotonic() if received_wall_s is None else received_wall_s
        for group in groups:
            if group.quality is not Quality.BAD and group.t_received_s < t_received_s:
                group.t_received_s = t_received_s
                group.received_wall_s = wall_s

    def mark_bad(self, group: TagGroup, *, reason: str, t_received_s: float) -> None:
        """The source answered, but with an error for this group: its values are BAD."""
        changed = group.quality is not Quality.BAD
        group.quality = Quality.BAD
        group.reason = reason
        group.t_received_s = t_received_s
        group.received_wall_s = self._clock.monotonic()
        self._wake()
        if changed and self._listeners:
            self._notify(group.names)

    def _stamp(
        self,
        group: TagGroup,
        t_source_s: float,
        t_received_s: float,
        quality: Quality,
        reason: str,
        received_wall_s: float | None,
    ) -> None:
        group.t_source_s = t_source_s
        group.t_received_s = t_received_s
        group.received_wall_s = (
            self._clock.monotonic() if received_wall_s is None else received_wall_s
        )
        group.quality = quality
        group.reason = reason

    def _wake(self) -> None:
        """Wake every `wait_for`: a value or a quality changed (a renewed receipt of the same
        values wakes nobody; a predicate reads values and qualities, and age alone is
        rechecked by `wait_for` itself and swept by `sweep_staleness`)."""
        self._updated.set()
        self._updated = asyncio.Event()

    def get(self, name: str) -> Sample:
        """The latest sample of `name`, its quality judged now."""
        slot = self.slot_of(name)
        return self._sample(slot, self._clock.monotonic())

    def snapshot(self, names: Iterable[str] | None = None) -> dict[str, Sample]:
        """Samples of the named tags (all tags when None), judged at one instant."""
        wall_s = self._clock.monotonic()
        slots = range(len(self._tags)) if names is None else map(self.slot_of, names)
        return {self._tags[slot].name: self._sample(slot, wall_s) for slot in slots}

    def staleness(self, names: Sequence[str]) -> tuple[float, tuple[str, ...]]:
        """When the newest of `names` was received (clock.monotonic seconds) and which of them
        are STALE now, judged as `snapshot` judges them but once per group, not per tag: the
        health check asks this of every PLC's tags many times a second."""
        key = tuple(names)
        groups = self._groups_of_names.get(key)
        if groups is None:
            by_id = {id(g): g for g in (self._group_of_slot[self.slot_of(n)] for n in key)}
            groups = self._groups_of_names[key] = list(by_id.values())
        wall_s = self._clock.monotonic()
        newest_s = -math.inf
        stale_groups: set[int] = set()
        for group in groups:
            received_s = group.received_wall_s
            if received_s > newest_s:
                newest_s = received_s
            if group.quality is not Quality.BAD and self._too_old(group, wall_s) is not None:
                stale_groups.add(id(group))
        if not stale_groups:
            return newest_s, ()
        stale = []
        for name in key:
            slot = self.slot_of(name)
            group = self._group_of_slot[slot]
            if id(group) in stale_groups and group.values[self._index_of_slot[slot]] is not None:
                stale.append(name)
        return newest_s, tuple(stale)

    def _sample(self, slot: int, wall_s: float) -> Sample:
        tag = self._tags[slot]
        shared = self._group_of_slot[slot]
        value = shared.values[self._index_of_slot[slot]]
        quality, reason = shared.quality, shared.reason
        if value is None:
            quality, reason = Quality.BAD, reason or "no data received yet"
        elif quality is not Quality.BAD:
            age_wall_s = self._too_old(shared, wall_s)
            if age_wall_s is not None:
                quality = Quality.STALE
                reason = f"last update {age_wall_s:.3f} s ago (limit {shared.stale_after_s} s)"
            elif slot in self._failure_reported and (
                failure := self._channel_failure(tag, value, wall_s)
            ):
                quality, reason = failure
            elif isinstance(value, float) and math.isnan(value):
                quality, reason = Quality.BAD, "value is NaN"
            elif not isinstance(value, bool) and not tag.in_range(value):
                quality = Quality.BAD
                reason = f"value {value} {tag.unit} outside range {list(tag.range or ())}"
        return Sample(
            tag=tag.name,
            value=value,
            quality=quality,
            t_source_s=shared.t_source_s,
            t_received_s=shared.t_received_s,
            reason=reason,
            t_received_wall_s=shared.received_wall_s,
        )

    def _channel_failure(
        self, tag: Tag, value: TagValue, wall_s: float
    ) -> tuple[Quality, str] | None:
        """How the PLC says this channel failed (BAD), or that it cannot say (UNCERTAIN)."""
        if tag.fail_raw is not None and not isinstance(value, bool) and tag.reads_failed(value):
            return Quality.BAD, f"channel failed: PLC {tag.plc} reports fail_raw {tag.fail_raw}"
        if tag.status_tag is not None:
            status = self._sample(self._slot_by_name[tag.status_tag], wall_s)
            if not status.is_good:
                return Quality.UNCERTAIN, (
                    f"channel status {tag.status_tag} is {status.quality.value}: {status.reason}"
                )
            if status.value:
                return Quality.BAD, f"channel failed: {tag.status_tag} is true"
        return None

    def add_listener(self, listener: ChangeListener) -> Callable[[], None]:
        """Call `listener(names)` with the tags whose value changed; returns a remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, names: Sequence[str]) -> None:
        if not self._listeners:
            return
        if self._dependents:  # a channel status changes the quality of the tags it qualifies
            extra = [tag for name in names for tag in self._dependents.get(name, ())]
            if extra:
                names = [*names, *extra]
        for listener in list(self._listeners):
            listener(names)

    async def wait_for(
        self,
        predicate: Callable[[TagTable], bool],
        *,
        timeout_s: float,
        grace_wall_s: float = 0.0,
        recheck_wall_s: float = 0.05,
    ) -> bool:
        """Wait until `predicate(self)` holds; False once `timeout_s` clock seconds and then
        `grace_wall_s` wall seconds (the wire's share: the polls that bring the answer) have
        passed without it.

        The predicate is checked after every update and at least every `recheck_wall_s`,
        since quality also changes with age alone (STALE) when no update arrives.
        """
        deadline = Deadline(self._clock, timeout_s, grace_wall_s)
        while not predicate(self):
            left_wall_s = deadline.wall_left()
            if left_wall_s <= 0:
                return False
            await wait_event(
                self._clock, self._updated, 0.0, wall_floor_s=min(left_wall_s, recheck_wall_s)
            )
        return True
