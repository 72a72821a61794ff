"""padctl's Sparkplug B face: the station as one edge node, each PLC a device, plus devices
for the countdown, the subsystems and the alarms.

The face runs a supervised task on the station's loop that only gathers what changed (the
tag table tells it which tags did) and hands the readings to the edge node's own threads;
encoding and the broker's pace never reach the loop. It accepts no command: an NCMD other
than `Node Control/Rebirth` is refused and logged.
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import structlog

from padctl.alarms import AlarmDefinition, AlarmKind, AlarmPriority
from padctl.definition import PadDefinition
from padctl.feed import (
    ALARMS_GROUP,
    COUNTDOWN_GROUP,
    SUBSYSTEMS_GROUP,
    PointKind,
    Reading,
    StationFeed,
    station_points,
)
from padctl.off_loop import OffLoopWorker
from padctl.sparkplug._edge_node import BrokerAddress, EdgeNode, MetricDef
from padctl.sparkplug._schema import DataType
from padctl.station import Station

log = structlog.get_logger()

COUNTDOWN_DEVICE = COUNTDOWN_GROUP
SUBSYSTEMS_DEVICE = SUBSYSTEMS_GROUP
ALARMS_DEVICE = ALARMS_GROUP
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


_DATATYPES = {
    PointKind.BOOL: DataType.BOOLEAN,
    PointKind.FLOAT: DataType.DOUBLE,
    PointKind.COUNT: DataType.UINT64,
    PointKind.TEXT: DataType.STRING,
}


def device_metrics(
    definition: PadDefinition, subsystems: Iterable[str]
) -> dict[str, list[MetricDef]]:
    """Every device of the edge node (a group of the station's points) and its metrics, with
    aliases from 2 up (0 and 1 are never used, so a reader can tell an alias from nothing)."""
    aliases = iter(range(2, 1 << 62))
    return {
        group: [
            MetricDef(p.name, next(aliases), _DATATYPES[p.kind], p.unit, p.low, p.high)
            for p in points
        ]
        for group, points in station_points(definition, subsystems).items()
    }


class SparkplugFace:
    """Publishes a running station over Sparkplug B (`async with SparkplugFace(...)`)."""

    def __init__(self, station: Station, settings: SparkplugSettings) -> None:
        self._station = station
        self._settings = settings
        definition = station.definition
        self.edge_node = EdgeNode(
            settings.broker,
            group_id=settings.group_id,
            edge_node_id=settings.edge_node_id or definition.pad,
            devices=device_metrics(definition, station.subsystems),
            clock=station.clock,
        )
        self._feed = StationFeed(station)
        self._last_connected_wall_s = self._station.clock.monotonic()

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
        self._feed.start(  # the first readings are handed over before the first birth
            "sparkplug",
            self._hand_over,
            period_wall_s=self._settings.period_wall_s,
            each_turn=self._judge_link,
        )
        try:
            self.edge_node.start()
        except BaseException:
            await self._feed.stop()
            raise
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        await self._feed.stop()
        await OffLoopWorker("sparkplug-stop").run(self.edge_node.stop)

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

    def _hand_over(self, by_device: dict[str, dict[str, Reading]]) -> None:
        """On the loop: cheap, never waits."""
        for device, readings in by_device.items():
            self.edge_node.offer(device, readings)


def published(
    station: Station, settings: SparkplugSettings | None
) -> contextlib.AbstractAsyncContextManager[object]:
    """The station's Sparkplug face while the block runs (nothing without settings)."""
    if settings is None:
        return contextlib.nullcontext()
    return SparkplugFace(station, settings)
