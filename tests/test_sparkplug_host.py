"""The Sparkplug host side (what a remote console reads) against a real Mosquitto broker and
padctl's own edge node: births declare, data updates by alias with quality, the node's death
(its will) turns everything STALE with values kept, and a rebirth brings it back."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from padctl.clock import real_clock
from padctl.sparkplug import BrokerAddress, DataType, EdgeNode, MetricDef, Reading
from padctl.sparkplug._host import SparkplugMirror
from tests.e2e_fixtures import wait_until
from tests.mqtt_broker import running_broker

pytestmark = pytest.mark.timeout(60)

DEVICES = {
    "PROP": [
        MetricDef("LOX-PT-101", 2, DataType.DOUBLE, unit="bar", low=0.0, high=6.0),
        MetricDef("LOX-FV-101-ZSO", 3, DataType.BOOLEAN),
    ],
    "Countdown": [MetricDef("State", 4, DataType.STRING)],
}


@contextmanager
def edge_and_mirror(
    folder: Path, on_change: Callable[[], None] | None = None
) -> Iterator[tuple[EdgeNode, SparkplugMirror]]:
    with running_broker(folder) as broker:
        address = BrokerAddress("127.0.0.1", broker.port, keepalive_s=2)
        edge = EdgeNode(
            address, group_id="padctl", edge_node_id="pad45", devices=DEVICES, clock=real_clock()
        )
        mirror = SparkplugMirror(
            address, group_id="padctl", edge_node_id="pad45", on_change=on_change
        )
        mirror.start()
        edge.start()
        try:
            yield edge, mirror
        finally:
            edge.stop()
            mirror.stop()


def _reading(value: float | bool | str, quality: str = "GOOD") -> Reading:
    return Reading(value=value, quality=quality, timestamp_ms=1_800_000_000_000)


async def test_a_mirror_shows_births_then_data_then_stale_on_the_nodes_death(
    tmp_path: Path,
) -> None:
    qualities: list[str] = []  # LOX-PT-101's quality after each change, on paho's thread

    mirrors: list[SparkplugMirror] = []  # set once the mirror exists (paho calls sooner)

    def note() -> None:
        if not mirrors:
            return
        metric = mirrors[0].snapshot().get("PROP", {}).get("LOX-PT-101")
        if metric is not None and (not qualities or qualities[-1] != metric.quality):
            qualities.append(metric.quality)

    with edge_and_mirror(tmp_path, on_change=note) as (edge, mirror):
        mirrors.append(mirror)
        edge.offer("PROP", {"LOX-PT-101": _reading(3.25), "LOX-FV-101-ZSO": _reading(True)})
        edge.offer("Countdown", {"State": _reading("COUNTING")})

        async def born() -> bool:
            prop = mirror.snapshot().get("PROP", {})
            return "LOX-PT-101" in prop and prop["LOX-PT-101"].value == 3.25

        await wait_until(born, 15, "the mirror sees the births")
        prop = mirror.snapshot()["PROP"]
        assert prop["LOX-PT-101"].unit == "bar"
        assert (prop["LOX-PT-101"].low, prop["LOX-PT-101"].high) == (0.0, 6.0)
        assert prop["LOX-PT-101"].quality == "GOOD"
        assert prop["LOX-FV-101-ZSO"].value is True
        assert mirror.status.online

        # data by alias, with its quality
        edge.offer("PROP", {"LOX-PT-101": _reading(4.5, "UNCERTAIN")})

        async def updated() -> bool:
            metric = mirror.snapshot()["PROP"]["LOX-PT-101"]
            return metric.value == 4.5 and metric.quality == "UNCERTAIN"

        await wait_until(updated, 10, "the mirror sees a data change and its quality")

        # the edge node's connection cut without a DISCONNECT: its will (NDEATH) is published
        client_socket = edge._client.socket()
        assert isinstance(client_socket, socket.socket)
        client_socket.shutdown(socket.SHUT_RDWR)

        async def dead_then_back() -> bool:
            return mirror.status.deaths >= 1

        await wait_until(dead_then_back, 15, "the mirror sees the node's death")
        assert mirror.status.deaths == 1

        # the edge node comes back by itself and births again: GOOD once more
        async def reborn() -> bool:
            metric = mirror.snapshot().get("PROP", {}).get("LOX-PT-101")
            return mirror.status.births >= 2 and metric is not None and metric.quality != "STALE"

        await wait_until(reborn, 20, "the mirror sees the rebirth")
        assert mirror.snapshot()["PROP"]["LOX-PT-101"].value == 4.5
        # STALE came between the death and the rebirth, never skipped
        assert qualities[qualities.index("UNCERTAIN") :][:2] == ["UNCERTAIN", "STALE"], qualities
