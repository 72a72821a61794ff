"""The trainer: plays a scenario's faults on the simulated pad and gives the instructor control.

Faults fire at their T-time or when their condition first holds, and go away after their
time or when the team recycles or resumes (the pad crew's repair). A declared hold (weather,
range) holds the count in the instructor's name and holds it again if the team resumes
while it lasts. At every built-in hold the whole run is checkpointed, for the instructor to
jump back to. Every fact is journaled (`training_*` rows) so that the run can be scored
from the journal alone. The instructor's controls are a part of it (`controls`,
`_controls.py`), sharing the run's status and faults in play (`_run_state.py`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import structlog

from padctl.clock import ScaledClock, wait_event
from padctl.countdown import CountdownRefused, CountEvent, CountState, format_t_time
from padctl.pace import Pace
from padctl.station import Station
from padctl.tasks import cancel_and_wait
from padctl.training._checkpoints import (
    PadSimulator,
    StationCheckpoint,
    capture_station,
    restore_station,
)
from padctl.training._controls import InstructorControls
from padctl.training._plan import EndWhen, PlannedFault, TrainingPlan
from padctl.training._run_state import INSTRUCTOR, Active, FaultsInPlay, RunStatus
from padctl.training._scoring import SCORED_KINDS, RunScore, ScoredRows, score_rows

log = structlog.get_logger()

TICK_WALL_S = 0.01  # the trainer looks at the count this often (wall time)
SCORE_EVERY_WALL_S = 0.5  # and scores the run this often, to know when it is over
S = CountState


class Trainer:
    """One training run: the plan, played on a station over a simulated pad."""

    def __init__(
        self,
        *,
        plan: TrainingPlan,
        station: Station,
        simulator: PadSimulator,
        clock: ScaledClock,
        trainee: str = "team",
        capture_at: tuple[float, ...] = (),
    ) -> None:
        self.plan = plan
        self.station = station
        self.simulator = simulator
        self.clock = clock
        self.run = RunStatus(trainee=trainee, max_rate=plan.rate, resume_rate=plan.rate)
        self.faults = FaultsInPlay(plan)
        self.checkpoints: dict[str, StationCheckpoint] = {}
        self.last_score: RunScore | None = None
        self._scored = ScoredRows()
        self._score_lock = asyncio.Lock()
        self._capture_at = sorted(capture_at)
        self._start_row = 1
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self.controls = InstructorControls(
            plan=plan,
            station=station,
            simulator=simulator,
            clock=clock,
            run=self.run,
            faults=self.faults,
            checkpoints=self.checkpoints,
            lock=self._lock,
            journal=self._journal,
            score=self.score,
            finish=lambda reason, actor: self._finish(reason, actor=actor),
        )
        station.add_event_listener(self._count_event)

    @property
    def pace(self) -> Pace:
        """The rate governor: every rate change of a run goes through it."""
        return self.station.plant.pace

    @property
    def ended(self) -> asyncio.Event:
        return self.run.ended

    @property
    def end_reason(self) -> str:
        return self.run.end_reason

    @property
    def started_clock_s(self) -> float:
        return self.run.started_clock_s

    # ---- life cycle -------------------------------------------------------------------------
    async def start(self, *, start: StationCheckpoint | None = None, paused: bool = False) -> None:
        """Put the pad at the start checkpoint (if any), journal the start, run."""
        if start is not None:
            start = dataclasses.replace(start, label="start")
            await restore_station(
                self.station,
                self.simulator,
                start,
                actor=INSTRUCTOR,
            )
            self.checkpoints["start"] = start
        self.run.started_clock_s = self.clock.now()
        plan = self.plan
        await self._journal(
            "training_started",
            {
                "scenario": plan.name,
                "title": plan.title,
                "trainee": self.run.trainee,
                "rate": plan.rate,
                "start": None if start is None else start.t_text,
                "faults": [
                    {"id": f.id, "what": f.label, "when": f.trigger_text} for f in plan.faults
                ],
                "expect": [r.label for r in plan.expect],
            },
        )
        self.pace.request(0.0 if paused else self.run.max_rate)
        self._task = asyncio.create_task(self._run(), name="trainer")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        for task in list(self._background):
            await cancel_and_wait(task)
        if not self.ended.is_set():
            await self._finish("stopped")
        if self.pace.requested_rate == 0:
            self.pace.request(self.run.resume_rate)  # let everything stop normally

    @property
    def onsets(self) -> dict[str, float]:
        """Fault id -> clock seconds of its onset (this attempt)."""
        return dict(self.faults.onsets)

    async def wait(self) -> str:
        await self.ended.wait()
        return self.end_reason

    # ---- the loop ---------------------------------------------------------------------------
    async def _run(self) -> None:
        last_score_wall_s = 0.0
        loop = asyncio.get_running_loop()
        while not self.ended.is_set():
            async with self._lock:
                await self._tick()
                if loop.time() - last_score_wall_s >= SCORE_EVERY_WALL_S:
                    last_score_wall_s = loop.time()
                    await self._check_end()
            self._wake.clear()
            rate = self.clock.rate
            await wait_event(self.clock, self._wake, TICK_WALL_S * (rate or 1.0))

    async def _tick(self) -> None:
        countdown = self.station.countdown
        now_s = self.clock.now()
        for fault in list(self.faults.pending):
            if self._due(fault):
                self.faults.pending.remove(fault)
                await self._fire(fault, actor=INSTRUCTOR)
        for fault_id, active in list(self.faults.active.items()):
            if active.until_s is not None and now_s >= active.until_s:
                await self._clear(fault_id, f"lasted {active.fault.lasts_s:g} s")
        for fault_id, declared in list(self.faults.declared.items()):
            if declared.until_s is not None and now_s >= declared.until_s:
                del self.faults.declared[fault_id]
                await self._journal(
                    "training_fault_cleared", {"id": fault_id, "why": "hold lifted"}
                )
            elif countdown.state is S.COUNTING:
                await self._journal(
                    "training_note",
                    {
                        "id": fault_id,
                        "note": "count resumed during the instructor's hold: held again",
                    },
                )
                await self._declare_hold(declared.fault)
        while self._capture_at and countdown.t_now() >= self._capture_at[0]:
            label = format_t_time(self._capture_at.pop(0))
            await self.capture(label)
        if self.run.end_at_s is not None and now_s >= self.run.end_at_s:
            await self._finish(self.run.end_why)
        elif now_s - self.started_clock_s >= self.plan.time_limit_s:
            await self._finish(f"time limit ({self.plan.time_limit_s:g} s)")

    def _due(self, fault: PlannedFault) -> bool:
        countdown = self.station.countdown
        if fault.when is not None:
            return fault.when.holds(self.station.plant.read(fault.when.tag))
        running = countdown.state in (S.COUNTING, S.TERMINAL_COUNT, S.HOLDING)
        return running and fault.at_t_s is not None and countdown.t_now() >= fault.at_t_s

    async def _check_end(self) -> None:
        if self.run.end_at_s is not None or self.ended.is_set():
            return
        countdown = self.station.countdown
        score = await self.score()
        if self.plan.end_when is EndWhen.COUNT and countdown.done:
            self._end_soon(f"count ended: {countdown.status.result}")
        elif self.plan.end_when is EndWhen.RESPONSES and score.all_decided:
            self._end_soon("every expected response scored")
        elif countdown.done and not self.faults.pending and score.all_decided:
            self._end_soon(f"count ended: {countdown.status.result}")

    def _end_soon(self, why: str) -> None:
        self.run.end_at_s = self.clock.now() + self.plan.grace_s
        self.run.end_why = why

    async def score(self) -> RunScore:
        """The run's score now (responses not yet due are PENDING)."""
        async with self._score_lock:  # one reader at a time: rows are kept once
            kept = self._scored
            since_id = max(kept.last_id, self._start_row - 1)
            kept.extend(await self.station.journal.entries(since_id=since_id, kinds=SCORED_KINDS))
            self.last_score = score_rows(self.plan, kept, now_clock_s=self.clock.now())
            return self.last_score

    async def capture(self, label: str) -> StationCheckpoint:
        """A checkpoint of the whole run now, for the instructor to jump back to."""
        checkpoint = await capture_station(self.station, self.simulator, label=label)
        self.checkpoints[label] = checkpoint
        await self._journal(
            "training_checkpoint", {"label": label, "t_s": round(checkpoint.count.t_s, 3)}
        )
        return checkpoint

    # ---- faults -----------------------------------------------------------------------------
    async def _fire(self, fault: PlannedFault, *, actor: str) -> None:
        if fault.hold_reason:
            await self._declare_hold(fault)
            until_s = None if fault.lasts_s is None else self.clock.now() + fault.lasts_s
            self.faults.declared[fault.id] = Active(fault, fault.hold_reason, until_s)
            applied = f"hold: {fault.hold_reason}"
        else:
            try:
                applied = await self.simulator.inject(fault.text)
            except ValueError as error:
                await self._journal(
                    "training_note", {"id": fault.id, "note": f"not played: {error}"}
                )
                return
            until_s = None if fault.lasts_s is None else self.clock.now() + fault.lasts_s
            self.faults.active[fault.id] = Active(fault, applied, until_s)
        self.faults.onsets[fault.id] = self.clock.now()
        await self._journal(
            "training_fault",
            {"id": fault.id, "fault": applied, "trigger": fault.trigger_text, "t_s": self._t()},
            actor=actor,
        )
        log.info("training_fault", id=fault.id, fault=applied)

    async def _declare_hold(self, fault: PlannedFault) -> None:
        countdown = self.station.countdown
        if countdown.state is S.COUNTING:
            try:
                await countdown.hold(actor=INSTRUCTOR, reason=fault.hold_reason)
            except CountdownRefused as refused:
                await self._journal("training_note", {"id": fault.id, "note": str(refused)})

    async def _clear(self, fault_id: str, why: str) -> None:
        active = self.faults.active.pop(fault_id)
        undo = self.simulator.undo_of(active.applied)
        if undo:
            await self.simulator.inject(undo)
        await self._journal("training_fault_cleared", {"id": fault_id, "undo": undo, "why": why})

    def _count_event(self, event: CountEvent) -> None:
        """Station listener: repairs on recycle or resume, checkpoints at built-in holds."""
        if event.kind in ("RECYCLE", "RESUME"):
            fixed = "recycle" if event.kind == "RECYCLE" else "resume"
            for fault_id, active in list(self.faults.active.items()):
                if active.fault.fixed_by == fixed:
                    self._later(self._clear(fault_id, f"repaired during the {fixed}"))
        hold_id = self.station.countdown.status.hold_id
        if event.kind == "HOLD" and hold_id is not None:
            self._later(self.capture(hold_id))
        self._wake.set()

    def _later(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _finish(self, reason: str, *, actor: str = INSTRUCTOR) -> None:
        if self.ended.is_set():
            return
        self.run.end_reason = reason
        await self._journal(
            "training_ended",
            {"reason": reason, "result": self.station.countdown.status.result},
            actor=actor,
        )
        self.ended.set()
        self._wake.set()

    # ---- journal ------------------------------------------------------------------------------
    def _t(self) -> float:
        return round(self.station.countdown.t_now(), 3)

    async def _journal(
        self, kind: str, payload: dict[str, Any], *, actor: str = INSTRUCTOR
    ) -> None:
        entry = await self.station.journal.append(kind, payload, actor=actor)
        if kind == "training_started":
            self._start_row = entry.id
