"""Record a tag stream to a file, and replay it into a tag table in place of the PLCs.

A recording is JSON lines: a header object first, then one sample per line
(`{"t_s": 1.25, "tag": "LOX-PT-001", "value": 3.2, "quality": "GOOD"}`, plus `reason` when
the quality is not GOOD), written whenever a tag's value or quality changes. JSON lines,
not SQLite, because a recording is a stream: every line is complete the moment it is
flushed (a bench that crashes mid-run still leaves a readable file), it reads with `grep`,
`jq` and a text editor, diffs line by line, and travels as one attachment of an anomaly
report. Non-finite floats are written as the strings "NaN", "inf" and "-inf" (strict JSON).

Replay is read-only: there is no PLC behind the table, so a plant fed by a replay refuses
every write (`RefuseAllWrites`) and journals the refusal.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import structlog

from padctl.clock import Clock
from padctl.plant._sample import Quality, Sample, TagValue
from padctl.plant._tag_table import TagGroup, TagTable
from padctl.tasks import cancel_and_wait
from padctl.text_files import DataFileError, read_text_file

log = structlog.get_logger()

RECORDING_FORMAT = "padctl-tag-recording"
RECORDING_VERSION = 1
_NON_FINITE = {"NaN": math.nan, "inf": math.inf, "-inf": -math.inf}


@dataclass(frozen=True, slots=True)
class RecordedSample:
    """One line of a recording: clock seconds since its start, tag, value, quality."""

    t_s: float
    tag: str
    value: TagValue | None
    quality: Quality
    reason: str = ""

    def to_json(self) -> str:
        record: dict[str, object] = {
            "t_s": round(self.t_s, 6),
            "tag": self.tag,
            "value": _encode_value(self.value),
            "quality": self.quality.value,
        }
        if self.reason:
            record["reason"] = self.reason
        return json.dumps(record, allow_nan=False)


@dataclass(frozen=True)
class Recording:
    header: dict[str, Any]
    samples: tuple[RecordedSample, ...]

    @property
    def duration_s(self) -> float:
        return self.samples[-1].t_s if self.samples else 0.0

    @property
    def tags(self) -> list[str]:
        """Every tag the recording names, in order of first appearance."""
        return list(dict.fromkeys(sample.tag for sample in self.samples))


class RecordingError(Exception):
    """A recording file that cannot be read; names the file and line."""


def read_recording(path: Path) -> Recording:
    """Read a recording file; RecordingError naming `file:line` on anything malformed."""
    try:
        lines = read_text_file(path, max_bytes=None).splitlines()
    except DataFileError as error:
        raise RecordingError(str(error)) from None
    if not lines:
        raise RecordingError(f"{path}:1: empty file, not a {RECORDING_FORMAT}")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError as error:
        raise RecordingError(f"{path}:1: header: {error.msg}") from None
    if not isinstance(header, dict) or header.get("format") != RECORDING_FORMAT:
        raise RecordingError(f"{path}:1: header: not a {RECORDING_FORMAT} file")
    if header.get("version") != RECORDING_VERSION:
        raise RecordingError(
            f"{path}:1: header: version {header.get('version')!r}, "
            f"this padctl reads version {RECORDING_VERSION}"
        )
    samples = []
    previous_t_s = 0.0
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            sample = _decode_sample(json.loads(line))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise RecordingError(f"{path}:{number}: sample: {error}") from None
        if sample.t_s < previous_t_s:
            raise RecordingError(f"{path}:{number}: t_s: {sample.t_s} goes back in time")
        previous_t_s = sample.t_s
        samples.append(sample)
    return Recording(header=header, samples=tuple(samples))


def _decode_sample(record: Any) -> RecordedSample:
    if not isinstance(record, dict):
        raise TypeError("a sample is a JSON object")
    raw = record["value"]
    value: TagValue | None
    if isinstance(raw, str):
        if raw not in _NON_FINITE:
            raise ValueError(f"value {raw!r} is not a number, a bool, null, NaN or inf")
        value = _NON_FINITE[raw]
    elif raw is None or isinstance(raw, bool | int | float):
        value = raw
    else:
        raise TypeError(f"value {raw!r} is not a number, a bool or null")
    return RecordedSample(
        t_s=float(record["t_s"]),
        tag=str(record["tag"]),
        value=value,
        quality=Quality(record["quality"]),
        reason=str(record.get("reason", "")),
    )


def _encode_value(value: TagValue | None) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _same(a: TagValue | None, b: TagValue | None) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


class TagRecorder:
    """Writes every change of value or quality of a tag table's tags to a recording file.

    Value changes are taken as they arrive (the table's change listener); quality changes
    without a new value (STALE by age, a PLC's BAD status) are found by a sweep every
    `sweep_s` wall seconds, which also flushes the file.
    """

    def __init__(
        self,
        table: TagTable,
        path: Path,
        *,
        header: Mapping[str, object],
        names: Sequence[str] | None = None,
        sweep_s: float = 0.05,
    ) -> None:
        self._table = table
        self._clock = table.clock
        self._path = path
        self._header = dict(header)
        self._names = list(names) if names is not None else [t.name for t in table.definition.tags]
        self._wanted = set(self._names)
        self._sweep_s = sweep_s
        self._last: dict[str, tuple[TagValue | None, Quality]] = {}
        self._file: IO[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._remove_listener: Callable[[], None] | None = None
        self._started_s = 0.0
        self.samples_written = 0

    async def start(self) -> None:
        """Write the header and every tag's present sample, then follow changes."""
        self._file = self._path.open("w", encoding="utf-8")
        self._started_s = self._clock.now()
        header = {
            "format": RECORDING_FORMAT,
            "version": RECORDING_VERSION,
            "clock_rate": self._clock.rate,
            "started_wall_s": round(self._clock.wall_now(), 6),
            **self._header,
            "tags": self._names,
        }
        self._file.write(json.dumps(header, allow_nan=False) + "\n")
        self._record(self._table.snapshot(self._names).values())
        self._remove_listener = self._table.add_listener(self._on_change)
        self._task = asyncio.create_task(self._sweep_forever(), name="tag-recorder")

    async def stop(self) -> None:
        """Stop following, record the last quality changes, close the file."""
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._file is not None:
            self._record(self._table.snapshot(self._names).values())
            self._file.close()
            self._file = None
        log.info("recording_closed", path=str(self._path), samples=self.samples_written)

    async def __aenter__(self) -> TagRecorder:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _on_change(self, names: Sequence[str]) -> None:
        self._record(self._table.get(name) for name in names if name in self._wanted)

    async def _sweep_forever(self) -> None:
        while True:
            await self._clock.wall_sleep(self._sweep_s)
            self._record(self._table.snapshot(self._names).values())
            if self._file is not None:
                self._file.flush()

    def _record(self, samples: Iterable[Sample]) -> None:
        file = self._file
        if file is None:
            return
        t_s = self._clock.now() - self._started_s
        for sample in samples:
            last = self._last.get(sample.tag)
            if last is not None and last[1] is sample.quality and _same(last[0], sample.value):
                continue
            self._last[sample.tag] = (sample.value, sample.quality)
            recorded = RecordedSample(
                t_s=t_s,
                tag=sample.tag,
                value=sample.value,
                quality=sample.quality,
                reason="" if sample.is_good else sample.reason,
            )
            file.write(recorded.to_json() + "\n")
            self.samples_written += 1


@dataclass
class ReplayProgress:
    applied: int = 0  # samples put into the table so far
    last_t_s: float = 0.0  # recording time of the last one
    done: bool = False


class ReplaySource:
    """Feeds a recording into a tag table at the recorded pace, in place of the PLC hubs.

    Samples are applied in file order at `start + t_s` on the given clock (a clock at
    rate N replays N times faster than real time). A recorded GOOD, UNCERTAIN or BAD sample
    is stored with that quality and reason; a recorded STALE sample is stored as old as
    its PLC's staleness limit, so the table judges it STALE as the bench did. Tags whose
    last sample was not STALE are kept fresh between samples (the recording only holds
    changes), as a live link's polls would.
    """

    def __init__(self, *, recording: Recording, table: TagTable, clock: Clock) -> None:
        unknown = [name for name in recording.tags if not table.definition.has_tag(name)]
        if unknown:
            raise ValueError(
                f"the recording names {len(unknown)} tag(s) that the pad definition "
                f"{table.definition.pad!r} has not: {', '.join(unknown[:10])}"
            )
        self._recording = recording
        self._table = table
        self._clock = clock
        self._groups: dict[str, TagGroup] = {name: table.group([name]) for name in recording.tags}
        self._stale: set[str] = set()
        self._next = 0
        self._origin_s: float | None = None
        self._task: asyncio.Task[int] | None = None
        stale_limits = [group.stale_after_s for group in self._groups.values()]
        self._keepalive_s = min(stale_limits, default=1.0) / 4
        self.progress = ReplayProgress()
        self._listeners: list[Callable[[Sequence[RecordedSample]], None]] = []

    def add_listener(self, listener: Callable[[Sequence[RecordedSample]], None]) -> None:
        """Call `listener(samples)` after each instant's samples are in the table."""
        self._listeners.append(listener)

    def prime(self) -> int:
        """Apply the recording's first instant now (the bench as it was when recording began)."""
        self._origin_s = self._clock.now()
        return self._apply_due(self._recording.samples[0].t_s if self._recording.samples else 0)

    async def run(self) -> int:
        """Play the rest of the recording to its end; the number of samples applied in all."""
        if self._origin_s is None:
            self.prime()
        assert self._origin_s is not None
        samples = self._recording.samples
        while self._next < len(samples):
            due_s = self._origin_s + samples[self._next].t_s
            now_s = self._clock.now()
            if due_s > now_s:
                self._keep_fresh(now_s)
                await self._sleep_until(due_s)
                continue
            self._apply_due(samples[self._next].t_s)
        self.progress.done = True
        log.info("replay_done", samples=self.progress.applied)
        return self.progress.applied

    async def start(self) -> None:
        """Play in the background (see `run`); `progress.done` tells the end."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="replay-source")

    async def keep_fresh_until(self, deadline_s: float) -> None:
        """After the end, hold the last values fresh until `deadline_s` (a settling time)."""
        while (now_s := self._clock.now()) < deadline_s:
            self._keep_fresh(now_s)
            await self._sleep_until(deadline_s)

    async def _sleep_until(self, due_s: float) -> None:
        """Until `due_s` (clock), or a keep-alive (wall: staleness is judged in wall time)."""
        clock = self._clock
        rate = clock.rate
        left_wall_s = (due_s - clock.now()) / rate if rate > 0 else self._keepalive_s
        await clock.wall_sleep(min(left_wall_s, self._keepalive_s))

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    def _apply_due(self, until_t_s: float) -> int:
        samples = self._recording.samples
        batch = []
        while self._next < len(samples) and samples[self._next].t_s <= until_t_s:
            batch.append(samples[self._next])
            self._next += 1
        now_s = self._clock.now()
        for sample in batch:
            self._apply(sample, now_s)
        if batch:
            self.progress.applied += len(batch)
            self.progress.last_t_s = batch[-1].t_s
            for listener in list(self._listeners):
                listener(batch)
        return len(batch)

    def _apply(self, sample: RecordedSample, now_s: float) -> None:
        group = self._groups[sample.tag]
        if sample.value is None:
            self._stale.discard(sample.tag)
            self._table.mark_bad(group, reason=sample.reason or "no data", t_received_s=now_s)
            return
        if sample.quality is Quality.STALE:
            self._stale.add(sample.tag)
            aged_wall_s = self._clock.monotonic() - group.stale_after_s * 1.001 - 1e-6
            self._table.update_group(
                group,
                (sample.value,),
                t_source_s=now_s,
                t_received_s=now_s,
                received_wall_s=aged_wall_s,
            )
            return
        self._stale.discard(sample.tag)
        self._table.update_group(
            group,
            (sample.value,),
            t_source_s=now_s,
            t_received_s=now_s,
            quality=sample.quality,
            reason=sample.reason,
        )

    def _keep_fresh(self, now_s: float) -> None:
        self._table.confirm(
            (group for name, group in self._groups.items() if name not in self._stale),
            t_received_s=now_s,
        )
