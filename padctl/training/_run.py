"""A whole training run, composed: pad, trainer, console, team, then score, report, history.

The simulated pad comes from the caller (`PadFactory`: padctl never imports the
simulators; `padctl train` passes them in), so this module composes everything else.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from padctl.clock import ScaledClock
from padctl.console import UsersFile
from padctl.countdown import Criterion, format_t_time
from padctl.history import recorded
from padctl.station import Station
from padctl.training._autopilot import Autopilot, TeamMember
from padctl.training._checkpoints import CheckpointError, PadSimulator, StationCheckpoint
from padctl.training._console import TrainingConsole, open_console
from padctl.training._history import DEFAULT_HISTORY_FILE, record_run
from padctl.training._plan import EndWhen, TrainingPlan
from padctl.training._recorder import Recorder
from padctl.training._report import ReportInputs, draw_report
from padctl.training._scoring import RunScore, score_run
from padctl.training._trainer import Trainer

TEAM_FINISH_WALL_S = 5.0
PadFactory = Callable[
    [Path], AbstractAsyncContextManager[tuple[Station, PadSimulator, ScaledClock]]
]


@dataclass(frozen=True)
class TrainOptions:
    headless: bool = True
    autopilot: bool = False
    start_paused: bool = False
    trainee: str = "team"
    host: str = "127.0.0.1"
    port: int = 8080
    journal: Path | None = None
    report: Path | None = None
    history: Path | None = DEFAULT_HISTORY_FILE
    tag_history: Path | None = None  # every tag's changes kept here (SQLite) for the report
    skip: frozenset[int] = frozenset()  # expected responses the autopilot leaves out


@dataclass(frozen=True)
class TrainingOutcome:
    score: RunScore
    end_reason: str
    result: str
    report: Path | None
    run_id: int | None
    checkpoints: tuple[str, ...]
    count_state: str = ""  # the count's state when the run ended (result is set once it is done)


@dataclass
class TrainingSession:
    """A run in progress, as a program working it sees it (the autopilot, a test, a terminal)."""

    trainer: Trainer
    console: TrainingConsole

    @property
    def station(self) -> Station:
        return self.trainer.station

    async def send(self, user: str, command: str, args: dict[str, Any]) -> dict[str, Any]:
        return await self.console.send(user, command, args)


SessionTask = Callable[[TrainingSession], Awaitable[None]]


@dataclass(frozen=True)
class RunSetup:
    """What one run plays: the plan, its pad, its LCC (for the report), where it starts."""

    plan: TrainingPlan
    pad: PadFactory
    lcc: tuple[Criterion, ...]
    start: StationCheckpoint | None = None
    plot_tags: tuple[str, ...] = ()


async def run_training(
    setup: RunSetup,
    options: TrainOptions,
    *,
    team: tuple[TeamMember, ...],
    users: UsersFile | None = None,
    trainee: SessionTask | None = None,
    beside: Sequence[SessionTask] = (),
) -> TrainingOutcome:
    """One whole run. The team is the autopilot (options.autopilot), `trainee`, or people at
    the console; `beside` runs along (the instructor's terminal, printing the address)."""
    plan = setup.plan
    with tempfile.TemporaryDirectory(prefix="padctl-train-") as scratch:
        async with setup.pad(options.journal or Path(scratch) / "journal.sqlite") as (
            station,
            simulator,
            clock,
        ):
            trainer = Trainer(
                plan=plan,
                station=station,
                simulator=simulator,
                clock=clock,
                trainee=options.trainee,
            )
            recorder = Recorder(station=station, clock=clock, tags=setup.plot_tags)
            await trainer.start(start=setup.start, paused=True)
            async with (
                recorded(station, options.tag_history),
                open_console(
                    trainer,
                    users,
                    team=team,
                    serve=not options.headless,
                    host=options.host,
                    port=options.port,
                ) as console,
            ):
                session = TrainingSession(trainer, console)
                await recorder.start()
                team_work = None
                if trainee is not None:
                    team_work = trainee(session)
                elif options.autopilot:
                    pilot = Autopilot(
                        trainer=trainer, send=console.send, team=team, skip=options.skip
                    )
                    team_work = pilot.run()
                helpers = [asyncio.ensure_future(work(session)) for work in beside]
                team_task = None if team_work is None else asyncio.ensure_future(team_work)
                if not options.start_paused:
                    await trainer.controls.resume(actor="instructor")
                workers = [*helpers, *([team_task] if team_task else [])]
                try:
                    end_reason = await _until_ended(trainer, workers)
                finally:
                    # The team finishes the command in hand (the console answers within a
                    # second of wall time); cutting it short would orphan the command.
                    if team_task is not None:
                        await asyncio.wait([team_task], timeout=TEAM_FINISH_WALL_S)
                    for task in workers:
                        task.cancel()
                    await asyncio.gather(*workers, return_exceptions=True)
                    await recorder.stop()
                    await trainer.stop()
            entries = await station.journal.entries()
            score = score_run(plan, entries)
            result = station.countdown.status.result
            count_state = station.countdown.state.value
    report = None
    if options.report is not None:
        inputs = ReportInputs(
            plan,
            score,
            recorder.recording,
            entries,
            setup.lcc,
            result,
            end_reason,
            options.trainee,
            options.tag_history,
            setup.plot_tags,
        )
        report = await draw_report(options.report, inputs)
    run_id = None
    if options.history is not None:
        run_id = record_run(
            options.history,
            score,
            trainee=options.trainee,
            rate=plan.rate,
            result=result,
            end_reason=end_reason,
            report=report,
        )
    return TrainingOutcome(
        score, end_reason, result, report, run_id, tuple(trainer.checkpoints), count_state
    )


async def _until_ended(trainer: Trainer, workers: Sequence[asyncio.Future[Any]]) -> str:
    """Wait for the run's end; a program working the run that fails ends it, and its error
    is raised (a trainee program's or the autopilot's failure must never pass unseen)."""
    ended = asyncio.ensure_future(trainer.wait())
    pending: set[asyncio.Future[Any]] = {ended, *workers}
    try:
        while not ended.done():
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = None if task is ended or task.cancelled() else task.exception()
                if error is not None:
                    if not trainer.ended.is_set():
                        await trainer.controls.end(actor="trainer", reason=f"failed: {error!r}")
                    raise error
        return ended.result()
    finally:
        ended.cancel()


async def nominal_checkpoints(
    pad: PadFactory,
    *,
    profile: str,
    rate: float,
    count_s: float,
    at_t_s: Sequence[float],
    team: tuple[TeamMember, ...],
) -> dict[float, StationCheckpoint]:
    """Run the nominal count (the autopilot answers its polls) and checkpoint it at `at_t_s`."""
    wanted = sorted(set(at_t_s))
    labels = {t_s: format_t_time(t_s) for t_s in wanted}
    plan = TrainingPlan(
        name="nominal",
        title="Nominal count, for checkpoints",
        profile=profile,
        rate=rate,
        faults=(),
        expect=(),
        end_when=EndWhen.COUNT,
        grace_s=0.0,
        time_limit_s=count_s,
    )
    with tempfile.TemporaryDirectory(prefix="padctl-checkpoints-") as scratch:
        async with pad(Path(scratch) / "journal.sqlite") as (station, simulator, clock):
            trainer = Trainer(
                plan=plan,
                station=station,
                simulator=simulator,
                clock=clock,
                capture_at=tuple(wanted),
            )
            await trainer.start()
            async with open_console(trainer, None, team=team) as console:
                pilot = asyncio.ensure_future(
                    Autopilot(trainer=trainer, send=console.send, team=team).run()
                )
                try:
                    while not trainer.ended.is_set() and not set(labels.values()) <= set(
                        trainer.checkpoints
                    ):
                        await asyncio.wait([pilot], timeout=0.5)
                        if pilot.done():
                            pilot.result()  # the autopilot's failure, raised
                            break
                finally:
                    await trainer.stop()  # the run ends: the autopilot finishes its command
                    await asyncio.wait([pilot], timeout=TEAM_FINISH_WALL_S)
                    pilot.cancel()
                    await asyncio.gather(pilot, return_exceptions=True)
    missing = [label for label in labels.values() if label not in trainer.checkpoints]
    if missing:
        raise CheckpointError(
            f"the nominal count did not reach {', '.join(missing)}: {trainer.end_reason}"
        )
    return {t_s: trainer.checkpoints[label] for t_s, label in labels.items()}
