"""The station's tag history: every kept change of every tag, written off the control loop.

A supervised task on the station's loop notes which tags changed (the tag table says so) and,
twice a second, judges them against the pad definition's `history` settings: a change of
quality or of a switch is always kept; an analog value is kept when it moved by more than the
deadband (a share of its range) and `min_interval_s` has passed since its last row (the latest
value is kept at the end of the interval). The rows go to a writer thread of their own, at a
lower CPU priority, which appends them to SQLite in one transaction per batch and prunes rows
older than the retention. A writer that fails or falls behind is an alarm (LOW: the pad
itself loses nothing, its record does).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import structlog

from padctl.alarms import AlarmDefinition, AlarmKind, AlarmPriority
from padctl.definition import TagType
from padctl.history._store import HistoryRow, HistoryStore
from padctl.off_loop import OffLoopWorker, lower_priority
from padctl.plant import Quality
from padctl.station import Station
from padctl.supervisor import Pulse

log = structlog.get_logger()

HISTORY_ALARM_ID = "HISTORY"
GATHER_WALL_S = 0.5
FULL_SWEEP_WALL_S = 1.0  # every tag judged again this often: quality changes by age
PRUNE_EVERY_WALL_S = 600.0
MAX_QUEUED_BATCHES = 120  # a minute of batches: more means the disk cannot keep up


@dataclass
class _Kept:
    value: float | None
    quality: str
    t_wall_s: float


class TagHistory:
    """Keeps the station's tag history in `path` while the block runs."""

    def __init__(self, station: Station, path: Path) -> None:
        self._station = station
        self.path = path
        definition = station.definition
        self._settings = definition.history
        self._tags = {tag.name: tag for tag in definition.tags}
        self._deadband = {
            tag.name: (
                (tag.range[1] - tag.range[0]) * self._settings.deadband_pct / 100.0
                if tag.range is not None and tag.type is not TagType.BOOL
                else 0.0
            )
            for tag in definition.tags
        }
        self._kept: dict[str, _Kept] = {}
        self._dirty: set[str] = set(self._tags)
        self._next_sweep_wall_s = 0.0
        self._batches: queue.Queue[list[HistoryRow] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._remove_listener: Callable[[], None] = _nothing
        self._writer_error = ""
        self.rows_kept = 0
        self.batches_dropped = 0

    async def __aenter__(self) -> TagHistory:
        station = self._station
        supervisor = station.supervisor
        if supervisor is None:
            raise RuntimeError("the station must be started before its tag history")
        store = HistoryStore(self.path)  # opened here: a bad path is refused at once
        store.register((tag.name, tag.unit) for tag in self._tags.values())
        station.alarms.define(
            AlarmDefinition(
                id=HISTORY_ALARM_ID,
                message=f"Tag history {self.path}: rows are being lost",
                priority=AlarmPriority.LOW,
                kind=AlarmKind.EVENT,
            )
        )
        self._thread = threading.Thread(
            target=self._write_forever, args=(store,), name="tag-history", daemon=True
        )
        self._thread.start()
        self._remove_listener = station.plant.table.add_listener(self._dirty.update)
        supervisor.spawn("history", self._run, deadline_wall_s=5.0)
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._remove_listener()
        supervisor = self._station.supervisor
        if supervisor is not None:
            await supervisor.stop_task("history")
        self._batches.put(self._gather(final=True))
        self._batches.put(None)
        thread, self._thread = self._thread, None
        if thread is not None:
            await OffLoopWorker("history-stop").run(thread.join, 30.0)

    def write_for_test(self, rows: list[HistoryRow]) -> None:
        """Hand `rows` to the writer as a gathered batch would be (tests)."""
        self._batches.put(rows)

    # ---- on the loop ------------------------------------------------------------------------
    async def _run(self, pulse: Pulse) -> None:
        clock = self._station.clock
        while True:
            pulse.beat()
            rows = self._gather()
            if rows:
                if self._batches.qsize() >= MAX_QUEUED_BATCHES:
                    self.batches_dropped += 1
                else:
                    self._batches.put(rows)
            thread = self._thread
            trouble = self._writer_error or (
                f"{self.batches_dropped} batches dropped: the disk cannot keep up"
                if self.batches_dropped
                else ""
            )
            if thread is not None and not thread.is_alive():
                trouble = trouble or "the writer thread ended"
            self._station.alarms.set_condition(HISTORY_ALARM_ID, bool(trouble), detail=trouble)
            await clock.wall_sleep(GATHER_WALL_S)

    def _gather(self, *, final: bool = False) -> list[HistoryRow]:
        clock = self._station.clock
        now_s = clock.monotonic()
        unix_offset_s = clock.wall_now() - now_s
        if now_s >= self._next_sweep_wall_s or final:
            self._next_sweep_wall_s = now_s + FULL_SWEEP_WALL_S
            names: set[str] = set(self._tags)
        else:
            names = self._dirty
        self._dirty = set()
        rows = []
        min_interval_s = 0.0 if final else self._settings.min_interval_s
        for name, sample in self._station.plant.table.snapshot(names).items():
            value = None if sample.value is None else float(sample.value)
            quality = sample.quality.value
            t_wall_s = sample.t_received_wall_s + unix_offset_s
            if sample.quality is Quality.STALE or sample.value is None:
                t_wall_s = now_s + unix_offset_s  # it went stale now, not when last received
            kept = self._kept.get(name)
            if kept is not None:
                if kept.quality == quality and kept.value == value:
                    continue
                if kept.quality == quality and self._tags[name].type is not TagType.BOOL:
                    moved = kept.value is None or value is None
                    moved = moved or abs(value - kept.value) > self._deadband[name]  # type: ignore[operator]
                    if not moved:
                        continue
                    if t_wall_s - kept.t_wall_s < min_interval_s:
                        self._dirty.add(name)  # kept at the end of the interval
                        continue
            self._kept[name] = _Kept(value, quality, t_wall_s)
            rows.append(HistoryRow(name, t_wall_s, sample.t_received_s, value, quality))
        return rows

    # ---- the writer's thread ----------------------------------------------------------------
    def _write_forever(self, store: HistoryStore) -> None:
        lower_priority()
        clock = self._station.clock
        next_prune_s = 0.0
        try:
            while True:
                rows = self._batches.get()
                if rows is None:
                    return
                store.append(rows)
                self.rows_kept += len(rows)
                if clock.monotonic() >= next_prune_s:
                    next_prune_s = clock.monotonic() + PRUNE_EVERY_WALL_S
                    retention_s = self._settings.retention_days * 86400.0
                    store.prune(clock.wall_now() - retention_s)
        except Exception as error:  # reported by the alarm, and logged once
            self._writer_error = f"{type(error).__name__}: {error}"
            log.error("history_writer_failed", path=str(self.path), error=self._writer_error)
        finally:
            store.close()


def recorded(station: Station, path: Path | None) -> contextlib.AbstractAsyncContextManager[object]:
    """The station's tag history kept in `path` while the block runs (nothing when None)."""
    if path is None:
        return contextlib.nullcontext()
    return TagHistory(station, path)


def _nothing() -> None:
    return None
