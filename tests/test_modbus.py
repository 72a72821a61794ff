"""Modbus hub against a simulated Modbus PLC over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from padctl.clock import ScaledClock
from padctl.definition import PadDefinition, Tag, TagType
from padctl.plant import CommError, ModbusHub, Quality, TagTable, plan_read_blocks
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


def _tag(name: str, tag_type: TagType, address: str, **extra: object) -> Tag:
    return Tag.model_validate(
        {
            "name": name,
            "plc": "X",
            "type": tag_type,
            "unit": "u",
            "address": address,
            "range": None if tag_type is TagType.BOOL else [0, 1e9],
            **extra,
        }
    )


def test_blocks_never_exceed_protocol_limits() -> None:
    registers = [_tag(f"R-PT-{i}", TagType.FLOAT32, f"ir:{2 * i}") for i in range(400)]
    bits = [_tag(f"B-ZS-{i}", TagType.BOOL, f"di:{i}") for i in range(4500)]
    blocks = plan_read_blocks(registers + bits)
    register_blocks = [b for b in blocks if not b.table.is_bit_table]
    bit_blocks = [b for b in blocks if b.table.is_bit_table]
    assert all(b.count <= 125 for b in register_blocks)
    assert all(b.count <= 2000 for b in bit_blocks)
    assert len(register_blocks) == math.ceil(800 / 124)  # float32 pairs never split a block
    assert len(bit_blocks) == math.ceil(4500 / 2000)
    assert sum(len(b.tags) for b in blocks) == 4900


def test_blocks_split_at_large_gaps() -> None:
    tags = [
        _tag("A-PT-1", TagType.UINT16, "hr:0"),
        _tag("A-PT-2", TagType.UINT16, "hr:10"),
        _tag("A-PT-3", TagType.UINT16, "hr:500"),
    ]
    blocks = plan_read_blocks(tags, max_gap=32)
    assert [(b.start, b.count, b.names) for b in blocks] == [
        (0, 11, ["A-PT-1", "A-PT-2"]),
        (500, 1, ["A-PT-3"]),
    ]


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimulatedPad]:
    clock = ScaledClock(1.0)
    pad = SimulatedPad(modbus_test_pad(tmp_path), clock, scan_wall_s=0.01)
    await pad.start()
    try:
        yield pad
    finally:
        await pad.stop()


@pytest.fixture
async def hub_and_table(sim: SimulatedPad) -> AsyncIterator[tuple[ModbusHub, TagTable]]:
    definition: PadDefinition = sim.definition
    plc = definition.plc("TST")
    assert plc.protocol == "modbus"
    table = TagTable(definition, ScaledClock(1.0))
    hub = ModbusHub(plc=plc, tags=definition.tags_of("TST"), table=table, clock=table.clock)  # type: ignore[arg-type]
    await hub.start()
    try:
        assert await hub.wait_connected(5.0)
        yield hub, table
    finally:
        await hub.stop()


async def test_every_encoding_reads_back(
    sim: SimulatedPad, hub_and_table: tuple[ModbusHub, TagTable]
) -> None:
    _hub, table = hub_and_table
    await sim.set_values("TST", MEASUREMENTS)

    def all_seen(t: TagTable) -> bool:
        return all(
            t.get(name).value is not None
            and math.isclose(float(t.get(name).value), float(value), rel_tol=1e-6, abs_tol=0.006)  # type: ignore[arg-type]
            for name, value in MEASUREMENTS.items()
        )

    assert await table.wait_for(all_seen, timeout_s=5.0), table.snapshot(MEASUREMENTS)
    samples = table.snapshot(MEASUREMENTS)
    assert all(s.quality is Quality.GOOD for s in samples.values()), samples
    assert samples["TST-ET-101"].value == pytest.approx(402.123456789, abs=1e-9)  # float64 exact
    assert samples["TST-TT-101"].value == pytest.approx(-183.27, abs=0.005)  # scaled int16
    assert isinstance(samples["TST-FV-102-ZSO"].value, bool)


@pytest.fixture
async def connected_hub(sim: SimulatedPad) -> AsyncIterator[ModbusHub]:
    """A hub that only connects: no poll loop of its own runs requests beside the test's."""
    definition: PadDefinition = sim.definition
    table = TagTable(definition, ScaledClock(1.0))
    hub = ModbusHub(
        plc=definition.plc("TST"), tags=definition.tags_of("TST"), table=table, clock=table.clock
    )  # type: ignore[arg-type]
    await hub.connect()
    try:
        yield hub
    finally:
        await hub.stop()


async def test_scan_uses_one_request_per_block(connected_hub: ModbusHub) -> None:
    # No poll loop runs requests beside the scan counted (on a busy machine one did, and the
    # count was 9).
    await _scan_counts_one_request_per_block(connected_hub)


