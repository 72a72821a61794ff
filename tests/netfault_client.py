"""padctl's side of a network fault test, as a program (run inside the control namespace).

It builds what a pad's padctl runs (plant, alarms, subsystems, a countdown from a small test
sequence) against PLC endpoints given as `padctl sim --json` printed them, and prints JSON
lines of what it sees: one `ready` line, then an `obs` line every period (tag qualities,
subsystem states, the count), and a `reply` line for each command read on standard input:

    start                       start the count
    check SUBSYSTEM COMMAND     would the command be accepted now (as the sequence asks)?
    safe SUBSYSTEM              drive its safe outputs (replies once proven, or not)
    poll-go                     every position answers GO
    resume                      resume the count
    quit                        stop everything and exit 0 (end of input does the same)

    python -m tests.netfault_client --endpoints JSON --sequence FILE --lcc FILE \
        --journal PATH [--rate N] [--watch TAG ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from padctl.alarms import AlarmManager
from padctl.cli._runtime import run
from padctl.clock import ScaledClock
from padctl.countdown import Countdown, CountdownRefused, load_lcc, load_sequence
from padctl.definition import PadDefinition, load_pad_definition
from padctl.journal import AsyncJournal
from padctl.logs import configure_logging
from padctl.plant import Plant
from padctl.subsystems import ALL_SPECS, CommandRefused, Origin, PadContext, build_subsystems


def say(**record: Any) -> None:
    print(json.dumps(record), flush=True)


def live_definition(
    endpoints: list[dict[str, Any]], *, rate: float, reconnect_max_wall_s: float
) -> PadDefinition:
    """The reference pad at `rate`, each PLC at its simulator's endpoint."""
    definition = load_pad_definition()
    for endpoint in endpoints:
        path = str(endpoint.get("endpoint", "")).split("/", 3)[3] if "endpoint" in endpoint else ""
        definition = definition.with_plc_endpoint(
            endpoint["id"], host=endpoint["host"], port=int(endpoint["port"]), path=path
        )
    document = definition.model_dump()
    for plc in document["plcs"]:  # reconnect soon after a link heals (wall seconds)
        plc["reconnect_max_s"] = reconnect_max_wall_s * max(1.0, rate)
    return PadDefinition.model_validate(document)


async def main(args: argparse.Namespace) -> int:
    configure_logging(level="error", json_output=True)
    rate = args.rate
    clock = ScaledClock(rate)
    definition = live_definition(
        json.loads(args.endpoints), rate=rate, reconnect_max_wall_s=args.reconnect_max_wall_s
    )
    sequence = load_sequence(
        args.sequence, profile=args.profile, definition=definition, specs=ALL_SPECS
    )
    criteria = load_lcc(args.lcc, definition)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    _read_stdin_lines(asyncio.get_running_loop(), lines)
    async with AsyncJournal(args.journal, clock=clock) as journal:
        plant = Plant(definition=definition, clock=clock, journal=journal)
        alarms = AlarmManager(clock=clock, journal=journal, table=plant.table)
        async with plant:
            if not await plant.wait_connected(20.0):
                say(ready=False, error="not every PLC answered")
                return 1
            # As a station does: a PLC whose watchdog still holds its outputs safe would
            # overwrite the count's first command (ground power, on a busy machine).
            if problems := await plant.wait_watchdogs_clear(20.0):
                say(ready=False, error="; ".join(problems))
                return 1
            context = PadContext()
            subsystems = build_subsystems(plant=plant, clock=clock, alarms=alarms, context=context)
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

            def observe() -> None:
                samples = plant.table.snapshot(args.watch)
                say(
                    obs={
                        "mono": time.monotonic(),
                        "q": {name: sample.quality.value for name, sample in samples.items()},
                        "count": countdown.state.name,
                        "t": round(countdown.t_now(), 3),
                        "hold": countdown.status.hold_reason,
                        "sub": {name: s.machine_state for name, s in subsystems.items()},
                        "mode": {name: s.mode.value for name, s in subsystems.items()},
                    }
                )

            say(ready=True, plcs=[plc.id for plc in definition.plcs])
            safings: set[asyncio.Task[None]] = set()
            try:
                while True:
                    observe()
                    try:
                        line = await asyncio.wait_for(lines.get(), args.period_ms / 1000.0)
                    except TimeoutError:
                        continue
                    if line is None or line.strip() == "quit":
                        break
                    words = line.split()
                    if len(words) == 2 and words[0] == "safe":  # observed while it runs
                        safings.add(asyncio.create_task(_safe(subsystems[words[1]], line)))
                        continue
                    await _command(words, countdown, subsystems, sequence.positions)
            finally:
                await asyncio.gather(*safings, return_exceptions=True)
                await countdown.stop()
                for subsystem in subsystems.values():
                    await subsystem.stop()
                await alarms.stop()
    say(bye=True)
    return 0


async def _command(
    words: list[str], countdown: Countdown, subsystems: dict[str, Any], positions: tuple[str, ...]
) -> None:
    if not words:
        return
    verb = words[0]
    try:
        if verb == "start":
            await countdown.start(actor="test_conductor")
        elif verb == "check" and len(words) == 3:
            subsystems[words[1]].check(words[2], origin=Origin.SEQUENCE)
        elif verb == "poll-go":
            for position in positions:
                await countdown.answer_poll(position=position, go=True, actor=position)
        elif verb == "resume":
            await countdown.resume(actor="test_conductor")
        else:
            say(reply=" ".join(words), ok=False, error="unknown command")
            return
    except (CommandRefused, CountdownRefused) as refused:
        say(reply=" ".join(words), ok=False, error=str(refused))
        return
    say(reply=" ".join(words), ok=True)


async def _safe(subsystem: Any, line: str) -> None:
    proven = await subsystem.safe(actor="test_conductor", reason="network fault test")
    say(reply=line.strip(), ok=True, proven=proven)


def _read_stdin_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    def reader() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)
        except RuntimeError:  # the loop has closed
            return

    threading.Thread(target=reader, name="client-stdin", daemon=True).start()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoints", required=True, help="JSON list of simulator endpoints")
    parser.add_argument("--sequence", type=Path, required=True)
    parser.add_argument("--lcc", type=Path, required=True)
    parser.add_argument("--profile", default="test")
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=1.0)
    parser.add_argument("--watch", nargs="*", default=[])
    parser.add_argument("--period-ms", type=float, default=50.0)
    parser.add_argument("--reconnect-max-wall-s", type=float, default=0.5)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run(main(parse_args())))
