"""`padctl train`: simulator-only training runs, their checkpoints and their history.

    padctl train SCENARIO [--headless] [--autopilot] [--report DIR] [--trainee NAME]
    padctl train history [--trainee NAME] [--scenario NAME]
    padctl train checkpoint SCENARIO ... [--at T-00:12:00 ...]

A run starts the simulated pad, the station and (unless --headless) the console server,
puts the pad at the scenario's start checkpoint, and plays the scenario's faults while the
team works at the console. The instructor drives the run from the console (role
`instructor`, commands `train.*`) or from this terminal (type `help`). Then the run is
scored from its journal, kept in the history file, and reported (--report DIR).
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from padctl.cli._app import LogFileOption, LogLevelOption, app, setup_logging
from padctl.cli._runtime import run
from padctl.cli._serve import DEMO_USERS, _demo_users, is_loopback
from padctl.cli._simulated import simulated_pad
from padctl.clock import ScaledClock
from padctl.console import Role, UsersError, UsersFile, default_positions
from padctl.countdown import format_t_time, parse_t_time
from padctl.station import Station
from padctl.training import (
    DEFAULT_HISTORY_FILE,
    CheckpointError,
    PadFactory,
    PadSimulator,
    RunSetup,
    Scenario,
    StationCheckpoint,
    TeamMember,
    TrainingConsole,
    TrainingOutcome,
    TrainingSession,
    TrainOptions,
    file_digest,
    load_checkpoint,
    nominal_checkpoints,
    run_training,
    runs,
    save_checkpoint,
    stale_sources,
)

CHECKPOINT_RATE = 200.0  # the highest rate a whole count keeps its margins at (see tests)
TEAM = tuple(
    TeamMember(name, role.value, default_positions(role, subsystems), subsystems)
    for name, role, subsystems in DEMO_USERS
    if role in (Role.TEST_CONDUCTOR, Role.SAFETY_OFFICER, Role.SUBSYSTEM_OPERATOR)
)


def pad_factory(scenario: Scenario, *, rate: float, scan_wall_s: float | None = None) -> PadFactory:
    """The scenario's simulated pad (a process of its own, physics that can be held still)
    and a station on it."""

    @asynccontextmanager
    async def pad(journal_path: Path) -> AsyncIterator[tuple[Station, PadSimulator, ScaledClock]]:
        async with (
            simulated_pad(scenario.definition, rate=rate, scan_wall_s=scan_wall_s) as simulated,
            Station(
                definition=simulated.definition,
                clock=simulated.clock,
                journal_path=journal_path,
                sequence=scenario.sequence,
                lcc=scenario.lcc,
            ) as station,
        ):
            yield station, simulated.simulator, simulated.clock

    return pad


async def train(
    scenario: Scenario,
    options: TrainOptions,
    *,
    checkpoints: Path | None = None,
    users: UsersFile | None = None,
    trainee: Any = None,
    beside: tuple[Any, ...] = (),
    scan_wall_s: float | None = None,
) -> TrainingOutcome:
    """Run `scenario` (a padctl.training.Scenario) from its start checkpoint."""
    setup = RunSetup(
        plan=scenario.plan,
        pad=pad_factory(scenario, rate=scenario.plan.rate, scan_wall_s=scan_wall_s),
        lcc=scenario.lcc,
        start=await start_checkpoint(scenario, checkpoints),
        plot_tags=_plot_tags(scenario),
    )
    return await run_training(
        setup, options, team=TEAM, users=users, trainee=trainee, beside=beside
    )


def _plot_tags(scenario: Scenario) -> tuple[str, ...]:
    """The scenario's `plot` tags, or the tags of what its faults hit."""
    if scenario.plan.plot_tags:
        return tuple(scenario.plan.plot_tags)
    tags: list[str] = []
    for fault in scenario.plan.faults:
        words = fault.text.split()
        if len(words) >= 2:
            tags += [t.name for t in scenario.definition.tags if t.name.startswith(words[1])]
    return tuple(dict.fromkeys(tags))[:6]


def _users(folder: Path, path: Path | None) -> UsersFile:
    """The console's users: --users, or demo users (and an instructor) printed for this run."""
    if path is not None:
        try:
            return UsersFile.load(path)
        except UsersError as error:
            typer.echo(f"padctl train: {error}", err=True)
            raise typer.Exit(2) from None
    users, printed = _demo_users(folder)
    password = secrets.token_urlsafe(9)
    users.add("instructor", role=Role.INSTRUCTOR, password=password)
    users.save()
    typer.echo("console users (this run only):")
    for name, role, secret in [*printed, ("instructor", Role.INSTRUCTOR.value, password)]:
        typer.echo(f"  {name:<12} {role:<19} password {secret}")
    return users


