"""Benchmark: sensor crosses a redline in the simulator -> cutoff/safing command at the PLC.

The reference pad's simulated PLCs and padctl (plant, alarms, subsystems, countdown) run in
one process at real time with every PLC scanned. A short count with one launch commit
criterion on the vehicle LOX tank ullage pressure (LOX-PT-101) is taken into its terminal
count; then the simulated transducer is driven over the redline, and the time until the
simulated PLC receives the safing command (the vehicle ground power breaker opening) is
measured. Repeated with a recycle between runs. Then the PLC that carries the transducer
(PROP) has its link dropped in the terminal count, and the time from the drop to the same
safing command is measured: lost data is NO-GO, so it must cut off once the data's staleness
limit has passed, within 100 ms more. Prints one JSON object as its last line.

    .venv/bin/python tests/bench/reaction.py [--runs N] [--stale-runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from padctl.alarms import AlarmManager  # noqa: E402
from padctl.clock import ScaledClock  # noqa: E402
from padctl.countdown import Countdown, load_lcc, load_sequence  # noqa: E402
from padctl.definition import ModbusAddress, ModbusTable, load_pad_definition  # noqa: E402
from padctl.journal import AsyncJournal  # noqa: E402
from padctl.logs import configure_logging  # noqa: E402
from padctl.plant import Plant  # noqa: E402
from padctl.subsystems import PadContext, build_subsystems  # noqa: E402
from padctl.subsystems.ground_power import GROUND_POWER  # noqa: E402
from simulators.modbus_plc import ModbusPlcServer  # noqa: E402
from simulators.pad import SimulatedPad  # noqa: E402
from simulators.pad_model import PadModel  # noqa: E402

SEQUENCE = """\
countdown: reaction-bench
profiles: [bench]
positions: [test_conductor]
start: T-00:00:40
terminal_count: T-00:00:30
window: {open: 0, close: 100000}
recycle_points:
  - {id: RP-1, at: T-00:00:40}
events:
  - {at: T-00:00:39, name: Vehicle power on, do: [ground_power.energize]}
  - {at: T-00:00:35, name: Poll, hold: BIH-1, duration: 0, poll: true}
"""
LCC = """\
lcc:
  - {id: LCC-PROP-001, name: Vehicle LOX tank ullage pressure, tags: [LOX-PT-101], high: 3.5, from: T-00:00:40, to: T-0}
