"""`padctl validate` and `padctl countdown`: sequences as data, checked, dry-run and run."""

from __future__ import annotations

import asyncio
import shlex
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from padctl.cli._app import (
    LogFileOption,
    LogLevelOption,
    MqttOption,
    PadOption,
    app,
    check_rate_or_exit,
    load_definition_or_exit,
    setup_logging,
    sparkplug_settings_or_exit,
)
from padctl.cli._history import HistoryOption, NoHistoryOption, history_path
from padctl.cli._runtime import run
from padctl.countdown import (
    CountdownRefused,
    CountdownSequence,
    CountEvent,
    CountState,
    LccError,
    SequenceError,
    describe_plan,
    format_t_time,
    load_lcc,
    load_sequence,
    parse_t_time,
)
from padctl.definition import DefinitionError, PadDefinition, load_pad_definition
from padctl.history import recorded
from padctl.procedure import ProcedureError, load_procedure, sequences_dir
from padctl.sparkplug import SparkplugSettings, published
from padctl.subsystems import ALL_SPECS
from padctl.yaml_lines import DataFileError, load_yaml_with_lines

COUNTDOWN_FILE = "countdown.yaml"
LCC_FILE = "lcc.yaml"


def _problems_of(path: Path, definition: PadDefinition) -> list[str]:
    """Every problem of one data file, whatever kind it is (by its top-level key).

    DataFileError if the file cannot be read as a YAML mapping at all.
    """
    data = load_yaml_with_lines(path).data
    kind = next(iter(data), None)
    try:
        if kind == "countdown":
            listed = data.get("profiles")
            profiles = listed if isinstance(listed, list) and listed else ["(none)"]
            problems: list[str] = []
            for profile in profiles:
                try:
                    load_sequence(
                        path, profile=str(profile), definition=definition, specs=ALL_SPECS
                    )
                except SequenceError as error:
                    problems += [p for p in error.problems if p not in problems]
            return problems
        if kind == "lcc":
            load_lcc(path, definition)
        elif kind == "procedure":
            load_procedure(path, definition)
        elif kind == "pad":
            load_pad_definition(path)
        elif kind == "scenario":
            from padctl.cli._scenarios import scenario_problems

            return scenario_problems(path)
        else:
            return [
                f"{path}:1: not a countdown, lcc, procedure, pad or scenario file "
                f"(top key {kind!r})"
            ]
    except (LccError, ProcedureError, DefinitionError) as error:
        return list(error.problems)
    return []


@app.command("validate")
def validate_command(
    paths: Annotated[list[Path], typer.Argument(help="Sequence, LCC, procedure or pad files.")],
    pad: PadOption = None,
) -> None:
    """Check data files against the pad: every reference, time order, holds and windows.

    Exits 1 when a file has problems, 2 when a file cannot be read as YAML at all.
    """
    definition = load_definition_or_exit(pad)
    failed = unreadable = 0
    for path in paths:
        try:
            problems = _problems_of(path, definition)
        except DataFileError as error:
            problems = [str(error)]
            unreadable += 1
        for problem in problems:
            typer.echo(problem, err=True)
        if problems:
            failed += 1
        else:
            typer.echo(f"{path}: OK")
    if failed:
        typer.echo(f"padctl validate: {failed} of {len(paths)} file(s) have problems", err=True)
        raise typer.Exit(2 if unreadable else 1)


