"""The instructor's controls of a training run: pause and resume (clock rate 0 and back), the
clock rate (from 0 up to the run's starting rate: padctl's communication timings were scaled
once for it), an unscripted fault, a jump to a checkpoint, the end, and what the instructor
sees of the run.

`InstructorControls` is a part of the trainer (`Trainer.controls`), given explicitly what it
works on: the station and simulated pad, the run's status and faults in play
(`_run_state.py`), the checkpoints taken, and the trainer's journal, score and finish. It is
what the console's `train.*` commands drive and what `sim.inject` calls on a training server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from padctl.clock import ScaledClock
from padctl.countdown import CountdownRefused, format_t_time
from padctl.pace import Pace
from padctl.station import Station
from padctl.training._checkpoints import PadSimulator, StationCheckpoint, restore_station
from padctl.training._plan import TrainingPlan
from padctl.training._run_state import (
    INSTRUCTOR,
    Active,
    FaultsInPlay,
    RunStatus,
    TrainingRefused,
)
from padctl.training._scoring import RunScore


class RunJournal(Protocol):
    """The trainer's journal: one `training_*` row, by `actor`."""

    async def __call__(
        self, kind: str, payload: dict[str, Any], *, actor: str = INSTRUCTOR
    ) -> None: ...


class InstructorControls:
    """The instructor's controls of one run; a refusal is TrainingRefused, nothing changed."""

    def __init__(
        self,
        *,
        plan: TrainingPlan,
        station: Station,
        simulator: PadSimulator,
        clock: ScaledClock,
        run: RunStatus,
        faults: FaultsInPlay,
        checkpoints: dict[str, StationCheckpoint],
        lock: asyncio.Lock,
        journal: RunJournal,
        score: Callable[[], Awaitable[RunScore]],
        finish: Callable[[str, str], Awaitable[None]],
    ) -> None:
        """`lock` is the trainer's (a control never runs in the middle of its tick); `finish`
        ends the run with a reason, by an actor."""
        self.plan = plan
        self.station = station
        self.simulator = simulator
        self.clock = clock
        self.run = run
        self.faults = faults
        self.checkpoints = checkpoints
        self._lock = lock
        self._journal = journal
        self._score = score
        self._finish = finish

    @property
    def pace(self) -> Pace:
        """The rate governor: every rate change of a run goes through it."""
        return self.station.plant.pace

    def _t(self) -> float:
        return round(self.station.countdown.t_now(), 3)

    # ---- the controls ---------------------------------------------------------------------------
    async def pause(self, *, actor: str) -> None:
        """The simulation stops: clock rate 0 (physics, PLC scans, polls, count, alarms)."""
        self.run.check_running()
        if self.pace.requested_rate > 0:
            self.run.resume_rate = self.pace.requested_rate
        self.pace.request(0.0)
        await self._journal("training_instructor", {"action": "pause"}, actor=actor)

    async def resume(self, *, actor: str) -> None:
        """The simulation runs again, at the rate it had."""
        self.run.check_running()
        self.pace.request(self.run.resume_rate)
        await self._journal(
            "training_instructor", {"action": "resume", "rate": self.run.resume_rate}, actor=actor
        )

    async def set_rate(self, rate: float, *, actor: str) -> None:
        """A new clock rate, from 0 (paused) up to the run's starting rate."""
        if not 0 <= rate <= self.run.max_rate:
            raise TrainingRefused(
                f"rate {rate:g}: allowed from 0 to {self.run.max_rate:g} (the run's starting rate; "
                "padctl's communication timings were scaled for it)"
            )
        self.run.check_running()
        if rate > 0:
            self.run.resume_rate = rate
        self.pace.request(rate)
        await self._journal("training_instructor", {"action": "rate", "rate": rate}, actor=actor)

    async def inject(self, text: str, *, actor: str) -> str:
        """An unscripted fault, now; the fault as applied."""
        self.run.check_running()
        async with self._lock:
            fault = self.faults.unscripted(text)
            try:
                applied = await self.simulator.inject(text)
            except ValueError as error:
                self.faults.not_injected()
                raise TrainingRefused(str(error)) from None
            self.faults.active[fault.id] = Active(fault, applied, None)
            self.faults.onsets[fault.id] = self.clock.now()
            await self._journal(
                "training_fault",
                {"id": fault.id, "fault": applied, "trigger": "instructor", "t_s": self._t()},
                actor=actor,
            )
        return applied

    async def __call__(self, text: str) -> str:
        """Fault injection as `sim.inject` asks for it (admin, on a training server)."""
        try:
            return await self.inject(text, actor="console")
        except TrainingRefused as refused:
            raise ValueError(str(refused)) from None

    async def jump(self, label: str, *, actor: str) -> list[str]:
        """Back to a checkpoint; the run is paused there. The subsystems recognised otherwise."""
        self.run.check_running()
        checkpoint = self.checkpoints.get(label)
        if checkpoint is None:
            known = ", ".join(self.checkpoints) or "none yet"
            raise TrainingRefused(f"no checkpoint {label!r} (taken: {known})")
        async with self._lock:
            if self.pace.requested_rate > 0:
                self.run.resume_rate = self.pace.requested_rate
            try:
                differences = await restore_station(
                    self.station,
                    self.simulator,
                    checkpoint,
                    actor=actor,
                )
            except CountdownRefused as refused:
                self.pace.request(self.run.resume_rate)
                raise TrainingRefused(refused.reason) from None
            carried = self.faults.rearm(checkpoint, self.clock.now())
            self.run.end_at_s = None
            await self._journal(
                "training_jump",
                {"label": label, "t_s": round(checkpoint.count.t_s, 3), "differences": differences},
                actor=actor,
            )
            for fault_id, active in carried.items():
                await self._journal(
                    "training_fault",
                    {
                        "id": fault_id,
                        "fault": active.applied,
                        "trigger": f"in play at checkpoint {label}",
                        "t_s": self._t(),
                    },
                    actor=actor,
                )
        return differences

    async def end(self, *, actor: str, reason: str = "ended by the instructor") -> None:
        self.run.check_running()
        await self._finish(reason, actor)

    # ---- what the instructor sees ---------------------------------------------------------------
    async def status(self) -> dict[str, Any]:
        countdown = self.station.countdown
        score = await self._score()
        run = self.run
        return {
            "scenario": self.plan.name,
            "title": self.plan.title,
            "trainee": run.trainee,
            "ended": run.ended.is_set(),
            "end_reason": run.end_reason,
            "paused": self.pace.requested_rate == 0,
            "rate": self.clock.rate,
            "requested_rate": self.pace.requested_rate,
            "rate_limited_by": self.pace.reason,
            "max_rate": self.run.max_rate,
            "run_s": round(self.clock.now() - run.started_clock_s, 1),
            "t_text": format_t_time(countdown.t_now()),
            "count_state": countdown.state.name,
            "checkpoints": [cp.describe() for cp in self.checkpoints.values()],
            "faults": self.faults.described(run.started_clock_s),
            "simulator_faults": await self.simulator.active_faults(),
            "responses": [
                {
                    "response": s.response.label,
                    "after": s.response.after,
                    "within_s": s.response.within_s,
                    "status": s.status.value,
                    "took_s": None if s.took_s is None else round(s.took_s, 1),
                    "by": s.by,
                }
                for s in score.responses
            ],
        }
