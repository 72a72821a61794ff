"""The instructor's controls of a training run (a mixin of `Trainer`, see `_trainer.py`).

Pause and resume (clock rate 0 and back), the clock rate (from 0 up to the run's starting
rate: padctl's communication timings were scaled once for it), an unscripted fault, a jump
to a checkpoint, and what the instructor sees of the run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from padctl.clock import ScaledClock
from padctl.countdown import CountdownRefused, format_t_time
from padctl.pace import Pace
from padctl.station import Station
from padctl.training._checkpoints import (
    PadSimulator,
    StationCheckpoint,
    capture_station,
    restore_station,
)
from padctl.training._plan import PlannedFault, TrainingPlan
from padctl.training._scoring import RunScore

INSTRUCTOR = "instructor"


class TrainingRefused(ValueError):
    """An instructor control that cannot be carried out now; nothing changed."""


@dataclass
class Active:
    """A fault in play: as applied, and until when (clock seconds; None: until repaired)."""

    fault: PlannedFault
    applied: str
    until_s: float | None


class InstructorControls:
    """Checkpoints and the instructor's controls, for `Trainer`."""

    plan: TrainingPlan
    station: Station

    @property
    def pace(self) -> Pace:
        """The rate governor: every rate change of a run goes through it."""
        return self.station.plant.pace

    simulator: PadSimulator
    clock: ScaledClock
    trainee: str
    max_rate: float
    checkpoints: dict[str, StationCheckpoint]
    ended: asyncio.Event
    end_reason: str
    started_clock_s: float
    _pending: list[PlannedFault]
    _active: dict[str, Active]
    _declared: dict[str, Active]
    _onsets: dict[str, float]
    _resume_rate: float
    _unscripted: int
    _end_at_s: float | None
    _lock: asyncio.Lock

    async def _journal(
        self, kind: str, payload: dict[str, Any], *, actor: str = INSTRUCTOR
    ) -> None:
        raise NotImplementedError

    def _t(self) -> float:
        raise NotImplementedError

    async def score(self) -> RunScore:
        raise NotImplementedError

    def _check_running(self) -> None:
        raise NotImplementedError

    async def _finish(self, reason: str, *, actor: str = INSTRUCTOR) -> None:
        raise NotImplementedError

    # ---- checkpoints and the instructor's controls --------------------------------------------
    async def capture(self, label: str) -> StationCheckpoint:
        checkpoint = await capture_station(self.station, self.simulator, label=label)
        self.checkpoints[label] = checkpoint
        await self._journal(
            "training_checkpoint", {"label": label, "t_s": round(checkpoint.count.t_s, 3)}
        )
        return checkpoint

    async def pause(self, *, actor: str) -> None:
        """The simulation stops: clock rate 0 (physics, PLC scans, polls, count, alarms)."""
        self._check_running()
        if self.pace.requested_rate > 0:
            self._resume_rate = self.pace.requested_rate
        self.pace.request(0.0)
        await self._journal("training_instructor", {"action": "pause"}, actor=actor)

    async def resume(self, *, actor: str) -> None:
        """The simulation runs again, at the rate it had."""
        self._check_running()
        self.pace.request(self._resume_rate)
        await self._journal(
            "training_instructor", {"action": "resume", "rate": self._resume_rate}, actor=actor
        )

    async def set_rate(self, rate: float, *, actor: str) -> None:
        """A new clock rate, from 0 (paused) up to the run's starting rate."""
        if not 0 <= rate <= self.max_rate:
            raise TrainingRefused(
                f"rate {rate:g}: allowed from 0 to {self.max_rate:g} (the run's starting rate; "
                "padctl's communication timings were scaled for it)"
            )
        self._check_running()
        if rate > 0:
            self._resume_rate = rate
        self.pace.request(rate)
        await self._journal("training_instructor", {"action": "rate", "rate": rate}, actor=actor)

    async def inject(self, text: str, *, actor: str) -> str:
        """An unscripted fault, now; the fault as applied."""
        self._check_running()
        async with self._lock:
            self._unscripted += 1
            fault = PlannedFault(id=f"unscripted-{self._unscripted}", text=text)
            try:
                applied = await self.simulator.inject(text)
            except ValueError as error:
                self._unscripted -= 1
                raise TrainingRefused(str(error)) from None
            self._active[fault.id] = Active(fault, applied, None)
            self._onsets[fault.id] = self.clock.now()
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
        self._check_running()
        checkpoint = self.checkpoints.get(label)
        if checkpoint is None:
            known = ", ".join(self.checkpoints) or "none yet"
            raise TrainingRefused(f"no checkpoint {label!r} (taken: {known})")
        async with self._lock:
            if self.pace.requested_rate > 0:
                self._resume_rate = self.pace.requested_rate
            try:
                differences = await restore_station(
                    self.station,
                    self.simulator,
                    checkpoint,
                    actor=actor,
                )
            except CountdownRefused as refused:
                self.pace.request(self._resume_rate)
                raise TrainingRefused(refused.reason) from None
            carried = self._rearm(checkpoint)
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

    def _rearm(self, checkpoint: StationCheckpoint) -> dict[str, Active]:
        """After a jump: the faults due after the checkpoint fire again; those already in play
        at the checkpoint stay in play (their time left as it was then), as from now. Returns
        the faults in play."""
        taken_s, now_s = checkpoint.taken_clock_s, self.clock.now()
        fired_before = {f for f, onset_s in self._onsets.items() if onset_s <= taken_s}
        self._pending = [
            fault
            for fault in self.plan.faults
            if fault.id not in fired_before
            and (fault.at_t_s is None or fault.at_t_s > checkpoint.count.t_s)
        ]

        def carried(faults: dict[str, Active]) -> dict[str, Active]:
            return {
                fault_id: Active(
                    active.fault,
                    active.applied,
                    None if active.until_s is None else now_s + max(0.0, active.until_s - taken_s),
                )
                for fault_id, active in faults.items()
                if fault_id in fired_before
            }

        self._active = carried(self._active)
        self._declared = carried(self._declared)
        self._onsets = dict.fromkeys([*self._active, *self._declared], now_s)
        self._end_at_s = None
        return {**self._active, **self._declared}

    async def end(self, *, actor: str, reason: str = "ended by the instructor") -> None:
        self._check_running()
        await self._finish(reason, actor=actor)

    # ---- what the instructor sees ---------------------------------------------------------------
    async def status(self) -> dict[str, Any]:
        countdown = self.station.countdown
        score = await self.score()
        return {
            "scenario": self.plan.name,
            "title": self.plan.title,
            "trainee": self.trainee,
            "ended": self.ended.is_set(),
            "end_reason": self.end_reason,
            "paused": self.pace.requested_rate == 0,
            "rate": self.clock.rate,
            "requested_rate": self.pace.requested_rate,
            "rate_limited_by": self.pace.reason,
            "max_rate": self.max_rate,
            "run_s": round(self.clock.now() - self.started_clock_s, 1),
            "t_text": format_t_time(countdown.t_now()),
            "count_state": countdown.state.name,
            "checkpoints": [cp.describe() for cp in self.checkpoints.values()],
            "faults": [self._fault_status(fault) for fault in self.plan.faults]
            + [
                {"id": fault_id, "what": a.applied, "state": "active"}
                for fault_id, a in self._active.items()
                if fault_id.startswith("unscripted-")
            ],
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

    def _fault_status(self, fault: PlannedFault) -> dict[str, Any]:
        if fault in self._pending:
            state = "armed"
        elif fault.id in self._active or fault.id in self._declared:
            state = "active"
        else:
            state = "cleared" if fault.id in self._onsets else "not fired"
        onset_s = self._onsets.get(fault.id)
        return {
            "id": fault.id,
            "what": fault.label,
            "when": fault.trigger_text,
            "state": state,
            "onset_run_s": None if onset_s is None else round(onset_s - self.started_clock_s, 1),
        }
