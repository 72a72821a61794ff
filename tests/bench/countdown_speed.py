"""Benchmark: the reference countdown (sequences/countdown.yaml), nominal, on the simulated pad.

The whole count (T-06:00:00 to liftoff and post-launch safing) runs on the simulators at a
scaled clock with every GO/NO-GO poll answered GO. Reports the simulated seconds counted,
the wall time, and the largest gap (simulated seconds) between a timed event's scheduled
T-time and the T-time it ran at. Prints one JSON object as its last line.

    .venv/bin/python tests/bench/countdown_speed.py [--rate N] [--profile full|test-flight]
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
from padctl.countdown import Countdown, CountdownSequence, load_lcc, load_sequence  # noqa: E402
from padctl.definition import load_pad_definition  # noqa: E402
from padctl.journal import AsyncJournal  # noqa: E402
from padctl.logs import configure_logging  # noqa: E402
from padctl.plant import Plant  # noqa: E402
from padctl.subsystems import ALL_SPECS, PadContext, build_subsystems  # noqa: E402
from simulators.pad import SimulatedPad  # noqa: E402
from simulators.pad_model import PadModel  # noqa: E402

SEQUENCES = REPO / "sequences"


def event_errors_s(countdown: Countdown, sequence: CountdownSequence) -> list[tuple[float, str]]:
    """|run T-time - scheduled T-time| of every timed event the count ran, with its name."""
    scheduled = list(sequence.events)
    errors = []
    index = 0
    for entry in countdown.timeline:
        if entry.kind != "EVENT":
            continue
        while index < len(scheduled) and scheduled[index].name != entry.text:
            index += 1
        if index == len(scheduled):
            break
        errors.append((abs(entry.t_s - scheduled[index].t_s), entry.text))
        index += 1
    return errors


async def measure(rate: float, profile: str, scratch: Path) -> dict[str, object]:
    clock = ScaledClock(rate)
    definition = load_pad_definition()
    sequence = load_sequence(
        SEQUENCES / "countdown.yaml", profile=profile, definition=definition, specs=ALL_SPECS
    )
    criteria = load_lcc(SEQUENCES / "lcc.yaml", definition)
    model = PadModel(definition)
    sim = SimulatedPad(definition, clock, process=model)
    live = await sim.start()
    try:
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
                countdown = Countdown(
                    sequence=sequence,
                    subsystems=subsystems,
                    plant=plant,
                    clock=clock,
                    context=context,
                    lcc=criteria,
                )
                wall_start = time.perf_counter()
                sim_start = clock.now()
                holds = 0
                try:
                    await countdown.start(actor="bench")
                    while not countdown.done:
                        if countdown.state.name == "HOLDING":
                            if not countdown.status.resumable or countdown.status.hold_id is None:
                                holds += 1  # an unplanned hold or a cutoff: not nominal
                                break
                            poll = countdown.status.poll
                            for position in poll.missing if poll is not None else []:
                                await countdown.answer_poll(
                                    position=position, go=True, actor="bench"
                                )
                        await clock.wall_sleep(0.01)
                    wall_s = time.perf_counter() - wall_start
                    sim_s = clock.now() - sim_start
                finally:
                    await countdown.stop()
                    for subsystem in subsystems.values():
                        await subsystem.stop()
                    await alarms.stop()
    finally:
        await sim.stop()
    errors = event_errors_s(countdown, sequence)
    return {
        "profile": profile,
        "result": countdown.status.result or f"STOPPED: {countdown.status.hold_reason}",
        "sim_seconds": round(sim_s, 1),
        "wall_seconds": round(wall_s, 2),
        "rate": rate,
        "effective_rate": round(sim_s / wall_s, 1) if wall_s > 0 else None,
        "max_event_error_s": round(max(errors)[0], 3) if errors else None,
        "median_event_error_s": round(statistics.median(e for e, _ in errors), 3)
        if errors
        else None,
        "latest_event": max(errors)[1] if errors else None,
        "events_run": sum(1 for e in countdown.timeline if e.kind == "EVENT"),
        "unplanned_holds": holds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--profile", default="full")
    args = parser.parse_args()
    configure_logging(level="error")
    with tempfile.TemporaryDirectory() as tmp:
        coroutine = measure(args.rate, args.profile, Path(tmp))
        if importlib.util.find_spec("uvloop") is None:
            result = asyncio.run(coroutine)
        else:
            import uvloop

            result = uvloop.run(coroutine)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
