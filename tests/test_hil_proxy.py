"""The TCP fault proxy (hil/proxy.py): bytes in order, latency, stalls, resets, its command line.

Everything runs over real sockets on 127.0.0.1: a simulated Modbus PLC (tests/plc_fixtures),
the proxy in front of it, and padctl's ModbusHub connecting through the proxy. Corrupt and
duplicate replies are in tests/test_hil_proxy_replies.py.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hil._proxy_commands import ProxyCommandError, parse_command
from hil.proxy import CorruptionKind, FaultProxy, Faults, FaultSettingError
from padctl.plant import Quality
from padctl.timeouts import within_wall
from simulators.pad import SimulatedPad
from tests.processes import PADCTL
from tests.proxy_rig import (
    MEASUREMENTS,
    POLL_PERIOD_S,
    STALE_AFTER_S,
    Watch,
    echo_server,
    hub_via,
    proxy_to,
    started_sim,
    through,
    write_round_trip_s,
)


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimulatedPad]:
    async with started_sim(tmp_path) as pad:
        yield pad


@pytest.fixture
async def proxy(sim: SimulatedPad) -> AsyncIterator[FaultProxy]:
    async with proxy_to(sim) as started:
        yield started


# ---- bytes in order ----------------------------------------------------------------------


async def test_jitter_never_reorders_or_drops_bytes() -> None:
    async with (
        echo_server() as port,
        FaultProxy(upstream_host="127.0.0.1", upstream_port=port, modbus=False, seed=7) as proxy,
    ):
        proxy.set_latency(5.0, jitter_ms=5.0)
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        sent = b"".join(f"<{n:05d}>".encode() for n in range(2000))
        for offset in range(0, len(sent), 70):  # many small chunks, each with its own delay
            writer.write(sent[offset : offset + 70])
            await writer.drain()
        received = await asyncio.wait_for(reader.readexactly(len(sent)), 10.0)
        writer.close()
        await writer.wait_closed()
    assert received == sent


async def test_reset_sends_rst_and_refuse_resets_new_connections() -> None:
    async with (
        echo_server() as port,
        FaultProxy(upstream_host="127.0.0.1", upstream_port=port, modbus=False) as proxy,
    ):
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"ping")
        assert await asyncio.wait_for(reader.readexactly(4), 5.0) == b"ping"
        assert await proxy.reset() == 1
        with pytest.raises(ConnectionResetError):  # RST, not an orderly end of stream
            await asyncio.wait_for(reader.read(1), 5.0)
        writer.transport.abort()

        proxy.set_faults(refusing=True)
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(1), 5.0)
        writer.transport.abort()
        assert proxy.stats.connections_refused == 1

        proxy.set_faults(refusing=False)
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"back")
        assert await asyncio.wait_for(reader.readexactly(4), 5.0) == b"back"
        writer.close()
        await writer.wait_closed()


# ---- padctl's hub through the proxy --------------------------------------------------------


async def test_latency_raises_the_measured_round_trip(sim: SimulatedPad, proxy: FaultProxy) -> None:
    definition = through(sim.definition, proxy.port)
    async with hub_via(sim, proxy.port) as (hub, table):
        baseline_s = await write_round_trip_s(hub, definition)
        proxy.set_latency(20.0)
        delayed_s = await write_round_trip_s(hub, definition)
        proxy.set_faults(latency_to_server_ms=0.0)  # the reply direction alone
        one_way_s = await write_round_trip_s(hub, definition)
        proxy.clear()
        assert await table.wait_for(lambda t: t.get("TST-PT-101").is_good, timeout_s=2.0)
    assert baseline_s < 0.015, baseline_s
    assert delayed_s >= 0.040, (baseline_s, delayed_s)
    assert 0.020 <= one_way_s < delayed_s, (one_way_s, delayed_s)


async def test_stall_goes_stale_within_stale_after_and_recovers_when_cleared(
    sim: SimulatedPad, proxy: FaultProxy
) -> None:
    async with hub_via(sim, proxy.port) as (hub, table):
        assert table.get("TST-PT-101").is_good
        forwarded_before = proxy.stats.bytes_to_server
        stalled_at = time.monotonic()
        proxy.stall()
        assert await table.wait_for(
            lambda t: t.get("TST-PT-101").quality is not Quality.GOOD, timeout_s=3.0
        )
        went_stale_s = time.monotonic() - stalled_at
        sample = table.get("TST-PT-101")
        assert sample.quality is Quality.STALE, sample  # from age, never a connection flag
        # The last good read was at most one poll (plus its round trip) before the stall.
        assert STALE_AFTER_S - POLL_PERIOD_S - 0.05 <= went_stale_s <= STALE_AFTER_S + 0.3
        assert proxy.stats.bytes_to_server == forwarded_before  # nothing forwarded since
        assert all(s.quality is Quality.STALE for s in table.snapshot(MEASUREMENTS).values())

        await sim.set_values("TST", {"TST-PT-101": 4.5})
        proxy.clear()
        assert await table.wait_for(
            lambda t: t.get("TST-PT-101").is_good and t.get("TST-PT-101").value == 4.5,
            timeout_s=3.0,
        )
        assert hub.connected


async def test_reset_makes_the_hub_reconnect(sim: SimulatedPad, proxy: FaultProxy) -> None:
    async with hub_via(sim, proxy.port) as (_hub, table):
        before = proxy.stats.connections_total
        assert await proxy.reset() == 1
        await sim.set_values("TST", {"TST-PT-102": 1.25})
        assert await table.wait_for(
            lambda t: t.get("TST-PT-102").is_good and t.get("TST-PT-102").value == 1.25,
            timeout_s=3.0,
        )
        assert proxy.stats.connections_total == before + 1
        assert proxy.stats.connections_open == 1


# ---- settings and commands -------------------------------------------------------------------


def test_bad_fault_settings_are_refused_and_change_nothing() -> None:
    with pytest.raises(FaultSettingError, match="corrupt_fraction must be between 0 and 1"):
        Faults(corrupt_fraction=1.5)
    with pytest.raises(FaultSettingError, match="latency_to_client_ms must be a finite number"):
        Faults(latency_to_client_ms=-1)
    proxy = FaultProxy(upstream_host="127.0.0.1", upstream_port=1)
    proxy.set_faults(latency_to_server_ms=10)
    with pytest.raises(FaultSettingError, match=r"unknown fault setting\(s\) latency_ms"):
        proxy.set_faults(latency_ms=5)
    with pytest.raises(FaultSettingError, match="duplicate_fraction"):
        proxy.set_faults(duplicate_after_ms=10, duplicate_fraction=2)
    assert proxy.faults == Faults(latency_to_server_ms=10)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("melt", "unknown command 'melt'"),
        ("latency", "expected 'latency"),
        ("latency fast", "latency 'fast' is not a number"),
        ("corrupt 2", "fraction must be >= 0 and at most 1"),
        ("corrupt 0.1 bits", "unknown corruption kind 'bits'"),
        ("duplicate 0", "a duplicate needs a delay above 0 ms"),
        ("stall now", "expected 'stall'"),
    ],
)
def test_bad_commands_name_the_problem(line: str, problem: str) -> None:
    with pytest.raises(ProxyCommandError, match=re.escape(problem)):
        parse_command(line)


async def test_commands_change_the_faults() -> None:
    proxy = FaultProxy(upstream_host="127.0.0.1", upstream_port=1)
    for line in (
        "latency 40 5",
        "latency to-client 60",
        "corrupt 0.25 tid length",
        "duplicate 150",
    ):
        await parse_command(line).apply(proxy)
    assert proxy.faults == Faults(
        latency_to_server_ms=40,
        latency_to_client_ms=60,
        jitter_to_server_ms=5,
        jitter_to_client_ms=5,
        corrupt_fraction=0.25,
        corrupt_kinds=(CorruptionKind.TRANSACTION_ID, CorruptionKind.LENGTH),
        duplicate_after_ms=150,
    )
    await parse_command("stall").apply(proxy)
    assert proxy.faults.stalled and "STALLED" in proxy.status_line()
    await parse_command("clear").apply(proxy)
    assert proxy.faults == Faults()


# ---- the command line ------------------------------------------------------------------------


@contextmanager
def _no_proxy_left(process: asyncio.subprocess.Process) -> Iterator[None]:
    try:
        yield
    finally:
        if process.returncode is None:
            process.kill()


async def test_cli_proxy_plays_fault_commands_from_stdin(sim: SimulatedPad) -> None:
    plc_port = sim.definition.plc("TST").port  # type: ignore[union-attr]
    process = await asyncio.create_subprocess_exec(
        PADCTL,
        "hil",
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        f"127.0.0.1:{plc_port}",
        "--seed",
        "3",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    assert process.stderr is not None

    async def line() -> str:
        assert process.stdout is not None
        return (await asyncio.wait_for(process.stdout.readline(), 20.0)).decode()

    async def send(text: str) -> str:
        assert process.stdin is not None
        process.stdin.write(text.encode() + b"\n")
        await process.stdin.drain()
        return await line()

    with _no_proxy_left(process):
        first = await line()
        match = re.match(r"proxy 127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:(\d+) \| flowing", first)
        assert match and int(match[2]) == plc_port, first
        port = int(match[1])
        definition = through(sim.definition, port)
        async with hub_via(sim, port) as (hub, table):
            assert "latency 25 ms to server, 25 ms to client" in await send("latency 25")
            assert await write_round_trip_s(hub, definition, count=3) >= 0.050
            assert "latency 0 ms to server, 0 ms to client" in await send("latency 0")
            status = await send("duplicate 150")
            assert "duplicate 1 of replies after 150 ms" in status, status
            assert "STALLED" in await send("stall")
            assert await table.wait_for(
                lambda t: t.get("TST-PT-101").quality is Quality.STALE, timeout_s=3.0
            )
            assert "| flowing |" in await send("clear")
            assert await table.wait_for(lambda t: t.get("TST-PT-101").is_good, timeout_s=3.0)
            frozen_at_s = table.clock.now()
            assert "| 1 frozen" in await send("freeze")  # padctl's connection alone
            assert await table.wait_for(  # it gives up on it (0.3 s), and its next one flows
                lambda t: t.get("TST-PT-101").t_received_s > frozen_at_s + 0.3,
                timeout_s=5.0,
            )
            assert "frozen" not in await send("resume")
            process.stdin.write(b"melt TST\n")
            refusal = await asyncio.wait_for(process.stderr.readline(), 10.0)
            assert b"command refused: unknown command 'melt'" in refusal
            assert "corrupt off | duplicate off" in await send("status")
        process.stdin.close()  # end of input stops it cleanly
        assert await asyncio.wait_for(process.wait(), 15.0) == 0


async def test_cli_proxy_refuses_bad_options() -> None:
    for args, problem in (
        (["--upstream", "nowhere"], "--upstream 'nowhere': expected HOST:PORT"),
        (["--upstream", "127.0.0.1:502", "--corrupt-fraction", "3"], "corrupt_fraction"),
        (["--upstream", "127.0.0.1:502", "--corrupt-kinds", "pdu,bits"], "'bits'"),
    ):
        process = await asyncio.create_subprocess_exec(
            PADCTL,
            "hil",
            "proxy",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await asyncio.wait_for(process.communicate(), 20.0)
        assert process.returncode == 2 and problem in err.decode(), (args, err)


async def test_an_abandoned_write_never_answers_the_next_read(
    sim: SimulatedPad, proxy: FaultProxy
) -> None:
    """A write given up on (the heartbeat keeper bounds its writes in time) is still answered
    later, before the next read's reply: the hub must take neither for the other, and the
    PLC's data stays GOOD and right. (Checked while looking for the cause of a one-off
    PLC-SAFE-LINK in a nominal training run, where pymodbus logged a reply to the previous
    transaction and then a read timed out; this path held, so that cause is still open.)"""
    async with hub_via(sim, proxy.port) as (hub, table):
        tag = sim.definition.tag("TST-CV-101-SP")
        proxy.set_latency(300.0)  # this write's reply comes 0.3 s late
        with pytest.raises(TimeoutError):
            await within_wall(hub.write(tag, 12.5), 0.1, "an impatient write")
        proxy.clear()
        watch = Watch()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            watch.look(table)
            await asyncio.sleep(0.01)
        assert watch.qualities == {Quality.GOOD}, watch.qualities
        assert not watch.wrong_good
