"""Soak: PLC links dropped and restored 500 times, then a scaled count with faults; any leak?

The reference pad runs on its simulators with padctl's whole stack on top (plant, heartbeats,
alarms, every subsystem). Its propellants PLC (PROP) is reached through the fault proxy
(hil/proxy.py). Then:

1. `--cycles` link cycles of PROP: even ones reset every connection at the proxy (TCP RST),
   odd ones drop the simulator's link (connections reset, nothing listens) and restore it.
   Each cycle waits until padctl has reconnected and read PROP afresh.
2. The reference count (sequences/countdown.yaml, test-flight) for `--count-minutes` of
   simulated time at `--rate`, with link and sensor faults played by simulators/fault_commands
   (every hold answered GO and resumed once its data is back).

Memory (RSS), asyncio tasks and open file descriptors are taken once everything is warm and
again at the same point after the cycles and the count (all data GOOD, count stopped), and
once more after everything is stopped, against the process before it started. Prints one
JSON object as its last line: cycles, rss_growth_mb, tasks_growth, fds_growth, and detail.

    .venv/bin/python tests/bench/soak.py [--cycles 500] [--rate 100] [--count-minutes 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from hil.proxy import FaultProxy  # noqa: E402
from padctl.alarms import AlarmManager  # noqa: E402
from padctl.clock import ScaledClock  # noqa: E402
from padctl.countdown import (  # noqa: E402
    Countdown,
    CountdownRefused,
    CountState,
    format_t_time,
    load_lcc,
    load_sequence,
)
from padctl.definition import PadDefinition, load_pad_definition  # noqa: E402
from padctl.journal import AsyncJournal  # noqa: E402
from padctl.logs import configure_logging  # noqa: E402
from padctl.plant import Plant, TagTable  # noqa: E402
from padctl.subsystems import ALL_SPECS, PadContext, build_subsystems  # noqa: E402
from simulators.fault_commands import parse_fault  # noqa: E402
from simulators.pad import SimulatedPad  # noqa: E402
from simulators.pad_model import PadModel  # noqa: E402

SEQUENCES = REPO / "sequences"
CYCLED_PLC = "PROP"
FRESH_TAG = "LOX-LT-001"  # a PROP measurement: fresh data after a cycle proves the reconnect
# (clock seconds after the count starts, fault command): each link fault is shorter than the
# PLC watchdog (2 s wall), so the pad is not driven safe, and every hold can be resumed.
COUNT_FAULTS = (
    (250.0, "stall GAS"),
    (400.0, "restore GAS"),
    (700.0, "stall PROP"),
    (850.0, "restore PROP"),
    (1000.0, "drop MECH"),
    (1050.0, "restore MECH"),
    (1150.0, "bias GN2-PT-201 1.5"),
    (1250.0, "clear"),
    (1350.0, "drop VEH"),
    (1410.0, "restore VEH"),
)


def with_reconnect_max(definition: PadDefinition, wall_s: float, rate: float) -> PadDefinition:
    """Every PLC's reconnect backoff capped at `wall_s` wall seconds (at clock `rate`)."""
    document = definition.model_dump()
    for plc in document["plcs"]:
        plc["reconnect_max_s"] = max(plc["reconnect_min_s"], wall_s * max(1.0, rate))
    return PadDefinition.model_validate(document)


async def settled_footprint(
    plant: Plant | None, samples: int = 5, interval_s: float = 0.2
) -> dict[str, Any]:
    """The footprint with every connection up (all data GOOD), median of a few samples.

    Tasks come and go inside waits, so one sample can be off by a few either way. No
    gc.collect() here: a full collection of this heap blocks the loop long enough for PLC
    requests to time out, which would drop the very connections being counted.
    """
    taken = []
    for _ in range(samples * 10):
        await asyncio.sleep(interval_s)
        if plant is not None and not all_good(plant.table):
            continue
        taken.append(footprint())
        if len(taken) == samples:
            break
    if not taken:
        raise RuntimeError("the pad's data never was all GOOD to take a footprint")
    taken.sort(key=lambda f: (f["tasks"], f["fds"]))
    median = taken[len(taken) // 2]
    return {**median, "rss_mb": max(f["rss_mb"] for f in taken)}


def all_good(table: TagTable) -> bool:
    """Whether every tag that ever had a value reads GOOD now."""
    return all(s.is_good for s in table.snapshot().values() if s.value is not None)


def footprint() -> dict[str, Any]:
    """RSS (MB), asyncio tasks and open fds of this process now."""
    me = psutil.Process()
    fds = {}
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            fds[int(fd.name)] = os.readlink(fd)
    return {
        "rss_mb": me.memory_info().rss / 1e6,
        "tasks": len(asyncio.all_tasks()),
        "fds": me.num_fds(),
        "task_names": sorted(_describe(task) for task in asyncio.all_tasks()),
        "fd_targets": fds,
    }


def _describe(task: asyncio.Task[Any]) -> str:
    """The task's name and where it is waiting, innermost frame first."""
    frames = task.get_stack(limit=8)
    where = " < ".join(
        f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_code.co_name}"
        for frame in reversed(frames)
    )
    return f"{task.get_name()} {where or repr(task.get_coro())}"