"""
OUTPUT = "PWR-CB-842-CMD"
STALE_PLC = "PROP"  # carries LOX-PT-101


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(runs: int, stale_runs: int, scratch: Path) -> dict[str, object]:
    clock = ScaledClock(1.0)
    definition = load_pad_definition()
    model = PadModel(definition)
    sim = SimulatedPad(definition, clock, process=model, scan_wall_s=0.005)
    live = await sim.start()
    server = sim.plcs["SAFE"].server
    assert isinstance(server, ModbusPlcServer)
    address = ModbusAddress.parse(definition.tag(OUTPUT).address)
    arrivals: list[float] = []

    def on_write(table: ModbusTable, offset: int, values: list[int] | list[bool]) -> None:
        if table is address.table and offset == address.offset and values and not values[0]:
            arrivals.append(time.perf_counter())

    server.write_listeners.append(on_write)
    (scratch / "count.yaml").write_text(SEQUENCE)
    (scratch / "lcc.yaml").write_text(LCC)
    latencies_ms: list[float] = []
    stale_ms: list[float] = []
    try:
        async with AsyncJournal(scratch / "journal.sqlite", clock=clock) as journal:
            plant = Plant(definition=live, clock=clock, journal=journal)
            alarms = AlarmManager(clock=clock, journal=journal, table=plant.table)
            async with plant:
                assert await plant.wait_connected(30)
                context = PadContext()
                subsystems = build_subsystems(
                    plant=plant, clock=clock, alarms=alarms, context=context, specs=(GROUND_POWER,)
                )
                await alarms.start()
                for subsystem in subsystems.values():
                    await subsystem.start()
                sequence = load_sequence(
                    scratch / "count.yaml", profile="bench", definition=live, specs=(GROUND_POWER,)
                )
                criteria = load_lcc(scratch / "lcc.yaml", live)
                countdown = Countdown(
                    sequence=sequence,
                    subsystems=subsystems,
                    plant=plant,
                    clock=clock,
                    context=context,
                    lcc=criteria,
                )
                try:
                    await countdown.start(actor="bench")

                    async def into_terminal_count(run: int) -> None:
                        await wait_until(lambda: countdown.status.poll is not None, 30)
                        await countdown.answer_poll(
                            position="test_conductor", go=True, actor="bench"
                        )
                        await wait_until(lambda: countdown.state.name == "TERMINAL_COUNT", 30)
                        await wait_until(
                            lambda: subsystems["ground_power"].machine_state == "ON_EXTERNAL", 30
                        )
                        await asyncio.sleep(0.05 + 0.01 * (run % 7))  # vary the scan phase
                        arrivals.clear()

                    async def recycle() -> None:
                        await wait_until(
                            lambda: countdown.status.hold_reason.startswith("cutoff"), 30
                        )
                        await wait_until(lambda: _below(plant.read("LOX-PT-101").value, 3.5), 30)
                        await wait_until(lambda: plant.read("LOX-PT-101").is_good, 30)
                        await plant.wait_watchdogs_clear(30)
                        await countdown.recycle(actor="bench", point="RP-1")
                        await countdown.answer_poll(
                            position="test_conductor", go=True, actor="bench"
                        )
                        await countdown.resume(actor="bench")

                    for run in range(runs):
                        await into_terminal_count(run)
                        started = time.perf_counter()
                        model.sensor_override("LOX-PT-101", 4.5)
                        await wait_until(lambda: bool(arrivals), 10)
                        latencies_ms.append((arrivals[0] - started) * 1000)
                        model.sensor_override("LOX-PT-101", None)
                        await recycle()
                    for run in range(stale_runs):
                        await into_terminal_count(run)
                        started = time.perf_counter()
                        await sim.drop_link(STALE_PLC)
                        await wait_until(lambda: bool(arrivals), 10)
                        stale_ms.append((arrivals[0] - started) * 1000)
                        await sim.restore_link(STALE_PLC)
                        await recycle()
                finally:
                    await countdown.stop()
                    for subsystem in subsystems.values():
                        await subsystem.stop()
                    await alarms.stop()
    finally:
        await sim.stop()
    poll_s = min(plc.poll_period_s for plc in live.plcs)
    stale_limit_ms = live.plc(STALE_PLC).stale_after_s * 1000
    stale = {
        "stale_runs": len(stale_ms),
        "stale_limit_ms": round(stale_limit_ms, 1),
        "stale_to_cutoff_ms_p50": round(statistics.median(stale_ms), 3) if stale_ms else None,
        "stale_to_cutoff_ms_p99": round(percentile(stale_ms, 0.99), 3) if stale_ms else None,
        "stale_to_cutoff_ms_max": round(max(stale_ms), 3) if stale_ms else None,
        "stale_to_cutoff_within_limit_plus_100_ms": bool(stale_ms)
        and max(stale_ms) <= stale_limit_ms + 100,
    }
    return {
        "runs": len(latencies_ms),
        "breach_to_command_ms_p50": round(statistics.median(latencies_ms), 3),
        "breach_to_command_ms_p99": round(percentile(latencies_ms, 0.99), 3),
        "breach_to_command_ms_max": round(max(latencies_ms), 3),
        "plc_poll_period_ms": round(poll_s * 1000, 1),
        "plcs_scanning": len(live.plcs),
        **stale,
        "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
    }


async def wait_until(predicate, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.001)


def _below(value: object, limit: float) -> bool:
    return isinstance(value, float | int) and value < limit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--stale-runs", type=int, default=20)
    args = parser.parse_args()
    configure_logging(level="error")
    with tempfile.TemporaryDirectory() as tmp:
        coroutine = measure(args.runs, args.stale_runs, Path(tmp))
        if importlib.util.find_spec("uvloop") is None:
            result = asyncio.run(coroutine)
        else:
            import uvloop

            result = uvloop.run(coroutine)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
