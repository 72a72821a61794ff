"""The remote console (`padctl serve --from-mqtt`): a read-only console fed only by the pad's
Sparkplug B edge node through a real Mosquitto broker. padctl's own edge node publishes the
reference pad's devices; the remote side mirrors a value change, goes STALE on the node's
death (its will, after the edge node's connection is cut without a DISCONNECT) and GOOD again
on the rebirth; it refuses every command; and Chromium shows the change and the STALE."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from padctl.cli._serve_remote import remote_source
from padctl.clock import real_clock
from padctl.console import READ_ONLY, ConsoleConfig, ConsoleSettings, SessionPolicy, create_app
from padctl.plant import Quality
from padctl.sparkplug import (
    COUNTDOWN_DEVICE,
    READ_ONLY_REASON,
    BrokerAddress,
    EdgeNode,
    Reading,
    RemoteStation,
    device_metrics,
)
from padctl.sparkplug._remote_parts import FEED_ALARM_ID
from padctl.subsystems import ALL_SPECS
from tests.console_fixtures import PASSWORD, TestClient, reference_test_flight, write_users
from tests.e2e_fixtures import (
    CHROMIUM,
    chromium,
    make_users_file,
    open_console,
    padctl_serve,
    wait_until,
)
from tests.mqtt_broker import running_broker

pytestmark = pytest.mark.timeout(90)

TAG, PLC = "LOX-PT-101", "PROP"
KEEPALIVE_S = 2  # the broker publishes a cut edge node's will within 1.5 keep-alives


def _reading(value: float | str) -> Reading:
    return Reading(value=value, quality="GOOD", timestamp_ms=int(time.time() * 1000))


@contextmanager
def pad_edge_node(port: int) -> Iterator[EdgeNode]:
    """padctl's edge node publishing the reference pad's devices (as `serve --mqtt` does)."""
    definition, _, _ = reference_test_flight()
    edge = EdgeNode(
        BrokerAddress("127.0.0.1", port, keepalive_s=KEEPALIVE_S),
        group_id="padctl",
        edge_node_id=definition.pad,
        devices=device_metrics(definition, [spec.name for spec in ALL_SPECS]),
        clock=real_clock(),
    )
    edge.offer(PLC, {TAG: _reading(1.5)})
    edge.offer(COUNTDOWN_DEVICE, {"State": _reading("IDLE"), "Rate": _reading(1.0)})
    edge.start()
    try:
        yield edge
    finally:
        edge.stop()


def cut_without_disconnect(edge: EdgeNode) -> None:
    """The edge node's TCP connection shut under it: the broker publishes its will (NDEATH)."""
    client_socket = edge._client.socket()
    assert isinstance(client_socket, socket.socket)
    client_socket.shutdown(socket.SHUT_RDWR)


@asynccontextmanager
async def remote_station(folder: Path, port: int) -> AsyncIterator[RemoteStation]:
    definition, sequence, criteria = reference_test_flight()
    async with RemoteStation(
        definition=definition,
        sequence=sequence,
        lcc=criteria,
        broker=BrokerAddress("127.0.0.1", port, keepalive_s=KEEPALIVE_S),
        journal_path=folder / "remote-journal.sqlite",
    ) as station:
        yield station


async def test_the_remote_station_mirrors_a_change_goes_stale_on_ndeath_and_good_on_rebirth(
    tmp_path: Path,
) -> None:
    with running_broker(tmp_path) as broker, pad_edge_node(broker.port) as edge:
        async with remote_station(tmp_path, broker.port) as station:

            def sample_is(value: float, quality: Quality) -> bool:
                sample = station.plant.table.snapshot()[TAG]
                return sample.value == value and sample.quality is quality

            async def born() -> bool:
                return sample_is(1.5, Quality.GOOD)

            await wait_until(born, 15, "the remote station shows the birth's value", 0.05)
            assert PLC not in station.stale_plcs()
            assert station.countdown.state.name == "IDLE"

            edge.offer(PLC, {TAG: _reading(3.25)})

            async def changed() -> bool:
                return sample_is(3.25, Quality.GOOD)

            await wait_until(changed, 10, "the remote station shows the change", 0.05)

            cut_without_disconnect(edge)

            async def stale() -> bool:
                return sample_is(3.25, Quality.STALE)

            await wait_until(stale, 3 * KEEPALIVE_S + 5, "STALE after the node's death", 0.05)
            assert station.mirror.status.deaths == 1
            assert set(station.stale_plcs()) == {plc.id for plc in station.definition.plcs}
            assert station.alarms.get(FEED_ALARM_ID).condition_active
            assert station.start_problems()

            await wait_until(changed, 20, "GOOD again after the rebirth", 0.05)
            assert station.mirror.status.births >= 2
            assert PLC not in station.stale_plcs()
            assert not station.alarms.get(FEED_ALARM_ID).condition_active


