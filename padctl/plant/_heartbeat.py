"""Heartbeats: padctl's rolling counter to each PLC, and a watch on the PLC's own counter."""

from __future__ import annotations

import asyncio

import structlog

from padctl.clock import Clock
from padctl.definition import Heartbeat, PadDefinition
from padctl.plant._errors import PlantError
from padctl.plant._hub import Hub
from padctl.plant._tag_table import TagTable
from padctl.tasks import cancel_and_wait

log = structlog.get_logger()

COUNTER_MODULUS = 65536


class HeartbeatKeeper:
    """Writes padctl's counter every period and judges whether the PLC's counter still moves."""

    def __init__(
        self,
        *,
        hub: Hub,
        heartbeat: Heartbeat,
        definition: PadDefinition,
        table: TagTable,
        clock: Clock,
    ) -> None:
        self._hub = hub
        self._heartbeat = heartbeat
        self._counter_tag = definition.tag(heartbeat.padctl_counter_tag)
        self._table = table
        self._clock = clock
        self._counter = 0
        self._task: asyncio.Task[None] | None = None
        self._plc_counter_seen: object = None
        self._plc_counter_changed_s = clock.now()
        self._plc_alive = False
        self.writes_failed = 0

    @property
    def plc_alive(self) -> bool:
        """True while the PLC's counter moved within the watchdog time, on GOOD data."""
        self._judge_plc()
        return self._plc_alive

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._beat(), name=f"heartbeat-{self._hub.plc_id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _beat(self) -> None:
        next_beat_s = self._clock.now()
        while True:
            self._counter = (self._counter + 1) % COUNTER_MODULUS
            try:
                await self._hub.write(self._counter_tag, self._counter)
            except PlantError as error:
                self.writes_failed += 1
                log.debug("heartbeat_write_failed", plc=self._hub.plc_id, error=str(error))
            self._judge_plc()
            next_beat_s += self._heartbeat.period_s
            now_s = self._clock.now()
            if next_beat_s < now_s:
                next_beat_s = now_s + self._heartbeat.period_s
            await self._clock.sleep_until(next_beat_s)

    def _judge_plc(self) -> None:
        sample = self._table.get(self._heartbeat.plc_counter_tag)
        now_s = self._clock.now()
        if sample.is_good and sample.value != self._plc_counter_seen:
            self._plc_counter_seen = sample.value
            self._plc_counter_changed_s = now_s
        alive = sample.is_good and now_s - self._plc_counter_changed_s <= self._heartbeat.watchdog_s
        if alive != self._plc_alive:
            self._plc_alive = alive
            if alive:
                log.info("plc_heartbeat_restored", plc=self._hub.plc_id)
            else:
                log.error(
                    "plc_heartbeat_lost",
                    plc=self._hub.plc_id,
                    quality=sample.quality.value,
                    reason=sample.reason,
                )