# ---- checkpoints ---------------------------------------------------------------------------
async def start_checkpoint(scenario: Scenario, folder: Path | None) -> StationCheckpoint | None:
    """The checkpoint the scenario starts from (made now, by a nominal count, if missing)."""
    from padctl.cli._scenarios import CHECKPOINTS_DIR, checkpoint_path

    if scenario.plan.start_t_s is None:
        return None
    path = checkpoint_path(folder or CHECKPOINTS_DIR, scenario.sequence, scenario.plan.start_t_s)
    if not path.exists():
        typer.echo(f"padctl train: no checkpoint {path}: running the nominal count to make it")
        await make_checkpoints(scenario, [scenario.plan.start_t_s], folder or CHECKPOINTS_DIR)
    checkpoint = load_checkpoint(path)
    changed = stale_sources(checkpoint, scenario.source_files())
    if changed:
        typer.echo(
            f"padctl train: warning: {path} was made before {', '.join(changed)} changed; "
            f"remake it with: padctl train checkpoint {scenario.path}",
            err=True,
        )
    return checkpoint


async def make_checkpoints(
    scenario: Scenario, at_t_s: list[float], folder: Path, *, rate: float = CHECKPOINT_RATE
) -> list[Path]:
    """Run the nominal count of the scenario's pad and profile; keep checkpoints at `at_t_s`."""
    from padctl.cli._scenarios import checkpoint_path

    taken = await nominal_checkpoints(
        pad_factory(scenario, rate=rate),
        profile=scenario.sequence.profile,
        rate=rate,
        count_s=-scenario.sequence.start_t_s + 4 * 3600.0,
        at_t_s=at_t_s,
        team=TEAM,
    )
    sources = {name: file_digest(path) for name, path in scenario.source_files().items()}
    written = []
    for t_s, checkpoint in taken.items():
        path = checkpoint_path(folder, scenario.sequence, t_s)
        save_checkpoint(dataclasses.replace(checkpoint, sources=sources), path)
        written.append(path)
    return written


async def _interactive(
    scenario: Scenario, options: TrainOptions, *, checkpoints: Path | None, users: Path | None
) -> TrainingOutcome:
    if options.headless:
        return await train(scenario, options, checkpoints=checkpoints)
    with tempfile.TemporaryDirectory(prefix="padctl-train-users-") as scratch:
        return await train(
            scenario,
            options,
            checkpoints=checkpoints,
            users=_users(Path(scratch), users),
            beside=(_instructor_terminal,),
        )


async def _instructor_terminal(session: TrainingSession) -> None:
    """The console's address, then the instructor's commands, one per line of standard input."""
    from padctl.cli._sim import _read_stdin_lines

    console: TrainingConsole = session.console
    typer.echo(f"padctl console: {console.url}")
    if session.trainer.clock.rate == 0:
        typer.echo("the run is paused: type 'resume' to start it (or 'help')")
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    _read_stdin_lines(asyncio.get_running_loop(), lines)
    while True:
        line = await lines.get()
        if line is None:
            return
        if line.strip():
            typer.echo(await console.instruct(line.strip()))