async def _scan_counts_one_request_per_block(hub: ModbusHub) -> None:
    by_table = {(b.table.value, b.start, b.count) for b in hub.blocks}
    # Gaps up to 32 addresses are bridged (ir:0..30 in one read); di:37 lies 35 past di:1
    # and gets a read of its own.
    assert by_table == {("ir", 0, 31), ("di", 0, 2), ("di", 37, 1), ("co", 0, 22), ("hr", 0, 14)}
    before = hub.requests_sent
    await hub.scan_once()
    assert hub.requests_sent - before == 5


async def test_writes_of_every_type_reach_the_plc(
    sim: SimulatedPad, hub_and_table: tuple[ModbusHub, TagTable]
) -> None:
    hub, table = hub_and_table
    definition = sim.definition
    server = sim.plcs["TST"].server
    writes = {
        "TST-FV-101-CMD": True,
        "TST-VV-101-CMD": False,
        "TST-CV-101-SP": 55.5,
        "TST-CV-102-SP": 12.3,
        "TST-CV-103-SP": 70001,
    }
    for name, value in writes.items():
        await hub.write(definition.tag(name), value)
    commands = await server.commands()
    for name, value in writes.items():
        assert commands[name] == pytest.approx(value, abs=0.05), name
    # and padctl reads its own outputs back through the scan
    assert await table.wait_for(lambda t: t.get("TST-CV-103-SP").value == 70001, timeout_s=5.0)


async def test_stall_goes_stale_by_age_and_recovers(
    sim: SimulatedPad, hub_and_table: tuple[ModbusHub, TagTable]
) -> None:
    _hub, table = hub_and_table
    assert table.get("TST-PT-101").quality is Quality.GOOD
    await sim.stall("TST")
    assert await table.wait_for(
        lambda t: t.get("TST-PT-101").quality is Quality.STALE, timeout_s=3.0
    )
    stale = table.get("TST-PT-101")
    assert "ago" in stale.reason
    await sim.restore_link("TST")
    await sim.set_values("TST", {"TST-PT-101": 4.5})
    assert await table.wait_for(
        lambda t: t.get("TST-PT-101").quality is Quality.GOOD and t.get("TST-PT-101").value == 4.5,
        timeout_s=5.0,
    )


async def test_link_drop_then_restart_reconnects(
    sim: SimulatedPad, hub_and_table: tuple[ModbusHub, TagTable]
) -> None:
    hub, table = hub_and_table
    await sim.drop_link("TST")
    assert await table.wait_for(
        lambda t: t.get("TST-PT-102").quality is Quality.STALE, timeout_s=3.0
    )
    assert not hub.connected
    await sim.restart_plc("TST")
    await sim.set_values("TST", {"TST-PT-102": 1.25})
    assert await table.wait_for(
        lambda t: t.get("TST-PT-102").quality is Quality.GOOD and t.get("TST-PT-102").value == 1.25,
        timeout_s=5.0,
    )
    assert hub.connected


async def test_out_of_range_and_nan_values_read_as_bad(
    sim: SimulatedPad, hub_and_table: tuple[ModbusHub, TagTable]
) -> None:
    _hub, table = hub_and_table
    await sim.set_values("TST", {"TST-PT-101": float("nan"), "TST-PT-102": 11.0})
    assert await table.wait_for(
        lambda t: (
            t.get("TST-PT-101").quality is Quality.BAD
            and t.get("TST-PT-102").quality is Quality.BAD
        ),
        timeout_s=5.0,
    )
    assert "NaN" in table.get("TST-PT-101").reason
    assert "outside range" in table.get("TST-PT-102").reason


async def test_a_reply_that_came_while_the_loop_stalled_is_not_a_timeout(
    sim: SimulatedPad, connected_hub: ModbusHub
) -> None:
    """A stall of padctl's own loop longer than the PLC's timeout (CPU starvation, a long
    callback) is not the PLC's silence: the reply that came meanwhile is taken, not timed out,
    and the link stays up. Found under load: one 320 ms stall dropped all four Modbus links."""
    hub = connected_hub
    timeout_s = sim.definition.plc("TST").timeout_s
    sent_before = hub.requests_sent
    for _ in range(3):
        scan = asyncio.create_task(hub.scan_once())
        # the scan's first request goes out on this turn; then the loop stalls
        asyncio.get_running_loop().call_soon(time.sleep, 2 * timeout_s)
        await asyncio.wait_for(scan, timeout=10 * timeout_s)
        assert hub.connected
    assert hub.requests_sent - sent_before == 3 * len(hub.blocks)  # every block answered


async def test_a_silent_plc_still_times_out_within_two_timeouts(
    sim: SimulatedPad, connected_hub: ModbusHub
) -> None:
    timeout_s = sim.definition.plc("TST").timeout_s
    await sim.stall("TST")
    started_s = time.monotonic()
    with pytest.raises(CommError, match="no answer within"):
        await connected_hub.scan_once()
    assert time.monotonic() - started_s < 2 * timeout_s + 0.5
