"""`padctl sim`: serve the simulated PLCs of a pad definition until stopped."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
from collections.abc import Callable
from typing import Annotated

import typer

from padctl.cli._app import (
    LogFileOption,
    LogLevelOption,
    PadOption,
    app,
    check_rate_or_exit,
    load_definition_or_exit,
    setup_logging,
)
from padctl.cli._runtime import run
from padctl.clock import ScaledClock
from padctl.definition import ModbusTable, PadDefinition
from simulators.fault_commands import FAULT_HELP, FaultSyntaxError, parse_fault
from simulators.pad import SimulatedPad


@app.command(
    "sim",
    help="Serve the simulated PLCs of a pad definition until stopped.\n\n"
    "Fault commands are read from standard input, one per line:\n\n" + FAULT_HELP,
)
def sim_command(
    pad: PadOption = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per PLC before serving.")
    ] = False,
    rate: Annotated[float, typer.Option("--rate", help="Clock rate (1 = real time).")] = 1.0,
    ephemeral: Annotated[
        bool, typer.Option("--ephemeral-ports", help="Bind free ports, not the definition's.")
    ] = False,
    physics: Annotated[
        bool,
        typer.Option("--physics/--no-physics", help="Run the pad physics (off: static tables)."),
    ] = True,
    fault: Annotated[
        list[str] | None,
        typer.Option("--fault", help="'SECONDS COMMAND': play a fault command at a clock time."),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", help="Address the simulated PLCs listen on.")
    ] = "127.0.0.1",
    report_writes: Annotated[
        bool,
        typer.Option(
            "--report-writes",
            help="Print a JSON line for every write a client makes to a Modbus PLC.",
        ),
    ] = False,
    log_level: LogLevelOption = "info",
    log_file: LogFileOption = None,
) -> None:
    check_rate_or_exit(rate, "sim")
    setup_logging(log_level, log_file)
    definition = load_definition_or_exit(pad)
    schedule: list[tuple[float, str]] = []
    for spec in fault or []:
        at_text, _, command = spec.strip().partition(" ")
        try:
            schedule.append((float(at_text), command))
            parse_fault(command)
        except (ValueError, FaultSyntaxError) as error:
            typer.echo(f"padctl sim: --fault {spec!r}: {error}", err=True)
            raise typer.Exit(2) from None
    run(
        _serve(
            definition,
            rate=rate,
            json_output=json_output,
            fixed_ports=not ephemeral,
            schedule=schedule,
            physics=physics,
            host=host,
            report_writes=report_writes,
        )
    )


async def _serve(
    definition: PadDefinition,
    *,
    rate: float,
    json_output: bool,
    fixed_ports: bool,
    schedule: list[tuple[float, str]],
    physics: bool,
    host: str,
    report_writes: bool,
) -> None:
    clock = ScaledClock(rate)
    model = None
    if physics:
        from simulators.pad_model import PadModel

        model = PadModel(definition)
    simulated = SimulatedPad(definition, clock, process=model, fixed_ports=fixed_ports, host=host)
    await simulated.start()
    reporters: dict[str, WriteListener] = {}
    if report_writes:
        _report_writes(simulated, reporters)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        for endpoint in simulated.endpoints():
            if json_output:
                typer.echo(json.dumps(endpoint))
            else:
                where = endpoint.get("endpoint") or f"{endpoint['host']}:{endpoint['port']}"
                unit = f" unit {endpoint['unit_id']}" if "unit_id" in endpoint else ""
                typer.echo(f"{endpoint['id']:<6} {endpoint['protocol']:<7} {where}{unit}")
        sys.stdout.flush()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        _read_stdin_lines(loop, lines)
        started_s = clock.now()
        pending = sorted(schedule)
        while not stop.is_set():
            next_at = pending[0][0] + started_s if pending else None
            wait_s = (
                0.25 if next_at is None else max(0.0, min(0.25, (next_at - clock.now()) / rate))
            )
            try:
                async with asyncio.timeout(wait_s):
                    line = await lines.get()
            except TimeoutError:
                line = None
            while pending and pending[0][0] + started_s <= clock.now():
                _, command = pending.pop(0)
                await _play(command, simulated, model)
            if line:
                await _play(line, simulated, model)
            if report_writes:  # a restarted PLC is a new server
                _report_writes(simulated, reporters)
    finally:
        await simulated.stop()


async def _play(text: str, simulated: SimulatedPad, model: object) -> None:
    text = text.strip()
    if not text or text.startswith("#"):
        return
    try:
        await parse_fault(text).apply(simulated, model)
    except (FaultSyntaxError, KeyError) as error:
        typer.echo(f"fault refused: {error}", err=True)
        return
    typer.echo(f"fault applied: {text}")
    sys.stdout.flush()


WriteListener = Callable[[ModbusTable, int, list[int] | list[bool]], None]


def _report_writes(simulated: SimulatedPad, reporters: dict[str, WriteListener]) -> None:
    """Print one JSON line per client write to each Modbus PLC (attached once per server)."""
    for plc_id, plc in simulated.plcs.items():
        listeners = getattr(plc.server, "write_listeners", None)
        if listeners is None:  # an OPC UA server reports no writes
            continue
        reporter = reporters.get(plc_id)
        if reporter is None:
            reporter = reporters[plc_id] = _write_reporter(plc_id)
        if reporter not in listeners:
            listeners.append(reporter)


def _write_reporter(plc_id: str) -> WriteListener:
    def report(table: ModbusTable, offset: int, values: list[int] | list[bool]) -> None:
        record = {"plc": plc_id, "table": table.value, "offset": offset, "values": list(values)}
        typer.echo(json.dumps({"write": record}))
        sys.stdout.flush()

    return report


def _read_stdin_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    """Feed standard input's lines to the loop from a daemon thread (stdin may be any file)."""

    def reader() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)

    threading.Thread(target=reader, name="sim-stdin", daemon=True).start()