# ---- the command line ------------------------------------------------------------------------
@app.command("train")
def train_command(
    words: Annotated[
        list[str],
        typer.Argument(
            help="SCENARIO file; or 'history'; or 'checkpoint' [SCENARIO ...].",
            metavar="SCENARIO | history | checkpoint SCENARIO...",
            show_default=False,
        ),
    ],
    headless: Annotated[
        bool, typer.Option("--headless", help="No console server: the run plays by itself.")
    ] = False,
    autopilot: Annotated[
        bool, typer.Option("--autopilot", help="Play the expected responses (acceptance test).")
    ] = False,
    paused: Annotated[
        bool | None,
        typer.Option(
            "--paused/--running", help="Start paused (default: with a console, no autopilot)."
        ),
    ] = None,
    trainee: Annotated[
        str | None,
        typer.Option("--trainee", help="Who is trained (default: team); history: whose runs."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the after-action report here.")
    ] = None,
    history: Annotated[
        Path, typer.Option("--history", help="The runs kept over time (SQLite).")
    ] = DEFAULT_HISTORY_FILE,
    scenario_name: Annotated[
        str | None, typer.Option("--scenario", help="history: only this scenario.")
    ] = None,
    at: Annotated[
        list[str] | None, typer.Option("--at", help="checkpoint: a T-time to checkpoint at.")
    ] = None,
    checkpoints: Annotated[
        Path | None, typer.Option("--checkpoints", help="Checkpoint folder (default: shipped).")
    ] = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Console port (0: any free one).")] = 8080,
    users: Annotated[Path | None, typer.Option("--users", help="Console users file.")] = None,
    journal: Annotated[
        Path | None, typer.Option("--journal", help="Keep the journal here.")
    ] = None,
    tag_history: Annotated[
        Path | None,
        typer.Option(
            "--tag-history", help="Keep every tag's changes here (SQLite); the report shows them."
        ),
    ] = None,
    log_level: LogLevelOption = "warning",
    log_file: LogFileOption = None,
) -> None:
    """Training runs on the simulated pad: run a scenario, list past runs, make checkpoints."""
    setup_logging(log_level, log_file)
    first, rest = words[0], words[1:]
    if first == "history":
        _print_history(history, trainee=trainee, scenario=scenario_name)
        return
    if first == "checkpoint":
        _checkpoint_command(rest, at or [], checkpoints)
        return
    if rest:
        typer.echo(f"padctl train: one scenario at a time (got {len(words)} words)", err=True)
        raise typer.Exit(2)
    if not headless and not is_loopback(host) and users is None:
        typer.echo(f"padctl train: listening on {host} needs --users FILE", err=True)
        raise typer.Exit(2)
    scenario = _load_or_exit(Path(first))
    options = TrainOptions(
        headless=headless,
        autopilot=autopilot,
        start_paused=(not headless and not autopilot) if paused is None else paused,
        trainee=trainee or ("autopilot" if autopilot else "team"),
        host=host,
        port=port,
        journal=journal,
        report=report,
        history=history,
        tag_history=tag_history,
    )
    try:
        outcome = run(_interactive(scenario, options, checkpoints=checkpoints, users=users))
    except (CheckpointError, OSError) as error:
        typer.echo(f"padctl train: {error}", err=True)
        raise typer.Exit(2) from None
    _print_outcome(outcome)
    raise typer.Exit(0 if outcome.score.all_done else 1)


def _load_or_exit(path: Path) -> Any:
    from padctl.cli._scenarios import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(2) from None


def _print_outcome(outcome: TrainingOutcome) -> None:
    score = outcome.score
    typer.echo(f"run ended: {outcome.end_reason}; count: {outcome.result or 'not ended'}")
    for s in score.responses:
        took = "" if s.took_s is None else f" in {s.took_s:.0f} s"
        by = f" by {s.by}" if s.by else ""
        within = f"(within {s.response.within_s:g} s)"
        typer.echo(f"  {s.status.value:<11} {s.response.label} {within}{took}{by}")
    for title, notes in (
        ("extra", score.extra),
        ("wrong authority", score.wrong_authority),
        ("refused", score.refused),
        ("alarm ignored", score.ignored_alarms),
    ):
        for note in notes:
            typer.echo(f"  {title}: +{note.at_s:.0f} s {note.actor} {note.text}".rstrip())
    typer.echo(f"score: {score.done} of {len(score.responses)} done in time")
    if outcome.report is not None:
        typer.echo(f"report: {outcome.report}")


def _print_history(path: Path, *, trainee: str | None, scenario: str | None) -> None:
    records = runs(path, trainee=trainee, scenario=scenario)
    if not records:
        typer.echo(f"no runs in {path}")
        return
    typer.echo(
        f"{'id':>4} {'finished':<25} {'trainee':<12} {'scenario':<28} score  extra auth alarms"
    )
    for r in records:
        typer.echo(
            f"{r.id:>4} {r.finished_at:<25} {r.trainee:<12} {r.scenario:<28} "
            f"{r.done}/{r.expected:<4} {r.extra:>5} {r.wrong_authority:>4} {r.ignored_alarms:>6}"
            + (f"  missed: {'; '.join(r.missed)}" if r.missed else "")
        )


def _checkpoint_command(paths: list[str], at: list[str], folder: Path | None) -> None:
    from padctl.cli._scenarios import CHECKPOINTS_DIR

    scenarios = [_load_or_exit(Path(p)) for p in paths]
    try:
        extra_t_s = [parse_t_time(text) for text in at]
    except ValueError as error:
        typer.echo(f"padctl train checkpoint: --at: {error}", err=True)
        raise typer.Exit(2) from None
    if not scenarios:
        typer.echo(
            "padctl train checkpoint: name at least one scenario (its pad, count, profile)",
            err=True,
        )
        raise typer.Exit(2)
    groups: dict[tuple[str, str], tuple[Any, list[float]]] = {}
    for scenario in scenarios:
        key = (str(scenario.sequence_path), scenario.sequence.profile)
        wanted = groups.setdefault(key, (scenario, []))[1]
        if scenario.plan.start_t_s is not None:
            wanted.append(scenario.plan.start_t_s)
    for index, (scenario, wanted) in enumerate(groups.values()):
        times = wanted + (extra_t_s if index == 0 else [])
        if not times:
            continue
        labels = ", ".join(format_t_time(t) for t in sorted(set(times)))
        typer.echo(f"nominal count ({scenario.sequence.profile}) to checkpoint at {labels} ...")
        written = run(make_checkpoints(scenario, times, folder or CHECKPOINTS_DIR))
        for path in written:
            typer.echo(f"  {path}")
