"""padctl's Sparkplug B face: the station as one edge node, each PLC a device, plus devices
for the countdown, the subsystems and the alarms.

The face runs a supervised task on the station's loop that only gathers what changed (the
tag table tells it which tags did) and hands the readings to the edge node's own threads;
encoding and the broker's pace never reach the loop. It accepts no command: an NCMD other
than `Node Control/Rebirth` is refused and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import structlog

from padctl.alarms import AlarmDefinition, AlarmKind, AlarmPriority
from padctl.definition import PadDefinition, TagType
from padctl.off_loop import OffLoopWorker
from padctl.plant import Quality, Sample
from padctl.sparkplug._edge_node import BrokerAddress, EdgeNode, MetricDef, Reading
from padctl.sparkplug._schema import DataType
from padctl.station import Station
from padctl.supervisor import Pulse

log = structlog.get_logger()

COUNTDOWN_DEVICE = "Countdown"
SUBSYSTEMS_DEVICE = "Subsystems"
ALARMS_DEVICE = "Alarms"
FULL_SWEEP_WALL_S = 1.0  # every tag judged again this often: quality changes by age
LINK_ALARM_ID = "SPARKPLUG-LINK"
LINK_GRACE_WALL_S = 3.0  # a broker restart or a reconnect is not yet an alarm


class MqttUrlError(ValueError):
    """An MQTT broker URL padctl cannot use; the message says why."""


def parse_mqtt_url(
    url: str, *, keepalive_s: int = 5, environ: Mapping[str, str] | None = None
) -> BrokerAddress:
    """`mqtt://[USER@]HOST[:PORT]` (1883) or `mqtts://[USER@]HOST[:PORT]` (TLS, 8883) as a
    broker address. A password never comes on the command line: it is read from
    PADCTL_MQTT_PASSWORD; PADCTL_MQTT_CA names the CA file a TLS broker is checked
    against (the system's trust store without it)."""
    env = os.environ if environ is None else environ
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("mqtt", "mqtts"):
        raise MqttUrlError(f"MQTT URL {url!r}: the scheme must be mqtt:// or mqtts://")
    if not parsed.hostname:
        raise MqttUrlError(f"MQTT URL {url!r}: no broker host")
    if parsed.password is not None:
        raise MqttUrlError(
            f"MQTT URL {parsed.scheme}://{parsed.hostname}: no password in the URL "
            "(set PADCTL_MQTT_PASSWORD)"
        )
    tls = parsed.scheme == "mqtts"
    try:
        port = parsed.port or (8883 if tls else 1883)
    except ValueError as error:
        raise MqttUrlError(f"MQTT URL {url!r}: {error}") from None
    ca_file = env.get("PADCTL_MQTT_CA") or None
    if ca_file is not None and not Path(ca_file).is_file():
        raise MqttUrlError(f"PADCTL_MQTT_CA={ca_file}: no such file")
    return BrokerAddress(
        host=parsed.hostname,
        port=port,
        keepalive_s=keepalive_s,
        tls=tls,
        ca_file=ca_file,
        username=parsed.username,
        password=env.get("PADCTL_MQTT_PASSWORD") if parsed.username else None,
    )


@dataclass(frozen=True)
class SparkplugSettings:
    broker: BrokerAddress
    group_id: str = "padctl"
    edge_node_id: str | None = None  # default: the pad definition's name
    period_wall_s: float = 0.05  # how often changes are gathered and handed over


def device_metrics(
    definition: PadDefinition, subsystems: Iterable[str]
) -> dict[str, list[MetricDef]]:
    """Every device of the edge node and its metrics, with aliases from 2 up (0 and 1 are
    never used, so a reader can tell an alias from nothing)."""
    aliases = iter(range(2, 1 << 62))
    devices: dict[str, list[MetricDef]] = {plc.id: [] for plc in definition.plcs}
    for tag in definition.tags:
        low, high = tag.range if tag.range is not None else (None, None)
        datatype = DataType.BOOLEAN if tag.type is TagType.BOOL else DataType.DOUBLE
        devices[tag.plc].append(MetricDef(tag.name, next(aliases), datatype, tag.unit, low, high))
    devices[COUNTDOWN_DEVICE] = [
        MetricDef("State", next(aliases), DataType.STRING),
        MetricDef("T", next(aliases), DataType.DOUBLE, "s"),
        MetricDef("L", next(aliases), DataType.DOUBLE, "s"),
        MetricDef("Hold reason", next(aliases), DataType.STRING),
        MetricDef("Rate", next(aliases), DataType.DOUBLE, "x"),
    ]
    devices[SUBSYSTEMS_DEVICE] = [
        MetricDef(f"{name}/{part}", next(aliases), DataType.STRING)
        for name in subsystems
        for part in ("State", "Mode", "Fault")
    ]
    devices[ALARMS_DEVICE] = [
        MetricDef("Annunciated", next(aliases), DataType.UINT64),
        MetricDef("Unacknowledged", next(aliases), DataType.UINT64),
        MetricDef("Summary", next(aliases), DataType.STRING),
    ]
    return devices


class SparkplugFace:
    """Publishes a running station over Sparkplug B (`async with SparkplugFace(...)`)."""

    def __init__(self, station: Station, settings: SparkplugSettings) -> None:
        self._station = station
        self._settings = settings
        definition = station.definition
        self._plc_of = {tag.name: tag.plc for tag in definition.tags}
        self.edge_node = EdgeNode(
            settings.broker,
            group_id=settings.group_id,
            edge_node_id=settings.edge_node_id or definition.pad,
            devices=device_metrics(definition, station.subsystems),
            clock=station.clock,
        )
        self._changed: set[str] = set(self._plc_of)
        self._last: dict[tuple[str, str], tuple[object, str]] = {}
        self._next_sweep_wall_s = 0.0
        self._last_connected_wall_s = self._station.clock.monotonic()
        self._remove_listener: Callable[[], None] = _nothing

    async def __aenter__(self) -> SparkplugFace:
        broker = self._settings.broker
        self._station.alarms.define(
            AlarmDefinition(
                id=LINK_ALARM_ID,
                message=f"Sparkplug B: no session with the MQTT broker {broker.host}:{broker.port}",
                priority=AlarmPriority.LOW,
                kind=AlarmKind.EVENT,
            )
        )
        self._remove_listener = self._station.plant.table.add_listener(self._changed.update)
        self._gather()
        self.edge_node.start()
        supervisor = self._station.supervisor
        if supervisor is None:
            raise RuntimeError("the station must be started before its Sparkplug face")
        supervisor.spawn("sparkplug", self._run, deadline_wall_s=2.0)
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._remove_listener()
        if self._station.supervisor is not None:
            await self._station.supervisor.stop_task("sparkplug")
        await OffLoopWorker("sparkplug-stop").run(self.edge_node.stop)

    async def _run(self, pulse: Pulse) -> None:
        while True:
            pulse.beat()
            self._gather()
            self._judge_link()
            await asyncio.sleep(self._settings.period_wall_s)

    def _judge_link(self) -> None:
        """Remote consoles and historians are blind while no session is up: say so (LOW:
        the pad itself loses nothing)."""
        now_wall_s = self._station.clock.monotonic()
        if self.edge_node.status.connected:
            self._last_connected_wall_s = now_wall_s
        down_s = now_wall_s - self._last_connected_wall_s
        self._station.alarms.set_condition(
            LINK_ALARM_ID,
            down_s > LINK_GRACE_WALL_S,
            detail=f"no MQTT session for {down_s:.0f} s: subscribers see the pad's NDEATH",
        )

    # ---- gathering (on the loop: cheap, never waits) ----------------------------------------
    def _gather(self) -> None:
        now_wall_s = self._station.clock.monotonic()
        names: Iterable[str]
        if now_wall_s >= self._next_sweep_wall_s:
            self._next_sweep_wall_s = now_wall_s + FULL_SWEEP_WALL_S
            names, self._changed = list(self._plc_of), set()
        else:
            names, self._changed = self._changed, set()
        now_ms = int(self._station.clock.wall_now() * 1000)
        by_device: dict[str, dict[str, Reading]] = {}
        for name, sample in self._station.plant.table.snapshot(names).items():
            self._keep(by_device, self._plc_of[name], name, sample.value, _quality(sample), now_ms)
        for device, values in self._station_values().items():
            for name, value in values.items():
                self._keep(by_device, device, name, value, Quality.GOOD.value, now_ms)
        for device, readings in by_device.items():
            self.edge_node.offer(device, readings)

    def _keep(
        self,
        by_device: dict[str, dict[str, Reading]],
        device: str,
        name: str,
        value: object,
        quality: str,
        now_ms: int,
    ) -> None:
        key = (device, name)
        if self._last.get(key) == (value, quality):
            return
        self._last[key] = (value, quality)
        by_device.setdefault(device, {})[name] = Reading(value, quality, now_ms)  # type: ignore[arg-type]

    def _station_values(self) -> dict[str, dict[str, object]]:
        station = self._station
        values: dict[str, dict[str, object]] = {}
        countdown = station.countdown if station.sequence is not None else None
        if countdown is not None:
            values[COUNTDOWN_DEVICE] = {
                "State": countdown.state.name,
                "T": round(countdown.t_now(), 1),
                "L": round(countdown.l_now(), 1),
                "Hold reason": countdown.hold_reason or "",
                "Rate": station.clock.rate,
            }
        values[SUBSYSTEMS_DEVICE] = {
            f"{name}/{part}": value
            for name, subsystem in station.subsystems.items()
            for part, value in (
                ("State", subsystem.machine_state),
                ("Mode", subsystem.mode.value),
                ("Fault", subsystem.last_fault or ""),
            )
        }
        views = station.alarms.annunciated()
        values[ALARMS_DEVICE] = {
            "Annunciated": len(views),
            "Unacknowledged": sum(1 for view in views if view.state.name.endswith("UNACK")),
            "Summary": "; ".join(
                f"{view.id} {view.state.name} {view.priority.name}" for view in views
            ),
        }
        return values


def _quality(sample: Sample) -> str:
    return sample.quality.value


def _nothing() -> None:
    return None


def published(
    station: Station, settings: SparkplugSettings | None
) -> contextlib.AbstractAsyncContextManager[object]:
    """The station's Sparkplug face while the block runs (nothing without settings)."""
    if settings is None:
        return contextlib.nullcontext()
    return SparkplugFace(station, settings)
