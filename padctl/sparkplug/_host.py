"""A Sparkplug B host application's view of one padctl edge node: what a remote console
shows, fed only by the broker (no PLC connection, nothing of the pad's control loop).

Births declare each device's metrics (datatype, unit, range, alias); data updates them by
alias, with their quality. The node's death (its will, NDEATH, whose bdSeq matches the
birth's) or a device's death turns every metric it carries STALE, values kept. A gap in the
sequence numbers means messages were lost: every metric goes STALE until the rebirth the
mirror asks for (NCMD `Node Control/Rebirth`, the only message it ever publishes; the edge
node takes no other). paho runs the connection on a thread of its own; `snapshot` and
`status` may be read from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from padctl.sparkplug._edge_node import (
    BD_SEQ,
    NAMESPACE,
    QUALITY_CODES,
    REBIRTH,
    BrokerAddress,
    broker_client,
    release_sockets,
)
from padctl.sparkplug._schema import DataType, Payload

log = structlog.get_logger()

QUALITY_NAMES = {code: name for name, code in QUALITY_CODES.items()}
STALE = "STALE"


@dataclass(frozen=True)
class MirroredMetric:
    """One metric as the host last saw it."""

    value: float | int | bool | str | None
    quality: str  # GOOD, UNCERTAIN, BAD or STALE
    timestamp_ms: int | None
    datatype: DataType
    unit: str = ""
    low: float | None = None
    high: float | None = None


@dataclass
class HostStatus:
    online: bool = False  # the edge node is born and not dead
    connected: bool = False  # the mirror's own link to the broker
    bd_seq: int | None = None
    births: int = 0
    deaths: int = 0
    rebirths_asked: int = 0
    messages: int = 0
    errors: list[str] = field(default_factory=list)


class SparkplugMirror:
    """Every device of one edge node, as its births and data have it."""

    def __init__(
        self,
        broker: BrokerAddress,
        *,
        group_id: str,
        edge_node_id: str,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        """`on_change` is called on paho's thread after each message that changed anything."""
        self._broker = broker
        self._group_id = group_id
        self._edge_node_id = edge_node_id
        self._on_change = on_change
        self._lock = threading.Lock()
        self._devices: dict[str, dict[str, MirroredMetric]] = {}
        self._aliases: dict[int, tuple[str, str]] = {}
        self._next_seq: int | None = None
        self.status = HostStatus()
        self._client = broker_client(
            broker, f"padctl-host-{group_id}-{edge_node_id}-{id(self):x}", reconnect_max_s=5
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def topic(self, kind: str, device: str | None = None) -> str:
        base = f"{NAMESPACE}/{self._group_id}/{kind}/{self._edge_node_id}"
        return base if device is None else f"{base}/{device}"

    def start(self) -> None:
        self._client.connect_async(self._broker.host, self._broker.port, self._broker.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        release_sockets(self._client)

    def snapshot(self) -> dict[str, dict[str, MirroredMetric]]:
        """Every device's metrics now (copies: the mirror goes on changing)."""
        with self._lock:
            return {device: dict(metrics) for device, metrics in self._devices.items()}

    # ---- paho's network thread -----------------------------------------------------------------
    def _on_connect(
        self, client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            self._note_error(f"broker refused the connection: {reason}")
            return
        self.status.connected = True
        # `#` matches the level above it too: the node's own topics and every device's.
        client.subscribe(f"{NAMESPACE}/{self._group_id}/+/{self._edge_node_id}/#", qos=0)
        # Whatever came before this session is unknown: ask for the whole picture again.
        self._ask_rebirth("host connected")

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, _reason: Any, _props: Any
    ) -> None:
        self.status.connected = False
        self._all_stale()  # the broker is out of sight: nothing is known to be current

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        parts = message.topic.split("/")
        if len(parts) < 4:
            return
        kind, device = parts[2], (parts[4] if len(parts) > 4 else None)
        if kind == "NCMD" or kind == "DCMD":
            return  # commands (our own rebirth requests among them) are not data
        try:
            payload = Payload.FromString(message.payload)
        except Exception as error:  # an unreadable message changes nothing
            self._note_error(f"unreadable {kind} ignored: {error}")
            return
        self.status.messages += 1
        with self._lock:
            changed = self._apply(kind, device, payload)
        if changed and self._on_change is not None:
            self._on_change()

    def _apply(self, kind: str, device: str | None, payload: Any) -> bool:
        if kind == "NDEATH":
            return self._node_death(payload)
        if kind == "NBIRTH":
            self._node_birth(payload)
            return True
        if not self._in_sequence(payload):
            return True
        if kind == "DBIRTH" and device is not None:
            self._device_birth(device, payload)
        elif kind == "DDATA" and device is not None:
            self._device_data(device, payload)
        elif kind == "DDEATH" and device is not None:
            self._stale(self._devices.get(device, {}))
        else:
            return False
        return True

    def _node_birth(self, payload: Any) -> None:
        self.status.bd_seq = next(
            (int(m.long_value) for m in payload.metrics if m.name == BD_SEQ), None
        )
        self.status.online = True
        self.status.births += 1
        self._devices.clear()
        self._aliases.clear()
        self._next_seq = (int(payload.seq) + 1) % 256

    def _node_death(self, payload: Any) -> bool:
        bd_seq = next((int(m.long_value) for m in payload.metrics if m.name == BD_SEQ), None)
        if bd_seq is not None and self.status.bd_seq is not None and bd_seq != self.status.bd_seq:
            return False  # the will of a session that is already over
        self.status.online = False
        self.status.deaths += 1
        self._next_seq = None
        self._all_stale_locked()
        return True

    def _in_sequence(self, payload: Any) -> bool:
        """Whether this message follows the last one; a gap makes everything STALE and asks
        for a rebirth."""
        if self._next_seq is None:
            return False  # no birth seen yet: data without its birth cannot be read
        seq, due = int(payload.seq), self._next_seq
        if seq != due:
            self._next_seq = None
            self._all_stale_locked()
            self._ask_rebirth(f"sequence gap: {seq} where {due} was due")
            return False
        self._next_seq = (seq + 1) % 256
        return True

    def _device_birth(self, device: str, payload: Any) -> None:
        metrics: dict[str, MirroredMetric] = {}
        for entry in payload.metrics:
            properties = dict(zip(entry.properties.keys, entry.properties.values, strict=False))
            low, high = properties.get("engLow"), properties.get("engHigh")
            unit = properties.get("engUnit")
            metrics[entry.name] = MirroredMetric(
                value=_value_of(entry),
                quality=_quality_of(properties),
                timestamp_ms=int(entry.timestamp) if entry.HasField("timestamp") else None,
                datatype=DataType(entry.datatype),
                unit="" if unit is None else unit.string_value,
                low=None if low is None else low.double_value,
                high=None if high is None else high.double_value,
            )
            if entry.HasField("alias"):
                self._aliases[int(entry.alias)] = (device, entry.name)
        self._devices[device] = metrics

    def _device_data(self, device: str, payload: Any) -> None:
        metrics = self._devices.get(device)
        if metrics is None:
            return
        for entry in payload.metrics:
            name = entry.name or self._aliases.get(int(entry.alias), (device, ""))[1]
            known = metrics.get(name)
            if known is None:
                continue
            properties = dict(zip(entry.properties.keys, entry.properties.values, strict=False))
            metrics[name] = replace(
                known,
                value=_value_of(entry),
                quality=_quality_of(properties),
                timestamp_ms=int(entry.timestamp) if entry.HasField("timestamp") else None,
            )

    def _all_stale(self) -> None:
        with self._lock:
            self._all_stale_locked()
        if self._on_change is not None:
            self._on_change()

    def _all_stale_locked(self) -> None:
        for metrics in self._devices.values():
            self._stale(metrics)

    @staticmethod
    def _stale(metrics: dict[str, MirroredMetric]) -> None:
        for name, metric in metrics.items():
            metrics[name] = replace(metric, quality=STALE)

    def _ask_rebirth(self, why: str) -> None:
        request = Payload()
        request.metrics.add(name=REBIRTH, datatype=DataType.BOOLEAN, boolean_value=True)
        self._client.publish(self.topic("NCMD"), request.SerializeToString(), qos=0)
        self.status.rebirths_asked += 1
        log.info("sparkplug_rebirth_asked", why=why)

    def _note_error(self, error: str) -> None:
        log.warning("sparkplug_host_error", error=error)
        self.status.errors.append(error)
        del self.status.errors[:-20]


def _value_of(entry: Any) -> float | int | bool | str | None:
    if entry.is_null:
        return None
    which = entry.WhichOneof("value")
    if which is None:
        return None
    value: float | int | bool | str = getattr(entry, which)
    return value


def _quality_of(properties: dict[str, Any]) -> str:
    quality = properties.get("Quality")
    if quality is None:
        return "GOOD"
    return QUALITY_NAMES.get(int(quality.int_value), "BAD")