@app.command("countdown")
def countdown_command(
    sim: Annotated[
        bool, typer.Option("--sim", help="Run on the simulated pad (a process of its own).")
    ] = False,
    profile: Annotated[str, typer.Option("--profile", help="test-flight or full.")] = "test-flight",
    rate: Annotated[float, typer.Option("--rate", help="Clock rate (1 = real time).")] = 100.0,
    auto: Annotated[
        bool, typer.Option("--auto", help="Answer the built-in holds' GO/NO-GO polls GO.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the planned timeline; touch no PLC.")
    ] = False,
    inject: Annotated[
        list[str] | None,
        typer.Option(
            "--inject", help="'T-00:00:20 LOX-PT-101 bias +2.5': a simulator fault at a T-time."
        ),
    ] = None,
    mqtt: MqttOption = None,
    recycle_to: Annotated[
        str | None,
        typer.Option(
            "--recycle",
            help="After a cutoff, clear the injected faults and recycle to this point once.",
        ),
    ] = None,
    sequence_file: Annotated[Path | None, typer.Option("--sequence")] = None,
    lcc_file: Annotated[Path | None, typer.Option("--lcc")] = None,
    journal: Annotated[Path | None, typer.Option("--journal")] = None,
    history: HistoryOption = None,
    no_history: NoHistoryOption = False,
    pad: PadOption = None,
    log_level: LogLevelOption = "warning",
    log_file: LogFileOption = None,
) -> None:
    """Run the countdown (on simulators), or print its planned timeline."""
    check_rate_or_exit(rate, "countdown")
    setup_logging(log_level, log_file)
    definition = load_definition_or_exit(pad)
    sequence_path = sequence_file or sequences_dir() / COUNTDOWN_FILE
    lcc_path = lcc_file or sequences_dir() / LCC_FILE
    try:
        sequence = load_sequence(
            sequence_path, profile=profile, definition=definition, specs=ALL_SPECS
        )
        criteria = load_lcc(lcc_path, definition)
    except (SequenceError, LccError) as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(2) from None
    injections = _parse_injections(inject or [], definition)
    sparkplug = sparkplug_settings_or_exit(mqtt, "countdown")
    known_points = [point.id for point in sequence.recycle_points]
    if recycle_to is not None and recycle_to not in known_points:
        typer.echo(
            f"padctl countdown: --recycle {recycle_to!r}: no such recycle point "
            f"(known: {', '.join(known_points) or 'none'})",
            err=True,
        )
        raise typer.Exit(2)
    if dry_run:
        typer.echo(
            f"{sequence.name} ({profile}): {len(sequence.events)} events, "
            f"{len(criteria)} launch commit criteria"
        )
        for line in describe_plan(sequence):
            typer.echo(line)
        return
    if not sim:
        typer.echo(
            "padctl countdown: only --sim runs exist yet (the console serves real pads)", err=True
        )
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory(prefix="padctl-count-") as scratch:
        result = _run_or_stopped(
            _count(
                definition,
                sequence,
                criteria,
                rate=rate,
                auto=auto,
                injections=injections,
                recycle_to=recycle_to,
                journal_path=journal or Path(scratch) / "journal.sqlite",
                sparkplug=sparkplug,
                history_file=history_path(history, off=no_history, simulated=True),
            )
        )
    typer.echo(result)
    raise typer.Exit(0 if result == "LIFTOFF" else 1)


def _run_or_stopped(main: Any) -> str:
    """Run the count; a signal (Ctrl-C, SIGTERM) ends it with the pad safed, not a traceback."""
    try:
        return str(run(main))
    except (KeyboardInterrupt, asyncio.CancelledError):
        return "STOPPED: interrupted (journaled as station_crashed; pad safed where it could be)"


def _parse_injections(specs: list[str], definition: PadDefinition) -> list[tuple[float, str]]:
    """Each 'T-TIME FAULT WORDS', checked against the pad before the count starts: an unknown
    verb, PLC, actuator or tag is refused here, never when it would fire."""
    from simulators.training_faults import PadFaultWords

    fault_words = PadFaultWords(definition)
    injections = []
    for spec in specs:
        try:
            words = shlex.split(spec)
        except ValueError as error:
            typer.echo(f"padctl countdown: --inject {spec!r}: {error}", err=True)
            raise typer.Exit(2) from None
        if len(words) < 2:
            typer.echo(f"padctl countdown: --inject {spec!r}: expected 'T-TIME FAULT...'", err=True)
            raise typer.Exit(2)
        try:
            t_s = parse_t_time(words[0])
            command = fault_words.check(shlex.join(words[1:]))
        except ValueError as error:
            typer.echo(f"padctl countdown: --inject {spec!r}: {error}", err=True)
            raise typer.Exit(2) from None
        injections.append((t_s, command))
    return sorted(injections)


