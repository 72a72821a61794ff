"""A station seen from afar: what `padctl serve --from-mqtt` shows, fed only by the pad's
Sparkplug B edge node through a broker. It has no PLC connection and commands nothing.

The pad definition, the countdown sequence and the LCC come from the same files the pad's
station uses; every value (tags with their quality, the count's state, T and L, hold reason
and rate, each subsystem's state, mode and fault, the annunciated alarms) comes from the
mirror. While the edge node is dead (its NDEATH) or the broker is out of sight, every tag is
STALE, every PLC not fresh and the alarm SPARKPLUG-FEED is up; values come back GOOD with the
next birth. The mirror runs on paho's thread; changes reach the asyncio loop only through
`loop.call_soon_threadsafe`, and everything here is read and written on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from padctl.clock import Clock, real_clock
from padctl.countdown import CountdownSequence, Criterion
from padctl.definition import PadDefinition
from padctl.feed import ALARMS_GROUP, COUNTDOWN_GROUP, SUBSYSTEMS_GROUP
from padctl.health import PlcFreshness
from padctl.journal import AsyncJournal
from padctl.off_loop import OffLoopWorker
from padctl.plant import Quality, Sample
from padctl.sparkplug._edge_node import BrokerAddress
from padctl.sparkplug._host import MirroredMetric, SparkplugMirror
from padctl.sparkplug._remote_parts import (
    MirroredAlarms,
    MirroredClock,
    MirroredCountdown,
    MirroredPace,
    MirroredSubsystem,
)
from padctl.station import subsystem_tags_of
from padctl.subsystems import ALL_SPECS, SubsystemSpec, compile_all

log = structlog.get_logger()

READ_ONLY_REASON = "this console is fed from Sparkplug and takes no commands"


@dataclass
class MirroredTable:
    samples: dict[str, Sample] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Sample]:
        return dict(self.samples)


@dataclass
class MirroredPlant:
    table: MirroredTable = field(default_factory=MirroredTable)
    pace: MirroredPace = field(default_factory=MirroredPace)


class RemoteStation:
    """The console's view of a pad whose only source is its Sparkplug edge node
    (`async with RemoteStation(...)`)."""

    def __init__(
        self,
        *,
        definition: PadDefinition,
        sequence: CountdownSequence,
        lcc: tuple[Criterion, ...],
        broker: BrokerAddress,
        journal_path: Path,
        group_id: str = "padctl",
        edge_node_id: str | None = None,
        specs: tuple[SubsystemSpec, ...] = ALL_SPECS,
        clock: Clock | None = None,
    ) -> None:
        """`clock`: padctl's real-time clock (injected in tests; real time by default)."""
        self.definition = definition
        self.sequence = sequence
        self.lcc = lcc
        self.clock = MirroredClock(clock or real_clock())
        compiled = compile_all(definition, specs)
        self.subsystems = {
            name: MirroredSubsystem(c.spec, c.spec.initial.name) for name, c in compiled.items()
        }
        self._subsystem_tags = {name: subsystem_tags_of(c) for name, c in compiled.items()}
        self.countdown = MirroredCountdown(sequence)
        self.alarms = MirroredAlarms(self.clock)
        self.plant = MirroredPlant()
        self.running = False
        self._journal_path = journal_path
        self._journal: AsyncJournal | None = None
        self._stack = contextlib.AsyncExitStack()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refresh_due = threading.Event()
        self._offline_since_wall_s: float | None = self.clock.monotonic()
        self.mirror = SparkplugMirror(
            broker,
            group_id=group_id,
            edge_node_id=edge_node_id or definition.pad,
            on_change=self._changed_elsewhere,
        )
        self._refresh()

    # ---- life cycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> RemoteStation:
        self._journal = await self._stack.enter_async_context(
            AsyncJournal(self._journal_path, clock=self.clock)
        )
        self._loop = asyncio.get_running_loop()
        try:
            self.mirror.start()
        except BaseException:
            await self._stack.aclose()
            raise
        self.running = True
        log.info("remote_station_started", pad=self.definition.pad)
        return self

    async def __aexit__(self, *_exception: object) -> None:
        self.running = False
        await OffLoopWorker("sparkplug-mirror-stop").run(self.mirror.stop)
        self._loop = None
        await self._stack.aclose()

    @property
    def journal(self) -> AsyncJournal:
        """The remote console's own journal (its logins and refusals), not the pad's."""
        if self._journal is None:
            raise RuntimeError("the remote station is not started")
        return self._journal

    @property
    def health(self) -> RemoteStation:
        return self

    # ---- what the console reads ----------------------------------------------------------------
    @property
    def online(self) -> bool:
        """Whether the pad's data is live: the mirror's session is up and the node is born."""
        return self.mirror.status.connected and self.mirror.status.online

    def subsystem_tags(self, name: str) -> tuple[str, ...]:
        return self._subsystem_tags[name]

    def freshness(self) -> dict[str, PlcFreshness]:
        samples = self.plant.table.samples
        offline_s = (
            0.0
            if self._offline_since_wall_s is None
            else self.clock.monotonic() - self._offline_since_wall_s
        )
        return {
            plc.id: PlcFreshness(
                plc=plc.id,
                age_s=offline_s,
                stale_after_s=plc.stale_after_s,
                stale_tags=tuple(
                    tag.name
                    for tag in self.definition.tags_of(plc.id)
                    if samples[tag.name].quality is Quality.STALE
                ),
            )
            for plc in self.definition.plcs
        }

    def stale_plcs(self) -> list[str]:
        return [plc_id for plc_id, state in self.freshness().items() if not state.fresh]

    def start_problems(self) -> list[str]:
        """A remote console starts nothing; what it shows of the pad's start problems is only
        whether its own data is stale."""
        return [f"PLC {plc_id}: data STALE" for plc_id in self.stale_plcs()]

    def report(self) -> dict[str, Any]:
        """Health as the remote console knows it: its link to the broker and the edge node."""
        status = self.mirror.status
        return {
            "sparkplug": {
                "broker_connected": status.connected,
                "edge_node_online": status.online,
                "births": status.births,
                "deaths": status.deaths,
                "rebirths_asked": status.rebirths_asked,
            },
            "plcs": {
                plc_id: {"data_fresh": state.fresh, "stale_tags": len(state.stale_tags)}
                for plc_id, state in self.freshness().items()
            },
        }

    # ---- from paho's thread to the loop ----------------------------------------------------
    def _changed_elsewhere(self) -> None:
        """On paho's thread: ask the loop for one refresh (many changes, one refresh)."""
        loop = self._loop
        if loop is None or self._refresh_due.is_set():
            return
        self._refresh_due.set()
        with contextlib.suppress(RuntimeError):  # the loop is closing: nothing to show to
            loop.call_soon_threadsafe(self._refresh)

    def _refresh(self) -> None:
        """On the loop: everything the console reads, from the mirror's picture now."""
        self._refresh_due.clear()
        devices = self.mirror.snapshot()
        online = self.online
        if online:
            self._offline_since_wall_s = None
        elif self._offline_since_wall_s is None:
            self._offline_since_wall_s = self.clock.monotonic()
            log.warning("remote_station_stale", pad=self.definition.pad)
        self._refresh_tags(devices, online)
        values = {
            device: {name: metric.value for name, metric in metrics.items()}
            for device, metrics in devices.items()
        }
        countdown = values.get(COUNTDOWN_GROUP, {})
        self.countdown.update(countdown)
        rate = countdown.get("Rate")
        if isinstance(rate, int | float) and rate > 0:
            self.clock.rate = self.plant.pace.requested_rate = float(rate)
        for subsystem in self.subsystems.values():
            subsystem.update(values.get(SUBSYSTEMS_GROUP, {}))
        summary = values.get(ALARMS_GROUP, {}).get("Summary")
        self.alarms.update(
            summary if isinstance(summary, str) else "",
            feed_lost="" if online else self._why_offline(),
        )

    def _why_offline(self) -> str:
        if not self.mirror.status.connected:
            return "the remote console has no session with the MQTT broker"
        if self.mirror.status.births == 0:
            return "the pad's edge node has not been born yet (no NBIRTH seen)"
        return "the pad's edge node is dead (NDEATH) or its messages were lost"

    def _refresh_tags(
        self, devices: Mapping[str, Mapping[str, MirroredMetric]], online: bool
    ) -> None:
        offset_s = self.clock.wall_now() - self.clock.now()
        now_wall_s = self.clock.monotonic()
        samples = self.plant.table.samples
        for tag in self.definition.tags:
            metric = devices.get(tag.plc, {}).get(tag.name)
            value = None if metric is None else metric.value
            quality = Quality.STALE if metric is None else Quality(metric.quality)
            reason = "" if quality is Quality.GOOD else f"{quality.value} as the pad reports it"
            if not online:
                quality, reason = Quality.STALE, self._why_offline()
            t_source_s = (
                now_wall_s
                if metric is None or metric.timestamp_ms is None
                else metric.timestamp_ms / 1000 - offset_s
            )
            known = samples.get(tag.name)
            if known is not None and (known.value, known.quality) == (value, quality):
                continue
            samples[tag.name] = Sample(
                tag=tag.name,
                value=value if not isinstance(value, str) else None,
                quality=quality,
                t_source_s=t_source_s,
                t_received_s=self.clock.now(),
                reason=reason,
                t_received_wall_s=now_wall_s,
            )