def test_a_remote_console_refuses_every_command_and_treats_every_user_as_a_viewer(
    tmp_path: Path,
) -> None:
    definition, sequence, criteria = reference_test_flight()
    with running_broker(tmp_path) as broker, pad_edge_node(broker.port) as edge:
        config = ConsoleConfig(
            users=write_users(tmp_path / "users.yaml"),
            settings=ConsoleSettings(update_period_wall_s=0.05),
            sessions=SessionPolicy(lifetime_wall_s=3600.0, idle_wall_s=600.0),
            allowed_hosts=("testserver",),
        )
        source = remote_source(
            BrokerAddress("127.0.0.1", broker.port, keepalive_s=KEEPALIVE_S),
            definition=definition,
            sequence=sequence,
            lcc=criteria,
            journal_path=tmp_path / "remote-journal.sqlite",
        )
        with TestClient(create_app(config, source)) as client:
            login = client.post("/api/login", json={"username": "tc", "password": PASSWORD})
            assert login.status_code == 200, login.text
            assert login.json()["user"]["role"] == "viewer"  # a test conductor, seen from afar
            with client.websocket_connect("/ws") as socket_:
                snapshot = json.loads(socket_.receive_text())
                assert snapshot["type"] == "snapshot"
                assert snapshot["user"]["role"] == "viewer"
                socket_.send_text(
                    json.dumps(
                        {"type": "command", "request_id": "r1", "command": "countdown.start"}
                    )
                )
                answer = _answer(socket_, "r1")
            assert answer["code"] == READ_ONLY
            assert answer["reason"] == READ_ONLY_REASON
            injected = client.post("/api/inject", json={"fault": "stall MECH"})
            assert injected.status_code == 403
            assert injected.json()["error"] == READ_ONLY_REASON
    # Nothing reached the pad: its edge node took no command (a rebirth request is no command)
    assert edge.status.errors == []


def _answer(socket_: Any, request_id: str) -> dict[str, Any]:
    """The answer to one request, past the updates before it (bounded by the server's answer
    within its own time; the test's timeout bounds the rest)."""
    for _ in range(1000):
        message: dict[str, Any] = json.loads(socket_.receive_text())
        if message.get("request_id") == request_id:
            return message
    raise AssertionError(f"no answer to {request_id} within 1000 messages")


@pytest.mark.e2e
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (chromium)")
async def test_chromium_on_the_remote_console_sees_a_change_then_data_stale_on_ndeath(
    tmp_path: Path,
) -> None:
    users = make_users_file(tmp_path / "users.yaml", ("viewer", "conductor"))
    with running_broker(tmp_path) as broker, pad_edge_node(broker.port) as edge:
        async with (
            padctl_serve(
                tmp_path,
                "--from-mqtt",
                f"mqtt://127.0.0.1:{broker.port}",
                "--users",
                str(users),
                "--journal",
                str(tmp_path / "remote-journal.sqlite"),
                "--update-period",
                "0.1",
            ) as server,
            chromium() as browser,
        ):
            operator = await open_console(browser, server, "conductor")
            await operator.show("subsystem/lox_loading")
            value = operator.page.locator(f'[data-tag="{TAG}"]').first
            await expect(value).to_have_text("1.500", timeout=20_000)
            edge.offer(PLC, {TAG: _reading(3.25)})
            await expect(value).to_have_text("3.250", timeout=20_000)
            stale_banner = operator.page.locator("#data-stale")
            await expect(stale_banner).to_be_hidden()

            cut_without_disconnect(edge)

            await expect(stale_banner).to_be_visible(timeout=20_000)
            await expect(stale_banner).to_contain_text(f"DATA STALE: {PLC}")
            await expect(value).to_have_text("3.250")  # the last value, kept, marked STALE
            cell = operator.page.locator(".value-cell", has=value).first
            await expect(cell.locator(".quality-label")).to_have_text("STALE", timeout=10_000)
            assert operator.errors == []
