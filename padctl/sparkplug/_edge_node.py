"""A Sparkplug B edge node on an MQTT broker, run off the control loop.

paho-mqtt's network thread keeps the connection (connect, keep-alive, reconnect with
backoff); a publisher thread of this module encodes and publishes. The control loop only
hands over the latest readings (`offer`: a dict merge under a lock, never a wait), so a
broker that is down, slow or stopped costs it nothing: readings that cannot be sent are
coalesced (the latest value of each metric wins) until the broker takes data again.

What the specification asks of an edge node (Sparkplug 3.0), and where it is done here:
- the NDEATH is the MQTT will, registered at connect with the `bdSeq` of the NBIRTH that
  follows; each new MQTT session increments `bdSeq` (`_on_disconnect` sets the next will);
- NBIRTH (seq 0), then a DBIRTH per device, carry every metric with its name, alias,
  datatype and properties (engineering unit, range, quality); data messages carry aliases;
- `seq` runs 0-255 over every node and device message of a session and wraps;
- an NCMD `Node Control/Rebirth` = true asks for a new NBIRTH and DBIRTHs;
- a clean stop publishes the NDEATH itself before it disconnects.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import CallbackAPIVersion

from padctl.clock import Clock
from padctl.feed import Reading
from padctl.off_loop import lower_priority
from padctl.sparkplug._schema import DataType, Payload

log = structlog.get_logger()

NAMESPACE = "spBv1.0"
REBIRTH = "Node Control/Rebirth"
BD_SEQ = "bdSeq"
# Sparkplug quality codes (the property "Quality", Int32), as Sparkplug host applications read
# them: GOOD 192, UNCERTAIN 64 (OPC's codes), BAD 0, STALE 500.
QUALITY_CODES = {"GOOD": 192, "UNCERTAIN": 64, "BAD": 0, "STALE": 500}
UNWRITTEN_LIMIT = 64  # messages handed to paho and not yet on the socket: a slow broker


@dataclass(frozen=True)
class MetricDef:
    """One metric of a device: its name, alias (unique in the edge node), datatype, unit and
    engineering range (None where it has none)."""

    name: str
    alias: int
    datatype: DataType
    unit: str = ""
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int = 1883
    keepalive_s: int = 5
    tls: bool = False
    ca_file: str | None = None  # the system's trust store when None
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass
class EdgeNodeStatus:
    """What the edge node has done, for health and tests (read from any thread)."""

    connected: bool = False
    bd_seq: int = 0
    sessions: int = 0
    births: int = 0
    data_messages: int = 0
    coalesced_while_slow: int = 0
    rebirth_requests: int = 0
    errors: list[str] = field(default_factory=list)


class EdgeNode:
    """Publishes devices' metrics as one Sparkplug B edge node. `offer` from any thread."""

    def __init__(
        self,
        broker: BrokerAddress,
        *,
        group_id: str,
        edge_node_id: str,
        devices: Mapping[str, Iterable[MetricDef]],
        clock: Clock,
        reconnect_max_s: int = 5,
    ) -> None:
        self._broker = broker
        self._clock = clock
        self._group_id = group_id
        self._edge_node_id = edge_node_id
        self._devices = {
            device: {m.name: m for m in metrics} for device, metrics in devices.items()
        }
        aliases = [m.alias for metrics in self._devices.values() for m in metrics.values()]
        if len(set(aliases)) != len(aliases) or 0 in aliases or 1 in aliases:
            raise ValueError("metric aliases must be unique in an edge node and above 1")
        self.status = EdgeNodeStatus()
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, Reading]] = {}
        self._state: dict[str, dict[str, Reading]] = {device: {} for device in self._devices}
        self._wake = threading.Event()
        self._stopping = False
        self._stopped = threading.Event()  # set by stop: the publisher's pauses end at once
        self._need_birth = False
        self._seq = 0
        self._published = 0  # counted by the publisher thread
        self._written = 0  # counted by paho's network thread (on_publish)
        self._client = broker_client(
            broker, f"padctl-{group_id}-{edge_node_id}", reconnect_max_s=reconnect_max_s
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish
        self._set_will()
        self._thread = threading.Thread(
            target=self._publish_forever, name="sparkplug-publisher", daemon=True
        )

    # ---- topics -----------------------------------------------------------------------------
    def topic(self, kind: str, device: str | None = None) -> str:
        base = f"{NAMESPACE}/{self._group_id}/{kind}/{self._edge_node_id}"
        return base if device is None else f"{base}/{device}"

    # ---- the control loop's side --------------------------------------------------------------
    def offer(self, device: str, readings: Mapping[str, Reading]) -> None:
        """The latest readings of some of `device`'s metrics: merged, never waited on."""
        if not readings:
            return
        with self._lock:
            self._pending.setdefault(device, {}).update(readings)
        self._wake.set()

    def start(self) -> None:
        self._thread.start()
        self._client.connect_async(
            self._broker.host, self._broker.port, keepalive=self._broker.keepalive_s
        )
        self._client.loop_start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Publish the NDEATH (when connected), disconnect, and end both threads."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout_s)
        if self.status.connected:
            info = self._client.publish(self.topic("NDEATH"), self._death_payload(), qos=0)
            try:
                info.wait_for_publish(timeout=min(timeout_s, 2.0))
            except (RuntimeError, ValueError) as error:  # not queued: the broker has gone
                log.warning("sparkplug_ndeath_not_sent", error=str(error))
        self._client.disconnect()
        self._client.loop_stop()
        release_sockets(self._client)

    def _now_ms(self) -> int:
        return int(self._clock.wall_now() * 1000)

    # ---- paho's network thread -----------------------------------------------------------------
    def _set_will(self) -> None:
        self._client.will_set(self.topic("NDEATH"), self._death_payload(), qos=0, retain=False)

    def _death_payload(self) -> bytes:
        payload = Payload(timestamp=self._now_ms())
        payload.metrics.add(name=BD_SEQ, datatype=DataType.UINT64, long_value=self.status.bd_seq)
        return bytes(payload.SerializeToString())

    def _on_connect(
        self, client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            self._note_error(f"broker refused the connection: {reason}")
            return
        client.subscribe(self.topic("NCMD"), qos=1)
        self.status.connected = True
        self.status.sessions += 1
        self._written = self._published  # a new session starts with nothing queued
        self._need_birth = True
        self._wake.set()
        log.info("sparkplug_connected", bd_seq=self.status.bd_seq)

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        was_connected = self.status.connected
        self.status.connected = False
        if was_connected:
            # A new session must carry a new bdSeq, in its will and in the NBIRTH after it.
            self.status.bd_seq = (self.status.bd_seq + 1) % 256
            self._set_will()
            if not self._stopping:
                log.warning("sparkplug_disconnected", reason=str(reason))

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        try:
            payload = Payload.FromString(message.payload)
        except Exception as error:  # a malformed NCMD is refused, never acted on
            self._note_error(f"unreadable NCMD ignored: {error}")
            return
        for metric in payload.metrics:
            if metric.name == REBIRTH and metric.WhichOneof("value") == "boolean_value":
                if metric.boolean_value:
                    self.status.rebirth_requests += 1
                    self._need_birth = True
                    self._wake.set()
            else:
                self._note_error(
                    f"NCMD metric {metric.name!r} refused: padctl takes no commands over MQTT"
                )

    def _on_publish(self, *_args: Any) -> None:
        self._written += 1

    def _note_error(self, error: str) -> None:
        log.warning("sparkplug_error", error=error)
        self.status.errors.append(error)
        del self.status.errors[:-20]

    # ---- the publisher thread ------------------------------------------------------------------
    def _publish_forever(self) -> None:
        lower_priority()  # on a busy machine the control loop's thread gets the core first
        while not self._stopping:
            self._wake.wait(timeout=0.5)
            self._wake.clear()
            try:
                self._publish_once()
            except Exception as error:  # the publisher never dies: note it and go on
                self._note_error(f"publish failed: {error!r}")
                self._stopped.wait(0.1)

    def _publish_once(self) -> None:
        if not self.status.connected:
            return
        if self._published - self._written > UNWRITTEN_LIMIT:  # a slow broker: keep coalescing
            self.status.coalesced_while_slow += 1
            self._stopped.wait(0.05)
            self._wake.set()
            return
        with self._lock:
            pending, self._pending = self._pending, {}
        for device, readings in pending.items():
            self._state.setdefault(device, {}).update(readings)
        if self._need_birth:
            self._need_birth = False
            self._publish_births()
            return
        for device, readings in pending.items():
            self._publish("DDATA", device, self._data_payload(device, readings))
            self.status.data_messages += 1

    def _next_seq(self) -> int:
        seq, self._seq = self._seq, (self._seq + 1) % 256
        return seq

    def _publish(self, kind: str, device: str | None, payload: Any) -> None:
        self._published += 1
        self._client.publish(self.topic(kind, device), payload.SerializeToString(), qos=0)

    def _publish_births(self) -> None:
        self._seq = 0
        node = Payload(timestamp=self._now_ms(), seq=self._next_seq())
        node.metrics.add(name=BD_SEQ, datatype=DataType.UINT64, long_value=self.status.bd_seq)
        node.metrics.add(name=REBIRTH, datatype=DataType.BOOLEAN, boolean_value=False)
        self._publish("NBIRTH", None, node)
        for device, metrics in self._devices.items():
            payload = Payload(timestamp=self._now_ms(), seq=self._next_seq())
            state = self._state.get(device, {})
            for metric in metrics.values():
                reading = state.get(metric.name)
                entry = payload.metrics.add(
                    name=metric.name, alias=metric.alias, datatype=metric.datatype
                )
                _properties(entry, metric, reading)
                _value(entry, metric, reading)
            self._publish("DBIRTH", device, payload)
        self.status.births += 1

    def _data_payload(self, device: str, readings: Mapping[str, Reading]) -> Any:
        payload = Payload(timestamp=self._now_ms(), seq=self._next_seq())
        metrics = self._devices[device]
        for name, reading in readings.items():
            metric = metrics.get(name)
            if metric is None:
                continue
            entry = payload.metrics.add(alias=metric.alias, datatype=metric.datatype)
            entry.properties.keys.append("Quality")
            entry.properties.values.add(
                type=DataType.INT32, int_value=QUALITY_CODES.get(reading.quality, 0)
            )
            _value(entry, metric, reading)
        return payload


def broker_client(broker: BrokerAddress, client_id: str, *, reconnect_max_s: int) -> mqtt.Client:
    """A paho client (clean session) for `broker`: TLS and credentials as its URL asks, and
    reconnecting by itself, at most `reconnect_max_s` apart."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.reconnect_delay_set(min_delay=1, max_delay=reconnect_max_s)
    if broker.tls:
        client.tls_set(ca_certs=broker.ca_file)
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    return client


def release_sockets(client: mqtt.Client) -> None:
    """Close what a stopped paho client still holds: `loop_start` opens a socket pair (to wake
    its network thread) that paho closes only when the client is collected, which in a
    reference cycle may come after the sockets' own finalizers (a ResourceWarning)."""
    client._reset_sockets()


def _properties(entry: Any, metric: MetricDef, reading: Reading | None) -> None:
    keys, values = entry.properties.keys, entry.properties.values
    if metric.unit:
        keys.append("engUnit")
        values.add(type=DataType.STRING, string_value=metric.unit)
    if metric.low is not None and metric.high is not None:
        keys.extend(["engLow", "engHigh"])
        values.add(type=DataType.DOUBLE, double_value=metric.low)
        values.add(type=DataType.DOUBLE, double_value=metric.high)
    keys.append("Quality")
    quality = "BAD" if reading is None else reading.quality
    values.add(type=DataType.INT32, int_value=QUALITY_CODES.get(quality, 0))


def _value(entry: Any, metric: MetricDef, reading: Reading | None) -> None:
    if reading is None or reading.value is None:
        entry.is_null = True
        return
    entry.timestamp = reading.timestamp_ms
    value = reading.value
    if metric.datatype is DataType.BOOLEAN:
        entry.boolean_value = bool(value)
    elif metric.datatype is DataType.STRING:
        entry.string_value = str(value)
    elif metric.datatype in (DataType.INT64, DataType.UINT64):
        entry.long_value = int(value)
    else:
        entry.double_value = float(value)
