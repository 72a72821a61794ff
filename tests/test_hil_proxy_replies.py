"""Corrupt, duplicate and late Modbus traffic through the fault proxy: never a wrong GOOD value.

A simulated Modbus PLC (tests/plc_fixtures) behind the fault proxy (hil/proxy.py), and
padctl's ModbusHub or Plant reading and writing through it, over real sockets on 127.0.0.1.
The hub checks every reply's function code and count against its request, drops a
connection with a reset (so a request it gave up on is never delivered late), and restarts
its backoff after each good scan. The one expected failure is a limit of Modbus TCP itself:
a flipped data byte that stays in range cannot be told from a real value.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path

import pytest

from hil._proxy_mbap import FrameSplitter, corrupt_frame
from hil.proxy import CorruptionKind, FaultProxy
from padctl.clock import ScaledClock
from padctl.definition import ModbusTable, load_pad_definition
from padctl.journal import AsyncJournal
from padctl.plant import CommError, ModbusHub, Plant, Quality, TagTable
from simulators.pad import SimulatedPad
from tests.plc_fixtures import MODBUS_TEST_PAD, write_definition
from tests.proxy_rig import (
    MEASUREMENTS,
    Watch,
    float32_of,
    proxy_to,
    started_sim,
    through,
)


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimulatedPad]:
    async with started_sim(tmp_path) as pad:
        yield pad


@pytest.fixture
async def proxy(sim: SimulatedPad) -> AsyncIterator[FaultProxy]:
    async with proxy_to(sim) as started:
        yield started


# ---- corruption and duplicates: never a wrong value accepted as GOOD -------------------------

MODBUS_TCP_HAS_NO_CHECKSUM = (
    "padctl bug (protocol limit): Modbus TCP has no checksum of its own, so a flipped data "
    "byte in a well-formed reply is decoded and stored GOOD whenever it stays in range "
    "(ModbusHub._read_block, padctl/plant/_modbus_hub.py)"
)


def _hub_alive(plc_id: str = "TST") -> bool:
    """Whether the hub's supervisor task still runs (a task that died is no longer listed)."""
    return any(task.get_name() == f"modbus-hub-{plc_id}" for task in asyncio.all_tasks())


async def _stop_hub(hub: ModbusHub) -> BaseException | None:
    try:
        await hub.stop()
    except Exception as error:  # the supervisor task died of it earlier
        return error
    return None


async def _play_on_the_hub(
    sim: SimulatedPad, proxy: FaultProxy, played: int, **faults: object
) -> tuple[Watch, BaseException | None, bool]:
    """Play `faults` until `played` replies were corrupted or duplicated, a wrong GOOD value
    was seen, or the hub died (at most 8 s); then clear them and wait for GOOD again."""
    definition = through(sim.definition, proxy.port)
    table = TagTable(definition, ScaledClock(1.0))
    plc = definition.plc("TST")
    hub = ModbusHub(plc=plc, tags=definition.tags_of("TST"), table=table, clock=table.clock)  # type: ignore[arg-type]
    watch = Watch()
    await hub.start()
    try:
        assert await hub.wait_connected(5.0)
        proxy.set_faults(**faults)

        def done(t: TagTable) -> bool:
            watch.look(t)
            stats = proxy.stats
            count = stats.replies_corrupted + stats.replies_duplicated
            return count >= played or bool(watch.wrong_good) or not _hub_alive()

        await table.wait_for(done, timeout_s=8.0, recheck_wall_s=0.005)
        proxy.clear()
        recovered = await table.wait_for(
            lambda t: all(s.is_good for s in t.snapshot(MEASUREMENTS).values()), timeout_s=3.0
        )
        watch.look(table)
    finally:
        stop_error = await _stop_hub(hub)
    return watch, stop_error, recovered


