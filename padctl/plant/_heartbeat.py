"""Heartbeats: padctl's rolling counter to each PLC, and a watch on the PLC's own counter.

All of it runs on wall time: a heartbeat and a PLC watchdog are the wire's business, and the
PLC's watchdog does not know about a scaled clock.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable

import structlog

from padctl.clock import Clock
from padctl.definition import Heartbeat, PadDefinition
from padctl.plant._hub import Hub
from padctl.plant._sample import Sample
from padctl.plant._tag_table import TagTable
from padctl.supervisor import Pulse
from padctl.tasks import cancel_and_wait
from padctl.timeouts import within_wall

log = structlog.get_logger()

COUNTER_MODULUS = 65536
_NOT_YET = object()  # no baseline of the PLC's counter taken yet


class WatchdogState(enum.StrEnum):
    """What padctl knows of a PLC's watchdog on padctl's heartbeat."""

    CLEAR = "clear"  # the PLC takes padctl's heartbeat up
    TRIPPED = "tripped"  # the PLC holds its outputs safe: padctl's heartbeat stopped reaching it
    UNKNOWN = "unknown"  # no fresh word on it (its status tag is not GOOD)


class HeartbeatKeeper:
    """Writes padctl's counter every period and judges whether the PLC's counter still moves.

    The keeper never dies of a failed write: every write is bounded in time, any failure is
    counted and the next beat comes on time. `on_change` is called whenever one of the
    judgements (PLC alive, heartbeat taken up, watchdog state) changes.
    """

    def __init__(
        self,
        *,
        hub: Hub,
        heartbeat: Heartbeat,
        definition: PadDefinition,
        table: TagTable,
        clock: Clock,
        on_change: Callable[[HeartbeatKeeper], None] | None = None,
    ) -> None:
        self._hub = hub
        self._heartbeat = heartbeat
        self._counter_tag = definition.tag(heartbeat.padctl_counter_tag)
        self._table = table
        self._clock = clock
        self._on_change = on_change
        self._counter = 0
        self._plc_counter_seen: object = _NOT_YET
        self._plc_counter_changed_wall_s = float("-inf")  # no change seen yet: not alive
        self._plc_alive = False
        self._last_write_ok_wall_s: float | None = None
        self._up_since_wall_s: float | None = None
        # Evidence of take-up: a PLC counter sample received after the first changed write,
        # a baseline received after that one (so read by the PLC after the write), and then a
        # change from the baseline (so the PLC scanned, and its watchdog looked, after it).
        self._first_receipt_since_up_wall_s: float | None = None
        self._baseline_since_up: object = _NOT_YET
        self._scanned_since_up = False
        self._taken_up = False
        self._watchdog = WatchdogState.UNKNOWN
        self._task: asyncio.Task[None] | None = None
        self.writes_failed = 0
        self.last_error = ""
        self.beats = 0

    @property
    def plc_id(self) -> str:
        return self._hub.plc_id

    @property
    def heartbeat(self) -> Heartbeat:
        return self._heartbeat

    @property
    def plc_alive(self) -> bool:
        """True while the PLC's counter moved within the watchdog time, on GOOD data."""
        self.judge()
        return self._plc_alive

    @property
    def taken_up(self) -> bool:
        """True while padctl's last heartbeat write reached the PLC within its watchdog time."""
        self.judge()
        return self._taken_up

    @property
    def watchdog(self) -> WatchdogState:
        """The PLC's watchdog: from its status tag where it has one, else inferred."""
        self.judge()
        return self._watchdog

    @property
    def last_write_age_wall_s(self) -> float | None:
        """Wall seconds since the last heartbeat write that reached the PLC."""
        if self._last_write_ok_wall_s is None:
            return None
        return self._clock.monotonic() - self._last_write_ok_wall_s

    async def start(self) -> None:
        """Beat on a task of its own (tools and tests; a plant runs `run` supervised)."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"heartbeat-{self.plc_id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def run(self, pulse: Pulse | None = None) -> None:
        """Beat until cancelled (run it under a supervisor)."""
        period_s = self._heartbeat.period_s
        write_timeout_s = max(period_s, 0.05)
        clock = self._clock
        next_beat_s = clock.monotonic()
        while True:
            self._counter, a_change = self._next_counter()
            try:
                await within_wall(
                    self._hub.write(self._counter_tag, self._counter),
                    write_timeout_s,
                    f"heartbeat write to {self.plc_id}",
                )
                self._last_write_ok_wall_s = clock.monotonic()
                if self._up_since_wall_s is None and a_change:
                    self._begin_take_up(self._last_write_ok_wall_s)
                self.beats += 1
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a failed beat must never end the beating
                self.writes_failed += 1
                self.last_error = str(error) or type(error).__name__
                log.debug("heartbeat_write_failed", plc=self.plc_id, error=self.last_error)
            self.judge()
            if pulse is not None:
                pulse.beat()
            next_beat_s += period_s
            now_s = clock.monotonic()
            if next_beat_s < now_s:
                next_beat_s = now_s + period_s
            await clock.wall_sleep(next_beat_s - now_s)

    def _next_counter(self) -> tuple[int, bool]:
        """The next count, and whether it is known to differ from what the PLC holds.

        A padctl that starts again counts from 1; if the one before it stopped at 1, a first
        beat of 1 is no change to the PLC's watchdog, which trips a moment later and drives
        the outputs safe, while the take-up looked done. So the count skips the value the PLC
        holds, and take-up counts only from a beat known to be a change (the PLC's value read
        back GOOD)."""
        count = (self._counter + 1) % COUNTER_MODULUS
        held = self._table.get(self._counter_tag.name)
        if not held.is_good:
            return count, False
        if held.value == count:
            count = (count + 1) % COUNTER_MODULUS
        return count, True

    def judge(self) -> None:
        """Judge the PLC's counter, the take-up of padctl's and the watchdog, now."""
        now_s = self._clock.monotonic()
        sample = self._table.get(self._heartbeat.plc_counter_tag)
        if sample.is_good and sample.value != self._plc_counter_seen:
            if self._plc_counter_seen is not _NOT_YET:  # a first sight is no change
                self._plc_counter_changed_wall_s = now_s
            self._plc_counter_seen = sample.value
        self._gather_take_up_evidence(sample)
        watchdog_s = self._heartbeat.watchdog_s
        # padctl's own loop standing still is not the PLC's logic stopping (the table's excuse)
        changed_s = self._plc_counter_changed_wall_s
        alive = sample.is_good and (
            now_s - changed_s <= watchdog_s
            or now_s - changed_s - self._table.excused_wall_s(changed_s, watchdog_s) <= watchdog_s
        )
        # Taken up: padctl's writes reach the PLC, and the PLC has scanned since they began
        # (its own counter moved after a reading taken after them), so its watchdog has seen
        # padctl's counter change.
        taken_up = (
            self._last_write_ok_wall_s is not None
            and now_s - self._last_write_ok_wall_s <= watchdog_s
            and self._up_since_wall_s is not None
            and self._scanned_since_up
        )
        if not taken_up and (
            self._last_write_ok_wall_s is None or now_s - self._last_write_ok_wall_s > watchdog_s
        ):
            self._begin_take_up(None)  # the next good write starts a new take-up
        watchdog = self._watchdog_state(taken_up)
        changed = (alive, taken_up, watchdog) != (self._plc_alive, self._taken_up, self._watchdog)
        if alive != self._plc_alive:
            if alive:
                log.info("plc_heartbeat_restored", plc=self.plc_id)
            else:
                log.error(
                    "plc_heartbeat_lost",
                    plc=self.plc_id,
                    quality=sample.quality.value,
                    reason=sample.reason,
                )
        self._plc_alive, self._taken_up, self._watchdog = alive, taken_up, watchdog
        if changed and self._on_change is not None:
            self._on_change(self)

    def _begin_take_up(self, up_since_wall_s: float | None) -> None:
        self._up_since_wall_s = up_since_wall_s
        self._first_receipt_since_up_wall_s = None
        self._baseline_since_up = _NOT_YET
        self._scanned_since_up = False

    def _gather_take_up_evidence(self, sample: Sample) -> None:
        """Step the take-up evidence on the PLC counter's latest sample. A sample received
        after the write may have been read before it; the next receipt after that one was
        requested after it, so its value is a baseline the PLC held after the write."""
        up_since_s = self._up_since_wall_s
        if up_since_s is None or self._scanned_since_up or not sample.is_good:
            return
        received_s = sample.t_received_wall_s
        if received_s <= up_since_s:
            return
        if self._first_receipt_since_up_wall_s is None:
            self._first_receipt_since_up_wall_s = received_s
        elif self._baseline_since_up is _NOT_YET:
            if received_s > self._first_receipt_since_up_wall_s:
                self._baseline_since_up = sample.value
        elif sample.value != self._baseline_since_up:
            self._scanned_since_up = True

    def _watchdog_state(self, taken_up: bool) -> WatchdogState:
        tag = self._heartbeat.watchdog_tag
        if tag is None:  # inferred: a heartbeat that stopped reaching the PLC has tripped it
            return WatchdogState.CLEAR if taken_up else WatchdogState.TRIPPED
        sample = self._table.get(tag)
        if not sample.is_good:
            return WatchdogState.UNKNOWN
        return WatchdogState.TRIPPED if bool(sample.value) else WatchdogState.CLEAR
