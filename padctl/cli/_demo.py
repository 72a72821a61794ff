"""`padctl demo`: simulators and padctl in one process, running a short scripted slice."""

from __future__ import annotations

import tempfile
from pathlib import Path
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
from padctl.definition import PadDefinition
from padctl.journal import AsyncJournal
from padctl.plant import Plant
from padctl.procedure import (
    ProcedureError,
    ProcedureRunner,
    StepFailed,
    TimelineEvent,
    load_procedure,
    sequences_dir,
)

DEMO_PROCEDURE = "demo_slice.yaml"


@app.command("demo")
def demo_command(
    headless: Annotated[
        bool, typer.Option("--headless", help="Print the timeline instead of serving a console.")
    ] = False,
    rate: Annotated[float, typer.Option("--rate", help="Clock rate (1 = real time).")] = 10.0,
    pad: PadOption = None,
    procedure: Annotated[
        Path | None, typer.Option("--procedure", help="Procedure file (default: the demo slice).")
    ] = None,
    journal: Annotated[
        Path | None, typer.Option("--journal", help="Journal file (default: a temporary one).")
    ] = None,
    log_level: LogLevelOption = "warning",
    log_file: LogFileOption = None,
) -> None:
    """Power on, erector vertical, LOX chilldown and 10 % LOX fill, on simulators."""
    setup_logging(log_level, log_file)
    if not headless:
        typer.echo("padctl demo: the operator console is not built yet; use --headless", err=True)
        raise typer.Exit(2)
    check_rate_or_exit(rate, "demo")
    definition = load_definition_or_exit(pad)
    procedure_path = procedure or sequences_dir() / DEMO_PROCEDURE
    try:
        steps = load_procedure(procedure_path, definition)
    except ProcedureError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(2) from None
    with tempfile.TemporaryDirectory(prefix="padctl-demo-") as scratch:
        journal_path = journal or Path(scratch) / "journal.sqlite"
        ok = run(_demo(definition, steps, rate=rate, journal_path=journal_path))
    raise typer.Exit(0 if ok else 1)


async def _demo(definition: PadDefinition, procedure, *, rate: float, journal_path: Path) -> bool:  # type: ignore[no-untyped-def]
    from padctl.cli._simulated import simulated_pad

    async with simulated_pad(definition, rate=rate) as simulated:
        clock = simulated.clock
        async with AsyncJournal(journal_path, clock=clock) as journal:
            plant = Plant(definition=simulated.definition, clock=clock, journal=journal)
            async with plant:
                if not await plant.wait_connected(10.0):
                    typer.echo("DEMO FAILED: not every PLC answered", err=True)
                    return False
                await plant.wait_watchdogs_clear(10.0)
                typer.echo(
                    f"padctl demo: {procedure.name} at rate {rate:g}, journal {journal_path}"
                )
                runner = ProcedureRunner(plant=plant, clock=clock, actor="demo", on_event=_print)
                try:
                    await runner.run(procedure)
                except StepFailed as failure:
                    typer.echo(f"DEMO FAILED: {failure}", err=True)
                    return False
    return True


def _print(event: TimelineEvent) -> None:
    minutes, seconds = divmod(event.t_s, 60.0)
    typer.echo(f"T+{int(minutes):02d}:{seconds:05.2f}  {event.kind:<10} {event.text}")
