"""Benchmark: operator command accepted -> output written at the simulated PLC, full pad scanning.

The reference pad's five simulated PLCs and padctl (plant, heartbeats, alarms, subsystems)
run in one process at real time, every PLC scanned at its poll period. A ground power
command is issued again and again; the time from the `command()` call to the moment the
simulated PLC's datastore receives the command's output write is measured (the breaker's
travel time is not: that is the plant's, not padctl's). Also one bare state machine
transition, no I/O. Prints one JSON object as its last line.

    .venv/bin/python tests/bench/command.py [--commands N]
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

from transitions.extensions.asyncio import AsyncMachine  # noqa: E402

from padctl.alarms import AlarmManager  # noqa: E402
from padctl.clock import ScaledClock  # noqa: E402
from padctl.definition import ModbusAddress, ModbusTable, load_pad_definition  # noqa: E402
from padctl.journal import AsyncJournal  # noqa: E402
from padctl.logs import configure_logging  # noqa: E402
from padctl.plant import Plant  # noqa: E402
from padctl.subsystems import build_subsystems  # noqa: E402
from padctl.subsystems.ground_power import GROUND_POWER  # noqa: E402
from simulators.modbus_plc import ModbusPlcServer  # noqa: E402
from simulators.pad import SimulatedPad  # noqa: E402
from simulators.pad_model import PadModel  # noqa: E402

OUTPUT = "PWR-CB-842-CMD"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def transition_us(samples: int = 20000) -> float:
    """Median cost of one AsyncMachine trigger over the ground power table, no callbacks."""

    class Model:
        pass

    model = Model()
    AsyncMachine(
        model=model,
        states=[state.name for state in GROUND_POWER.states],
        transitions=[
            {"trigger": "t_" + row["trigger"], "source": row["source"], "dest": row["dest"]}
            for row in GROUND_POWER.transition_table()
        ],
        initial="DE_ENERGIZED",
        auto_transitions=False,
    )
    costs = []
    for _ in range(samples // 2):
        started = time.perf_counter()
        await model.t_energize()  # type: ignore[attr-defined]
        costs.append(time.perf_counter() - started)
        started = time.perf_counter()
        await model.t_energize_confirmed()  # type: ignore[attr-defined]
        costs.append(time.perf_counter() - started)
        await model.t_de_energize()  # type: ignore[attr-defined]
        await model.t_de_energize_confirmed()  # type: ignore[attr-defined]
    return statistics.median(costs) * 1e6


async def measure(commands: int, journal_path: Path) -> dict[str, object]:
    clock = ScaledClock(1.0)
    definition = load_pad_definition()
    sim = SimulatedPad(definition, clock, process=PadModel(definition))
    live = await sim.start()
    server = sim.plcs["SAFE"].server
    assert isinstance(server, ModbusPlcServer)
    address = ModbusAddress.parse(definition.tag(OUTPUT).address)
    arrivals: list[float] = []

    def on_write(table: ModbusTable, offset: int, values: object) -> None:
        if table is address.table and offset == address.offset:
            arrivals.append(time.perf_counter())

    server.write_listeners.append(on_write)
    latencies_ms: list[float] = []
    try:
        async with AsyncJournal(journal_path, clock=clock) as journal:
            plant = Plant(definition=live, clock=clock, journal=journal)
            alarms = AlarmManager(clock=clock, journal=journal, table=plant.table)
            async with plant:
                assert await plant.wait_connected(30)
                await alarms.start()
                power = build_subsystems(
                    plant=plant, clock=clock, alarms=alarms, specs=(GROUND_POWER,)
                )["ground_power"]
                await power.start()
                try:
                    for n in range(commands):
                        name = (
                            "energize" if power.machine_state == "DE_ENERGIZED" else "de_energize"
                        )
                        arrivals.clear()
                        started = time.perf_counter()
                        ticket = await power.command(name, actor="bench")
                        outcome = await ticket.wait()
                        if outcome != "confirmed" or not arrivals:
                            raise RuntimeError(f"command {n} {name}: {outcome}")
                        latencies_ms.append((arrivals[0] - started) * 1000)
                finally:
                    await power.stop()
                    await alarms.stop()
    finally:
        await sim.stop()
    return {
        "commands": len(latencies_ms),
        "command_to_plc_ms_p50": round(statistics.median(latencies_ms), 3),
        "command_to_plc_ms_p99": round(percentile(latencies_ms, 0.99), 3),
        "command_to_plc_ms_max": round(max(latencies_ms), 3),
        "transition_us_p50": round(await transition_us(), 2),
        "plcs_scanning": len(live.plcs),
        "tags_scanned": len(live.tags),
        "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=200)
    args = parser.parse_args()
    configure_logging(level="error")
    with tempfile.TemporaryDirectory() as tmp:
        coroutine = measure(args.commands, Path(tmp) / "journal.sqlite")
        if importlib.util.find_spec("uvloop") is None:
            result = asyncio.run(coroutine)
        else:
            import uvloop

            result = uvloop.run(coroutine)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
