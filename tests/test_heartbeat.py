"""Heartbeats both ways, and the simulated PLC's watchdog that safes outputs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from padctl.clock import ScaledClock
from padctl.definition import ModbusPlc
from padctl.plant import ModbusHub, TagTable
from padctl.plant._heartbeat import HeartbeatKeeper
from simulators.pad import SimulatedPad
from tests.plc_fixtures import modbus_test_pad


@asynccontextmanager
async def _bench(
    tmp_path: Path, *, beating: bool, scan_wall_s: float = 0.01
) -> AsyncIterator[tuple[SimulatedPad, ModbusHub, HeartbeatKeeper]]:
    """The test pad's PLC simulated, a hub on it, and a heartbeat keeper (started if
    `beating`)."""
    clock = ScaledClock(1.0)
    sim = SimulatedPad(modbus_test_pad(tmp_path), clock, scan_wall_s=scan_wall_s)
    definition = await sim.start()
    plc = definition.plc("TST")
    assert isinstance(plc, ModbusPlc) and plc.heartbeat is not None
    table = TagTable(definition, clock)
    hub = ModbusHub(plc=plc, tags=definition.tags_of("TST"), table=table, clock=clock)
    keeper = HeartbeatKeeper(
        hub=hub, heartbeat=plc.heartbeat, definition=definition, table=table, clock=clock
    )
    await hub.start()
    if beating:
        await keeper.start()
    try:
        assert await hub.wait_connected(5.0)
        yield sim, hub, keeper
    finally:
        await keeper.stop()
        await hub.stop()
        await sim.stop()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[SimulatedPad, ModbusHub, HeartbeatKeeper]]:
    async with _bench(tmp_path, beating=True) as parts:
        yield parts


async def _until(predicate, timeout_s: float, clock: ScaledClock | None = None) -> bool:  # type: ignore[no-untyped-def]
    clock = clock or ScaledClock(1.0)
    deadline = clock.now() + timeout_s
    while clock.now() < deadline:
        if await predicate():
            return True
        await clock.sleep(0.01)
    return bool(await predicate())


async def test_padctl_counter_reaches_plc_and_plc_counter_is_watched(
    rig: tuple[SimulatedPad, ModbusHub, HeartbeatKeeper],
) -> None:
    sim, _hub, keeper = rig
    server = sim.plcs["TST"].server
    first = await server.read_value("TST-HB-PADCTL")

    async def counter_moved() -> bool:
        return await server.read_value("TST-HB-PADCTL") != first

    assert await _until(counter_moved, 2.0)

    async def alive() -> bool:
        return keeper.plc_alive

    assert await _until(alive, 2.0)
    assert not sim.plcs["TST"].watchdog_tripped
    # A stalled PLC stops its own counter: padctl sees the PLC heartbeat lost.
    await sim.stall("TST")

    async def dead() -> bool:
        return not keeper.plc_alive

    assert await _until(dead, 3.0)
    await sim.restore_link("TST")
    assert await _until(alive, 5.0)


async def test_plc_watchdog_drives_outputs_safe_when_padctl_stops_beating(
    rig: tuple[SimulatedPad, ModbusHub, HeartbeatKeeper],
) -> None:
    sim, hub, keeper = rig
    definition = sim.definition
    server = sim.plcs["TST"].server
    await hub.write(definition.tag("TST-FV-101-CMD"), True)  # fill valve: safe is closed
    await hub.write(definition.tag("TST-VV-101-CMD"), False)  # vent valve: safe is open
    await hub.write(definition.tag("TST-CV-102-SP"), 33.0)  # setpoint: safe is 5 bar
    commands = await server.commands()
    assert commands["TST-FV-101-CMD"] is True and commands["TST-VV-101-CMD"] is False

    await keeper.stop()  # padctl hangs: no more heartbeats, the hub still answers

    async def safed() -> bool:
        now = await server.commands()
        return (
            now["TST-FV-101-CMD"] is False
            and now["TST-VV-101-CMD"] is True
            and abs(float(now["TST-CV-102-SP"]) - 5.0) < 0.05
        )

    assert await _until(safed, 3.0)
    assert sim.plcs["TST"].watchdog_tripped
    # While tripped, the PLC ignores commands and keeps its outputs safe.
    await hub.write(definition.tag("TST-FV-101-CMD"), True)
    async with asyncio.timeout(2.0):
        await sim.wait_scans(2)
    assert (await server.commands())["TST-FV-101-CMD"] is False
    # Heartbeat back: the watchdog resets, but nothing resumes by itself.
    await keeper.start()

    async def reset() -> bool:
        return not sim.plcs["TST"].watchdog_tripped

    assert await _until(reset, 3.0)
    assert (await server.commands())["TST-FV-101-CMD"] is False


async def test_a_new_padctl_is_taken_up_only_once_the_watchdog_saw_its_counter_change(
    tmp_path: Path,
) -> None:
    """A padctl that starts again counts from 1. If the one before it stopped at 1, a first
    beat of 1 is no change to the PLC's watchdog: take-up must not be claimed on it. (Seen as
    `test_hil_rig.py::test_the_first_write_waits_for_the_operator`: the second `hil write`
    process wrote while the watchdog tripped on the first one's silence, and read back the
    safe value.) The PLC scans slowly here (every 0.25 s, against 20 ms polls), so that a
    take-up judged on anything but a PLC scan after the write is caught every time."""
    async with _bench(tmp_path, beating=False, scan_wall_s=0.25) as (sim, hub, keeper):
        simulated = sim.plcs["TST"]
        # The padctl before this one stopped with its counter at 1; the watchdog tripped since.
        await hub.write(sim.definition.tag("TST-HB-PADCTL"), 1)

        async def tripped() -> bool:
            return simulated.watchdog_tripped

        assert await _until(tripped, 3.0)
        await keeper.start()
        seen_tripped_while_taken_up = []

        async def taken_up() -> bool:
            if keeper.taken_up:
                seen_tripped_while_taken_up.append(simulated.watchdog_tripped)
                return True
            return False

        assert await _until(taken_up, 3.0)
        assert seen_tripped_while_taken_up == [False]