def grown(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Tasks (by where they run) and fds that `after` has more of than `before` (a leak)."""

    def where(names: list[str]) -> Counter[str]:
        return Counter(name.split(" ", 1)[1] for name in names)

    tasks = where(after["task_names"]) - where(before["task_names"])
    fds = [
        f"{fd}: {target}"
        for fd, target in after["fd_targets"].items()
        if before["fd_targets"].get(fd) != target and not target.startswith("socket:")
    ]
    return {"tasks": dict(tasks), "fds": fds}


async def link_cycles(
    cycles: int, *, plant: Plant, sim: SimulatedPad, proxy: FaultProxy, rate: float
) -> list[float]:
    """Drop and restore PROP's link `cycles` times; the wall seconds each took to recover."""
    durations = []
    for cycle in range(cycles):
        started = time.perf_counter()
        fault_at_s = plant.clock.now()
        if cycle % 2 == 0:
            await proxy.reset()
        else:
            await sim.drop_link(CYCLED_PLC)
            await sim.restore_link(CYCLED_PLC)
        recovered = await plant.table.wait_for(
            lambda t, since_s=fault_at_s: (
                (s := t.get(FRESH_TAG)).is_good and s.t_source_s > since_s
            ),
            timeout_s=20.0 * rate,
        )
        if not recovered:
            raise RuntimeError(f"cycle {cycle}: {CYCLED_PLC} not read afresh within 20 s")
        durations.append(time.perf_counter() - started)
    return durations


async def faulted_count(
    countdown: Countdown,
    *,
    clock: ScaledClock,
    sim: SimulatedPad,
    model: PadModel,
    minutes: float,
) -> dict[str, Any]:
    """Run the count for `minutes` of clock time with COUNT_FAULTS; what it went through."""
    positions = countdown.sequence.positions
    started_s = clock.now()
    pending = list(COUNT_FAULTS)
    resumes = 0
    await countdown.start(actor="soak")
    while clock.now() - started_s < minutes * 60.0:
        if countdown.state in (CountState.SECURED, CountState.LIFTOFF, CountState.SCRUBBED):
            break
        while pending and clock.now() - started_s >= pending[0][0]:
            await parse_fault(pending.pop(0)[1]).apply(sim, model)
        if countdown.state is CountState.HOLDING and countdown.status.resumable:
            poll = countdown.status.poll
            if poll is not None:
                for position in positions:
                    if poll.answers.get(position) is not True:
                        await countdown.answer_poll(position=position, go=True, actor="soak")
            try:
                await countdown.resume(actor="soak")
                resumes += 1
            except CountdownRefused:
                pass  # its data is not back yet
        await clock.wall_sleep(0.05)
    return {
        "sim_seconds": round(clock.now() - started_s, 1),
        "t_reached": format_t_time(countdown.t_now()),
        "state": countdown.state.name,
        "hold_reason": countdown.status.hold_reason,
        "faults_played": len(COUNT_FAULTS) - len(pending),
        "holds": sum(1 for e in countdown.timeline if e.kind == "HOLD"),
        "resumes": resumes,
        "events_run": sum(1 for e in countdown.timeline if e.kind == "EVENT"),
    }


async def soak(
    cycles: int, rate: float, count_minutes: float, reconnect_max_wall_s: float, scratch: Path
) -> dict[str, Any]:
    gc.collect()
    before_start = footprint()
    clock = ScaledClock(rate)
    definition = with_reconnect_max(load_pad_definition(), reconnect_max_wall_s, rate)
    sequence = load_sequence(
        SEQUENCES / "countdown.yaml", profile="test-flight", definition=definition, specs=ALL_SPECS
    )
    criteria = load_lcc(SEQUENCES / "lcc.yaml", definition)
    model = PadModel(definition)
    sim = SimulatedPad(definition, clock, process=model)
    live = await sim.start()
    wall_started = time.perf_counter()
    try:
        prop = live.plc(CYCLED_PLC)
        async with FaultProxy(upstream_host="127.0.0.1", upstream_port=prop.port) as proxy:  # type: ignore[union-attr]
            live = live.with_plc_endpoint(CYCLED_PLC, host="127.0.0.1", port=proxy.port)
            async with AsyncJournal(scratch / "journal.sqlite", clock=clock) as journal:
                plant = Plant(definition=live, clock=clock, journal=journal)
                alarms = AlarmManager(clock=clock, journal=journal, table=plant.table)
                async with plant:
                    assert await plant.wait_connected(30.0), "simulated PLCs did not answer"
                    context = PadContext()
                    subsystems = build_subsystems(
                        plant=plant, clock=clock, alarms=alarms, context=context
                    )
                    await alarms.start()
                    for subsystem in subsystems.values():
                        await subsystem.start()
                    try:
                        await link_cycles(10, plant=plant, sim=sim, proxy=proxy, rate=rate)
                        gc.collect()
                        baseline = await settled_footprint(plant)
                        durations = await link_cycles(
                            cycles, plant=plant, sim=sim, proxy=proxy, rate=rate
                        )
                        after_cycles = await settled_footprint(plant)
                        countdown = Countdown(
                            sequence=sequence,
                            subsystems=subsystems,
                            plant=plant,
                            clock=clock,
                            context=context,
                            lcc=criteria,
                        )
                        try:
                            count = await faulted_count(
                                countdown, clock=clock, sim=sim, model=model, minutes=count_minutes
                            )
                        finally:
                            await countdown.stop()
                        model.clear_faults()
                        all_good_after = await plant.table.wait_for(
                            all_good,
                            timeout_s=20.0 * rate,
                        )
                        gc.collect()
                        final = await settled_footprint(plant)
                    finally:
                        for subsystem in subsystems.values():
                            await subsystem.stop()
                        await alarms.stop()
    finally:
        await sim.stop()
    wall_s = time.perf_counter() - wall_started
    gc.collect()
    after_stop = await settled_footprint(None)
    return {
        "cycles": cycles,
        "rss_growth_mb": round(final["rss_mb"] - baseline["rss_mb"], 2),
        "tasks_growth": final["tasks"] - baseline["tasks"],
        "fds_growth": final["fds"] - baseline["fds"],
        "rss_baseline_mb": round(baseline["rss_mb"], 1),
        "rss_after_cycles_mb": round(after_cycles["rss_mb"], 1),
        "rss_final_mb": round(final["rss_mb"], 1),
        "tasks_baseline": baseline["tasks"],
        "fds_baseline": baseline["fds"],
        "cycle_recovery_s_median": round(statistics.median(durations), 3),
        "cycle_recovery_s_max": round(max(durations), 3),
        "count": count,
        "all_good_after": all_good_after,
        "grown": grown(baseline, final),
        "tasks_left_after_stop": after_stop["tasks"] - before_start["tasks"],
        "fds_left_after_stop": after_stop["fds"] - before_start["fds"],
        "left_after_stop": grown(before_start, after_stop),
        "rate": rate,
        "reconnect_max_wall_s": reconnect_max_wall_s,
        "wall_seconds": round(wall_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--count-minutes", type=float, default=30.0)
    parser.add_argument(
        "--reconnect-max-wall-s",
        type=float,
        default=0.4,
        help="cap of the hubs' reconnect backoff (ModbusHub never resets its backoff after "
        "a reconnect, so each outage would otherwise cost the full 5 s)",
    )
    parser.add_argument("--log-level", default="critical")
    args = parser.parse_args()
    configure_logging(level=args.log_level)
    with tempfile.TemporaryDirectory() as tmp:
        coroutine = soak(
            args.cycles, args.rate, args.count_minutes, args.reconnect_max_wall_s, Path(tmp)
        )
        if importlib.util.find_spec("uvloop") is None:
            result = asyncio.run(coroutine)
        else:
            import uvloop

            result = uvloop.run(coroutine)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
