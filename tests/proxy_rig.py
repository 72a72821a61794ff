"""Helpers for the fault proxy tests: the test PLC's values, padctl's hub through a proxy."""

from __future__ import annotations

import asyncio
import math
import statistics
import struct
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from hil.proxy import FaultProxy
from padctl.clock import ScaledClock
from padctl.definition import PadDefinition
from padctl.plant import ModbusHub, Quality, TagTable
from simulators.pad import SimulatedPad
from tests.plc_fixtures import modbus_test_pad

MEASUREMENTS = {
    "TST-PT-101": 3.25,
    "TST-PT-102": 7.5,
    "TST-TT-101": -183.27,
    "TST-LT-101": 42,
    "TST-FT-101": -12345,
    "TST-FT-102": 3_000_001,
    "TST-ET-101": 402.123456789,
    "TST-FV-101-ZSO": True,
    "TST-FV-101-ZSC": False,
    "TST-FV-102-ZSO": True,
    "TST-ST-101": 1234.5,
}
STALE_AFTER_S = 0.5  # of the test PLC (tests/plc_fixtures.py)
POLL_PERIOD_S = 0.02


def through(definition: PadDefinition, port: int) -> PadDefinition:
    return definition.with_plc_endpoint("TST", host="127.0.0.1", port=port)


@asynccontextmanager
async def hub_via(sim: SimulatedPad, port: int) -> AsyncIterator[tuple[ModbusHub, TagTable]]:
    """padctl's hub for the test PLC, connecting to `port`; it must stop cleanly."""
    definition = through(sim.definition, port)
    table = TagTable(definition, ScaledClock(1.0))
    plc = definition.plc("TST")
    hub = ModbusHub(plc=plc, tags=definition.tags_of("TST"), table=table, clock=table.clock)  # type: ignore[arg-type]
    await hub.start()
    try:
        assert await hub.wait_connected(5.0), "the hub never read through the proxy"
        yield hub, table
    finally:
        await hub.stop()


def right(name: str, value: object) -> bool:
    expected = MEASUREMENTS[name]
    if isinstance(expected, bool):
        return value is expected
    assert isinstance(value, int | float)
    return math.isclose(float(value), float(expected), rel_tol=1e-6, abs_tol=0.006)


class Watch:
    """Records every GOOD value that is wrong, and every quality seen, while waiting."""

    def __init__(self) -> None:
        self.wrong_good: dict[str, object] = {}
        self.qualities: set[Quality] = set()

    def look(self, table: TagTable) -> None:
        for name, sample in table.snapshot(MEASUREMENTS).items():
            self.qualities.add(sample.quality)
            if sample.is_good and not right(name, sample.value):
                self.wrong_good[name] = sample.value


async def write_round_trip_s(hub: ModbusHub, definition: PadDefinition, count: int = 7) -> float:
    tag = definition.tag("TST-CV-101-SP")
    durations = []
    for n in range(count):
        started = time.perf_counter()
        await hub.write(tag, float(n))
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def float32_of(words: list[int] | list[bool]) -> float:
    """A big-endian float32 from its two registers."""
    return float(struct.unpack(">f", struct.pack(">HH", *[int(w) for w in words]))[0])


@asynccontextmanager
async def echo_server() -> AsyncIterator[int]:
    """A TCP echo server on 127.0.0.1 (for raw byte-stream checks); yields its port."""
    handlers: set[asyncio.Task[None]] = set()

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.transport.abort()
            handlers.discard(task)

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


@asynccontextmanager
async def started_sim(tmp_path: Path) -> AsyncIterator[SimulatedPad]:
    """The test PLC (tests/plc_fixtures.py) simulated on 127.0.0.1, holding MEASUREMENTS."""
    pad = SimulatedPad(modbus_test_pad(tmp_path), ScaledClock(1.0), scan_wall_s=0.01)
    await pad.start()
    try:
        await pad.set_values("TST", MEASUREMENTS)
        yield pad
    finally:
        await pad.stop()


@asynccontextmanager
async def proxy_to(sim: SimulatedPad) -> AsyncIterator[FaultProxy]:
    """A fault proxy in front of the simulated test PLC."""
    plc_port = sim.definition.plc("TST").port  # type: ignore[union-attr]
    async with FaultProxy(upstream_host="127.0.0.1", upstream_port=plc_port, seed=45) as started:
        yield started
