"""padctl's Sparkplug B face against a real Mosquitto broker, every payload decoded by the
schema compiled apart from padctl (tests/mqtt_broker.py): births with every metric, its
datatype, unit, range and quality; data on change with quality; the sequence numbers; the
NDEATH will and bdSeq; a rebirth on NCMD and no command taken; a broker stopped, paused and
restarted while the control loop goes on untouched."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from padctl.cli._serve import simulated_station
from padctl.clock import real_clock
from padctl.console import StationHandle
from padctl.definition import TagType
from padctl.sparkplug import (
    ALARMS_DEVICE,
    COUNTDOWN_DEVICE,
    LINK_ALARM_ID,
    QUALITY_CODES,
    REBIRTH,
    SUBSYSTEMS_DEVICE,
    DataType,
    EdgeNode,
    MetricDef,
    MqttUrlError,
    Reading,
    SparkplugFace,
    SparkplugSettings,
    parse_mqtt_url,
)
from tests.console_fixtures import reference_test_flight
from tests.e2e_fixtures import wait_until
from tests.mqtt_broker import (
    Broker,
    Message,
    Subscriber,
    compiled_schema,
    running_broker,
    until_seen,
)
from tests.whole_counts import PADCTL

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

GROUP = "padctl"
STALLED_PLC = "MECH"


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return compiled_schema(tmp_path_factory.mktemp("schema"))


@dataclass
class Rig:
    handle: StationHandle
    face: SparkplugFace
    broker: Broker
    subscriber: Subscriber
    edge: str

    async def wait(
        self, predicate: Callable[[list[Message]], bool], timeout_s: float = 20.0
    ) -> list[Message]:
        return await until_seen(self.subscriber, predicate, timeout_s)


@asynccontextmanager
async def sparkplug_rig(folder: Path, schema: ModuleType) -> AsyncIterator[Rig]:
    definition, sequence, criteria = reference_test_flight()
    with running_broker(folder) as broker, Subscriber(broker.port, schema) as subscriber:
        settings = SparkplugSettings(
            parse_mqtt_url(f"mqtt://127.0.0.1:{broker.port}", keepalive_s=2), group_id=GROUP
        )
        async with (
            simulated_station(
                definition,
                rate=1,
                sequence=sequence,
                lcc=criteria,
                journal_path=folder / "journal.sqlite",
            ) as handle,
            SparkplugFace(handle.station, settings) as face,
        ):
            yield Rig(handle, face, broker, subscriber, definition.pad)


def _devices(rig: Rig) -> list[str]:
    return [plc.id for plc in rig.handle.station.definition.plcs] + [
        COUNTDOWN_DEVICE,
        SUBSYSTEMS_DEVICE,
        ALARMS_DEVICE,
    ]


def _births_done(count: int, devices: list[str]) -> Callable[[list[Message]], bool]:
    """`count` NBIRTHs seen, each followed by a DBIRTH of every device."""

    def done(messages: list[Message]) -> bool:
        starts = [i for i, m in enumerate(messages) if m.kind == "NBIRTH"]
        if len(starts) < count:
            return False
        after = {m.device for m in messages[starts[count - 1] :] if m.kind == "DBIRTH"}
        return set(devices) <= after

    return done


def _seqs_consecutive(messages: list[Message]) -> None:
    """From each NBIRTH (seq 0), every node and device message's seq is the one before + 1,
    wrapping after 255."""
    seq = None
    for message in messages:
        if message.kind in ("NDEATH", "NCMD"):
            continue
        if message.kind == "NBIRTH":
            assert message.payload.seq == 0
        elif seq is not None:
            assert message.payload.seq == (seq + 1) % 256, (message.kind, message.device, seq)
        seq = message.payload.seq


async def test_births_carry_every_metric_then_data_on_change_with_quality(
    tmp_path: Path, schema: ModuleType
) -> None:
    async with sparkplug_rig(tmp_path, schema) as rig:
        devices = _devices(rig)
        messages = await rig.wait(_births_done(1, devices))
        nbirth = messages[0]
        assert nbirth.topic == f"spBv1.0/{GROUP}/NBIRTH/{rig.edge}"
        node = nbirth.metrics()
        assert node["bdSeq"].long_value == 0 and node["bdSeq"].datatype == DataType.UINT64
        assert node[REBIRTH].datatype == DataType.BOOLEAN and node[REBIRTH].boolean_value is False
        births = {m.device: m for m in messages if m.kind == "DBIRTH"}
        aliases: set[int] = set()
        for tag in rig.handle.station.definition.tags:
            metric = births[tag.plc].metrics()[tag.name]
            expected = DataType.BOOLEAN if tag.type is TagType.BOOL else DataType.DOUBLE
            assert metric.datatype == expected, tag.name
            properties = births[tag.plc].properties(metric)
            assert properties.get("engUnit", "") == ("" if tag.unit == "-" else tag.unit)
            if tag.range is not None:
                assert (properties["engLow"], properties["engHigh"]) == tuple(tag.range)
            assert properties["Quality"] == QUALITY_CODES["GOOD"], tag.name
            assert metric.alias not in aliases
            aliases.add(metric.alias)
        countdown = births[COUNTDOWN_DEVICE].metrics()
        assert countdown["State"].string_value == "IDLE"
        assert births[COUNTDOWN_DEVICE].properties(countdown["T"])["engUnit"] == "s"
        assert "lox_loading/State" in births[SUBSYSTEMS_DEVICE].metrics()

        # A stalled PLC: its tags go STALE by age, and DDATA says so by alias.
        stalled_aliases = {
            births[STALLED_PLC].metrics()[tag.name].alias
            for tag in rig.handle.station.definition.tags
            if tag.plc == STALLED_PLC
        }
        mark = len(messages)
        await rig.handle.injector(f"stall {STALLED_PLC}")  # type: ignore[misc]

        def stale_data(seen: list[Message]) -> bool:
            """Every tag of the stalled PLC last reported STALE (the tags age past the limit
            a poll apart, so on a busy machine they may come in several DDATA messages)."""
            latest: dict[int, int] = {}
            for message in seen[mark:]:
                if message.kind == "DDATA" and message.device == STALLED_PLC:
                    for metric in message.payload.metrics:
                        latest[metric.alias] = message.properties(metric)["Quality"]
            return set(latest) >= stalled_aliases and all(
                latest[alias] == QUALITY_CODES["STALE"] for alias in stalled_aliases
            )

        messages = await rig.wait(stale_data)
        for message in messages[mark:]:
            if message.kind == "DDATA":
                assert all(m.HasField("alias") and not m.name for m in message.payload.metrics)
        await rig.handle.injector(f"restore {STALLED_PLC}")  # type: ignore[misc]
        mark = len(messages)
        messages = await rig.wait(
            lambda seen: any(
                m.kind == "DDATA"
                and m.device == STALLED_PLC
                and QUALITY_CODES["GOOD"] in {m.properties(x)["Quality"] for x in m.payload.metrics}
                for m in seen[mark:]
            )
        )
        _seqs_consecutive(messages)
        assert rig.face.edge_node.status.births == 1


async def test_rebirth_on_ncmd_and_no_command_is_taken(tmp_path: Path, schema: ModuleType) -> None:
    async with sparkplug_rig(tmp_path, schema) as rig:
        devices = _devices(rig)
        await rig.wait(_births_done(1, devices))
        ncmd = f"spBv1.0/{GROUP}/NCMD/{rig.edge}"
        write = schema.Payload(timestamp=int(time.time() * 1000))
        write.metrics.add(name="PWR-CB-842-CMD", datatype=DataType.BOOLEAN, boolean_value=True)
        rig.subscriber.publish(ncmd, write.SerializeToString())
        rig.subscriber.publish(ncmd, b"\xff\x00 not a payload")
        rebirth = schema.Payload(timestamp=int(time.time() * 1000))
        rebirth.metrics.add(name=REBIRTH, datatype=DataType.BOOLEAN, boolean_value=True)
        rig.subscriber.publish(ncmd, rebirth.SerializeToString())
        messages = await rig.wait(_births_done(2, devices))
        nbirths = [m for m in messages if m.kind == "NBIRTH"]
        assert [m.metrics()["bdSeq"].long_value for m in nbirths] == [0, 0]  # same session
        _seqs_consecutive(messages)
        errors = rig.face.edge_node.status.errors
        assert any("PWR-CB-842-CMD" in e and "no commands" in e for e in errors), errors
        assert any("unreadable NCMD" in e for e in errors), errors
        assert rig.face.edge_node.status.rebirth_requests == 1
        sample = rig.handle.station.plant.read("PWR-CB-842-CMD")
        assert sample.value is False  # nothing was written


async def test_ndeath_will_bdseq_and_a_broker_lost_paused_and_restarted(
    tmp_path: Path, schema: ModuleType
) -> None:
    async with sparkplug_rig(tmp_path, schema) as rig:
        devices = _devices(rig)
        await rig.wait(_births_done(1, devices))
        edge = rig.face.edge_node

        # The connection cut without a DISCONNECT: the broker publishes the will (NDEATH with
        # the first session's bdSeq); padctl reconnects and births again with the next one.
        client_socket = edge._client.socket()
        assert isinstance(client_socket, socket.socket)
        client_socket.shutdown(socket.SHUT_RDWR)
        messages = await rig.wait(_births_done(2, devices))
        deaths = [m for m in messages if m.kind == "NDEATH"]
        assert [m.metrics()["bdSeq"].long_value for m in deaths] == [0]
        assert [m.metrics()["bdSeq"].long_value for m in messages if m.kind == "NBIRTH"] == [0, 1]
        assert (
            messages.index(deaths[0]) < [i for i, m in enumerate(messages) if m.kind == "NBIRTH"][1]
        )

        # The broker paused, then stopped, then started again: the loop never waits on it.
        gaps = await _loop_gaps_while_the_broker_fails(rig)
        assert max(gaps) < 0.25, f"the control loop stalled {max(gaps) * 1000:.0f} ms"

        # Back on a new session (the pause may have cost one too): the test, as a host
        # application that was away itself, asks for a rebirth and gets the latest bdSeq.
        async def both_back() -> bool:
            return edge.status.connected and rig.subscriber.client.is_connected()

        await wait_until(both_back, 30, "the edge node and the subscriber reconnect")
        assert edge.status.sessions >= 3 and edge.status.bd_seq >= 2

        async def link_cleared() -> bool:
            return not rig.handle.station.alarms.get(LINK_ALARM_ID).condition_active

        await wait_until(link_cleared, 5, "the alarm clears with the session back", poll_s=0.05)
        mark = len(rig.subscriber.since(0))
        rebirth = schema.Payload(timestamp=int(time.time() * 1000))
        rebirth.metrics.add(name=REBIRTH, datatype=DataType.BOOLEAN, boolean_value=True)
        rig.subscriber.publish(f"spBv1.0/{GROUP}/NCMD/{rig.edge}", rebirth.SerializeToString())
        messages = await rig.wait(lambda seen: _births_done(1, devices)(seen[mark:]), timeout_s=30)
        births = [m.metrics()["bdSeq"].long_value for m in messages if m.kind == "NBIRTH"]
        assert births[-1] == edge.status.bd_seq
        assert births == sorted(births) and births[:2] == [0, 1]
        deaths = [m.metrics()["bdSeq"].long_value for m in messages if m.kind == "NDEATH"]
        assert set(deaths) <= set(births)  # each will names a session that was born
        _seqs_consecutive(messages[mark:])


async def _loop_gaps_while_the_broker_fails(rig: Rig) -> list[float]:
    """The longest waits of a 20 ms timer on the station's loop while the broker is paused
    for 2 s, then stopped until the edge node sees it gone, then started again."""
    gaps: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last - 0.02)
            last = now

    task = asyncio.create_task(probe())
    try:
        rig.broker.pause()
        await asyncio.sleep(2.0)  # the pause itself is the condition under test
        rig.broker.resume()
        rig.broker.stop()

        async def edge_down() -> bool:
            return not rig.face.edge_node.status.connected

        await wait_until(edge_down, 15, "the edge node sees the broker gone", poll_s=0.05)

        async def link_alarmed() -> bool:
            return rig.handle.station.alarms.get(LINK_ALARM_ID).condition_active

        await wait_until(link_alarmed, 10, "the lost broker is alarmed", poll_s=0.05)
        rig.broker.start()
    finally:
        stop.set()
        await task
    return gaps


def test_broker_urls_are_checked_and_no_password_rides_on_the_command_line(
    tmp_path: Path,
) -> None:
    plain = parse_mqtt_url("mqtt://broker.site")
    assert (plain.host, plain.port, plain.tls, plain.username) == ("broker.site", 1883, False, None)
    ca = tmp_path / "ca.crt"
    ca.write_text("-", encoding="utf-8")
    secure = parse_mqtt_url(
        "mqtts://pad45@broker.site",
        environ={"PADCTL_MQTT_PASSWORD": "s3cret", "PADCTL_MQTT_CA": str(ca)},
    )
    assert (secure.port, secure.tls, secure.username, secure.password) == (
        8883,
        True,
        "pad45",
        "s3cret",
    )
    assert secure.ca_file == str(ca) and "s3cret" not in repr(secure)
    for url, problem in [
        ("http://broker", "scheme must be mqtt:// or mqtts://"),
        ("mqtt://", "no broker host"),
        ("mqtt://broker:99999", "out of range"),
        ("mqtts://pad45:s3cret@broker", "no password in the URL"),
    ]:
        with pytest.raises(MqttUrlError, match=problem) as caught:
            parse_mqtt_url(url, environ={})
        assert "s3cret" not in str(caught.value)
    with pytest.raises(MqttUrlError, match="no such file"):
        parse_mqtt_url("mqtts://broker", environ={"PADCTL_MQTT_CA": str(tmp_path / "none")})


def test_padctl_countdown_refuses_a_bad_mqtt_url_before_anything_starts() -> None:
    done = subprocess.run(
        [str(PADCTL), "countdown", "--sim", "--mqtt", "http://broker"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "--mqtt" in done.stderr and "scheme" in done.stderr
    assert "Traceback" not in done.stderr


async def test_tls_and_password_on_the_broker(tmp_path: Path, schema: ModuleType) -> None:
    users = {"pad45": "right-password", "scada": "scada-password"}
    with running_broker(tmp_path, users=users) as broker:
        assert broker.ca_file is not None
        login = ("scada", users["scada"])
        with Subscriber(broker.port, schema, ca_file=broker.ca_file, login=login) as subscriber:
            devices = {"PLC": [MetricDef("LOX-PT-101", 2, DataType.DOUBLE, "bar", 0.0, 10.0)]}
            environ = {"PADCTL_MQTT_CA": str(broker.ca_file)}
            url = f"mqtts://pad45@127.0.0.1:{broker.port}"
            wrong = EdgeNode(
                parse_mqtt_url(url, environ={**environ, "PADCTL_MQTT_PASSWORD": "wrong"}),
                group_id=GROUP,
                edge_node_id="wrong",
                devices=devices,
                clock=real_clock(),
            )
            right = EdgeNode(
                parse_mqtt_url(url, environ={**environ, "PADCTL_MQTT_PASSWORD": users["pad45"]}),
                group_id=GROUP,
                edge_node_id="right",
                devices=devices,
                clock=real_clock(),
            )
            for edge in (wrong, right):
                edge.offer("PLC", {"LOX-PT-101": Reading(2.8, "GOOD", int(time.time() * 1000))})
                edge.start()
            try:
                messages = await until_seen(
                    subscriber, lambda seen: any(m.kind == "DBIRTH" for m in seen)
                )

                async def refused() -> bool:
                    return any("refused" in e for e in wrong.status.errors)

                await wait_until(refused, 20, "the broker refuses the wrong password")
            finally:
                wrong.stop()
                right.stop()
            births = [m for m in messages if m.kind in ("NBIRTH", "DBIRTH")]
            assert {m.topic.split("/")[3] for m in births} == {"right"}
            metric = next(m for m in births if m.kind == "DBIRTH").metrics()["LOX-PT-101"]
            assert metric.double_value == 2.8 and not wrong.status.connected


async def test_padctl_serve_publishes_and_its_death_is_the_will(
    tmp_path: Path, schema: ModuleType
) -> None:
    """`padctl serve --sim --mqtt URL` is born on the broker; killed outright (the whole
    process group, as a crashed machine), the broker publishes its NDEATH: at once when the
    kernel closes the socket, within 1.5 keep-alives when nothing does."""
    with running_broker(tmp_path) as broker, Subscriber(broker.port, schema) as subscriber:
        url = f"mqtt://127.0.0.1:{broker.port}"
        server = await asyncio.create_subprocess_exec(
            *[str(PADCTL), "serve", "--sim", "--port", "0", "--mqtt", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            messages = await until_seen(
                subscriber, lambda seen: any(m.kind == "DBIRTH" for m in seen), timeout_s=60
            )
            nbirth = next(m for m in messages if m.kind == "NBIRTH")
            bd_seq = nbirth.metrics()["bdSeq"].long_value
        finally:
            os.killpg(server.pid, signal.SIGKILL)
            await asyncio.wait_for(server.wait(), 10)
        killed_s = time.monotonic()
        messages = await until_seen(
            subscriber, lambda seen: any(m.kind == "NDEATH" for m in seen), timeout_s=20
        )
        death = next(m for m in messages if m.kind == "NDEATH")
        assert death.topic == nbirth.topic.replace("NBIRTH", "NDEATH")
        assert death.metrics()["bdSeq"].long_value == bd_seq
        assert time.monotonic() - killed_s < 1.5 * 5 + 2  # keep-alive 5 s