async def _count(
    definition: PadDefinition,
    sequence: CountdownSequence,
    criteria: Any,
    *,
    rate: float,
    auto: bool,
    injections: list[tuple[float, str]],
    recycle_to: str | None,
    journal_path: Path,
    sparkplug: SparkplugSettings | None = None,
    history_file: Path | None = None,
) -> str:
    from padctl.cli._simulated import simulated_pad
    from padctl.station import Station, StationError

    async with simulated_pad(definition, rate=rate) as simulated:
        clock = simulated.clock
        station = Station(
            definition=simulated.definition,
            clock=clock,
            journal_path=journal_path,
            sequence=sequence,
            lcc=criteria,
        )
        station.add_event_listener(_print_event)
        try:
            await station.start()
        except StationError as error:
            return f"NOT STARTED: {error}"
        try:
            async with published(station, sparkplug), recorded(station, history_file):
                return await _drive(
                    station, simulated, auto=auto, injections=injections, recycle_to=recycle_to
                )
        except (Exception, asyncio.CancelledError) as error:
            safe = await station.crash(error)
            shown = "safe" if safe else "NOT proven safe"
            typer.echo(f"padctl countdown: crashed: {error!r}; pad {shown}", err=True)
            if isinstance(error, asyncio.CancelledError):
                raise
            return f"CRASHED: {error!r}"
        finally:
            await _settle(station)
            pace = station.plant.pace if station.running else None
            await station.stop()
            if pace is not None:
                typer.echo(
                    f"rate: requested {pace.requested_rate:g}, lowest in effect "
                    f"{pace.lowest_rate:g}",
                    err=True,
                )


async def _drive(
    station: Any,
    simulated: Any,
    *,
    auto: bool,
    injections: list[tuple[float, str]],
    recycle_to: str | None,
) -> str:
    """Start the count and answer for the team (polls with --auto, the recycle) to its end."""
    clock = station.clock
    countdown = station.countdown
    try:
        await countdown.start(actor="test_conductor")
    except CountdownRefused as refused:
        return f"NOT STARTED: {refused}"
    pending = list(injections)
    recycled = False
    while not countdown.done:
        while pending and countdown.t_now() >= pending[0][0]:
            _t_s, command = pending.pop(0)
            applied = await simulated.inject(command)
            typer.echo(f"{format_t_time(countdown.t_now())}  INJECT     {applied}")
        if countdown.state is CountState.HOLDING:
            if not countdown.status.resumable:
                if recycle_to is None or recycled:
                    return f"CUTOFF: {countdown.status.hold_reason}"
                recycled = True
                await simulated.simulator.clear_faults()  # the fault found and fixed
                typer.echo(
                    f"{format_t_time(countdown.t_now())}  CLEARED    "
                    "injected faults (fixed); recycling"
                )
                try:
                    await countdown.recycle(actor="test_conductor", point=recycle_to)
                except CountdownRefused as refused:
                    return f"CUTOFF: {countdown.status.hold_reason}; {refused}"
                continue
            after_recycle = recycled and countdown.status.hold_reason.startswith("recycled to")
            if countdown.status.hold_id is None and not after_recycle:
                return f"HOLD: {countdown.status.hold_reason}"  # nobody here for it
            poll = countdown.status.poll
            if poll is not None and not poll.all_go and not auto:
                return f"HOLD: {countdown.status.hold_reason}: the poll needs --auto"
            if poll is not None and not poll.all_go:
                for position in poll.missing:
                    await countdown.answer_poll(
                        position=position, go=True, actor=f"auto-{position}"
                    )
            if after_recycle:
                try:
                    await countdown.resume(actor="test_conductor")
                except CountdownRefused as refused:
                    return f"HOLD: {countdown.status.hold_reason}; {refused}"
        await clock.wall_sleep(0.01)
    return str(countdown.status.result)


SETTLE_WALL_S = 20.0


async def _settle(station: Any) -> None:
    """Before padctl stops: let what the pad does by itself finish (an automatic rule's
    commands, say a fire's agent release after the count held), bounded in time."""
    if not station.running:
        return
    clock = station.clock
    deadline_s = clock.monotonic() + SETTLE_WALL_S
    quiet = 0
    while quiet < 5 and clock.monotonic() < deadline_s:
        busy = any(s.busy for s in station.subsystems.values())
        due = station.automatic is not None and bool(station.automatic.due())
        quiet = 0 if busy or due else quiet + 1
        await clock.wall_sleep(0.05)


def _print_event(event: CountEvent) -> None:
    typer.echo(str(event))