def _bug(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


@pytest.mark.parametrize(
    ("kind", "played", "shows"),
    [
        (CorruptionKind.TRANSACTION_ID, 6, True),  # each one costs a reply timeout (0.3 s)
        (CorruptionKind.FUNCTION, 12, True),
        (CorruptionKind.SHORT, 12, True),
        # A lowered byte count is a frame pymodbus cannot match: the hub drops the connection
        # and is back within its minimum backoff, before the data could go stale.
        (CorruptionKind.BYTE_COUNT, 24, False),
        (CorruptionKind.LENGTH, 16, True),
        pytest.param(CorruptionKind.DATA, 60, True, marks=_bug(MODBUS_TCP_HAS_NO_CHECKSUM)),
    ],
)
async def test_corrupted_replies_never_give_a_wrong_good_value(
    sim: SimulatedPad, proxy: FaultProxy, kind: CorruptionKind, played: int, shows: bool
) -> None:
    watch, stop_error, recovered = await _play_on_the_hub(
        sim, proxy, played, corrupt_fraction=0.2, corrupt_kinds=(kind,)
    )
    assert stop_error is None, f"the hub's supervisor died: {stop_error!r}"
    assert not watch.wrong_good, f"wrong values accepted as GOOD: {watch.wrong_good}"
    assert proxy.stats.corrupted_by_kind.get(kind.value, 0) >= played
    if shows:
        assert watch.qualities & {Quality.BAD, Quality.STALE}, "corruption went unnoticed"
    assert recovered, "values did not come back GOOD once the corruption stopped"


async def test_duplicate_replies_neither_write_twice_nor_misattribute_a_read(
    sim: SimulatedPad, proxy: FaultProxy, tmp_path: Path
) -> None:
    received: list[tuple[ModbusTable, int, list[int] | list[bool]]] = []
    server = sim.plcs["TST"].server
    server.write_listeners.append(
        lambda table, offset, values: received.append((table, offset, list(values)))
    )  # type: ignore[attr-defined]
    clock = ScaledClock(1.0)
    # Replies come 5 ms late and again 3 ms after that: each duplicate lands while the next
    # request is waiting for its own reply.
    proxy.set_faults(latency_to_server_ms=5.0, latency_to_client_ms=5.0, duplicate_after_ms=3.0)
    watch = Watch()
    setpoints = [float(n) * 7.5 for n in range(1, 13)]
    async with AsyncJournal(tmp_path / "journal.sqlite", clock=clock) as journal:
        plant = Plant(definition=through(sim.definition, proxy.port), clock=clock, journal=journal)
        async with plant:
            assert await plant.wait_connected(5.0)
            for value in setpoints:
                await plant.write("TST-CV-101-SP", value, actor="test")
                await plant.write("TST-FV-101-CMD", value % 15 == 0, actor="test")
                watch.look(plant.table)
            assert await plant.table.wait_for(
                lambda t: watch.look(t) is None and t.get("TST-CV-101-SP").value == setpoints[-1],
                timeout_s=3.0,
            )
        sent = [e.payload for e in await journal.entries(kinds=["command_outcome"])]
    assert proxy.stats.replies_duplicated >= 50
    assert not watch.wrong_good, watch.wrong_good
    assert [p["outcome"] for p in sent] == ["sent"] * 2 * len(setpoints)
    commands = [(t, o, v) for t, o, v in received if (t, o) != (ModbusTable.HOLDING_REGISTER, 10)]
    coil_writes = [v[0] for t, o, v in commands if (t, o) == (ModbusTable.COIL, 0)]
    setpoint_writes = [v for t, o, v in commands if (t, o) == (ModbusTable.HOLDING_REGISTER, 0)]
    assert len(commands) == 2 * len(setpoints), commands  # nothing else, nothing twice
    assert coil_writes == [value % 15 == 0 for value in setpoints]
    assert [float32_of(words) for words in setpoint_writes] == setpoints
    heartbeats = [v[0] for t, o, v in received if (t, o) == (ModbusTable.HOLDING_REGISTER, 10)]
    assert len(heartbeats) >= 3
    assert all(later > earlier for earlier, later in pairwise(heartbeats)), heartbeats


async def test_late_duplicates_from_a_gateway_that_zeroes_transaction_ids(
    sim: SimulatedPad, proxy: FaultProxy
) -> None:
    watch, stop_error, recovered = await _play_on_the_hub(
        sim,
        proxy,
        40,
        latency_to_server_ms=5.0,
        latency_to_client_ms=5.0,
        duplicate_after_ms=2.0,
        corrupt_fraction=1.0,
        corrupt_kinds=(CorruptionKind.TRANSACTION_ID_ZERO,),
    )
    assert stop_error is None, f"the hub's supervisor died: {stop_error!r}"
    assert not watch.wrong_good, f"wrong values accepted as GOOD: {watch.wrong_good}"
    assert recovered


# ---- a write padctl gave up on ------------------------------------------------------------------


async def test_a_write_given_up_on_never_overrides_a_newer_one(
    sim: SimulatedPad, proxy: FaultProxy, tmp_path: Path
) -> None:
    slow_poll = MODBUS_TEST_PAD.replace("poll_period_s: 0.02", "poll_period_s: 0.5").replace(
        "    port: 1\n", f"    port: {proxy.port}\n"
    )
    definition = load_pad_definition(write_definition(tmp_path, slow_poll, "slow.yaml"))
    setpoints: list[float] = []  # as the PLC receives them (its watchdog may zero it after)
    sim.plcs["TST"].server.write_listeners.append(  # type: ignore[attr-defined]
        lambda table, offset, values: (
            setpoints.append(float32_of(values))
            if (table, offset) == (ModbusTable.HOLDING_REGISTER, 0)
            else None
        )
    )
    clock = ScaledClock(1.0)
    async with AsyncJournal(tmp_path / "journal.sqlite", clock=clock) as journal:
        plant = Plant(definition=definition, clock=clock, journal=journal, beat_heartbeats=False)
        async with plant:
            assert await plant.wait_connected(5.0)
            table = plant.table

            async def fresh_read() -> None:
                since_s = clock.now()
                assert await table.wait_for(
                    lambda t: t.get("TST-PT-101").t_received_s > since_s, timeout_s=5.0
                )

            await fresh_read()  # the next scan is 0.5 s away: the write goes first
            assert proxy.freeze() == 1  # the old flow is lost; a new connection will pass
            with pytest.raises(CommError):
                await plant.write("TST-CV-101-SP", 11.0, actor="test")
            await fresh_read()  # padctl gave up on the frozen connection and reconnected
            await plant.write("TST-CV-101-SP", 22.0, actor="test")
            proxy.resume()  # the path of the old flow heals
            assert await table.wait_for(
                lambda _t: proxy.stats.connections_open == 1, timeout_s=3.0
            ), "the old connection never ended"
        outcomes = [
            (e.payload["value"], e.payload["outcome"])
            for e in await journal.entries(kinds=["command_outcome"])
        ]
    assert outcomes == [(11.0, "failed"), (22.0, "sent")]
    assert setpoints[-1:] == [22.0], f"the PLC received {setpoints}: an old write came last"


# ---- framing and corruption, byte by byte -------------------------------------------------------

READ_REPLY = bytes.fromhex("0007 0000 0007 03 03 04 0102 0304")  # tid 7, unit 3, 2 registers
COIL_REPLY = bytes.fromhex("0008 0000 0004 03 01 01 05")  # tid 8, unit 3, 1 byte of bits


def test_replies_are_cut_into_whole_frames_whatever_the_reads() -> None:
    splitter = FrameSplitter()
    stream = READ_REPLY + COIL_REPLY + READ_REPLY
    chunks = [
        c for start in range(0, len(stream), 5) for c in splitter.feed(stream[start : start + 5])
    ]
    assert [c.data for c in chunks] == [READ_REPLY, COIL_REPLY, READ_REPLY]
    assert all(c.is_frame for c in chunks) and splitter.pending() == b""
    lost = FrameSplitter()  # not Modbus TCP (protocol id 1): passed on as it comes, unframed
    raw = lost.feed(b"\x00\x01\x00\x01\x00\x03abc") + lost.feed(b"more")
    assert b"".join(c.data for c in raw) == b"\x00\x01\x00\x01\x00\x03abcmore"
    assert not any(c.is_frame for c in raw)


def test_each_corruption_kind_damages_what_it_says() -> None:
    rng = random.Random(1)
    tid = corrupt_frame(READ_REPLY, CorruptionKind.TRANSACTION_ID, rng)
    assert tid[2:] == READ_REPLY[2:] and tid[:2] != READ_REPLY[:2]
    assert corrupt_frame(READ_REPLY, CorruptionKind.TRANSACTION_ID_ZERO, rng)[:2] == b"\x00\x00"
    length = corrupt_frame(READ_REPLY, CorruptionKind.LENGTH, rng)
    assert 4 <= int.from_bytes(length[4:6], "big") < 7 and length[6:] == READ_REPLY[6:]
    assert corrupt_frame(READ_REPLY, CorruptionKind.FUNCTION, rng)[7] == 1  # registers -> bits
    assert corrupt_frame(COIL_REPLY, CorruptionKind.FUNCTION, rng)[7] == 3  # bits -> registers
    count = corrupt_frame(READ_REPLY, CorruptionKind.BYTE_COUNT, rng)
    assert count[8] < 4 and count[9:] == READ_REPLY[9:]
    short = corrupt_frame(READ_REPLY, CorruptionKind.SHORT, rng)  # consistent, one register less
    assert short == bytes.fromhex("0007 0000 0005 03 03 02 0102")
    data = corrupt_frame(READ_REPLY, CorruptionKind.DATA, rng)
    assert data[:9] == READ_REPLY[:9] and data[9:] != READ_REPLY[9:]
    for kind in CorruptionKind:
        assert corrupt_frame(READ_REPLY, kind, rng) != READ_REPLY, kind
