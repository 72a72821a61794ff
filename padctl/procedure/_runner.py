"""Run a procedure against the plant: permissives, journaled writes, verified feedback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog

from padctl.clock import Clock
from padctl.plant import Plant, PlantError
from padctl.procedure._conditions import Condition
from padctl.procedure._model import Procedure, Step

log = structlog.get_logger()


@dataclass(frozen=True)
class TimelineEvent:
    """One line of a procedure's timeline."""

    t_s: float  # clock seconds since the procedure started
    kind: str  # STEP, PERMISSIVE, COMMAND, FEEDBACK, DONE, FAILED
    text: str


class StepFailed(Exception):
    """A step could not be done: a permissive was not met, a write failed, or no feedback."""

    def __init__(self, step: Step, reason: str) -> None:
        self.step = step
        self.reason = reason
        super().__init__(f"step {step.name!r} failed: {reason}")


class ProcedureRunner:
    """Executes the steps of a procedure one by one; stops at the first failure."""

    def __init__(
        self,
        *,
        plant: Plant,
        clock: Clock,
        actor: str,
        on_event: Callable[[TimelineEvent], None] | None = None,
    ) -> None:
        self._plant = plant
        self._clock = clock
        self._actor = actor
        self._on_event = on_event
        self._started_s = clock.now()
        self.timeline: list[TimelineEvent] = []

    def _emit(self, kind: str, text: str) -> None:
        event = TimelineEvent(self._clock.now() - self._started_s, kind, text)
        self.timeline.append(event)
        if self._on_event is not None:
            self._on_event(event)

    async def run(self, procedure: Procedure) -> None:
        """Run every step; raise StepFailed (after recording it) at the first that fails."""
        self._started_s = self._clock.now()
        for step in procedure.steps:
            try:
                await self._run_step(step)
            except StepFailed as failure:
                self._emit("FAILED", f"{step.name}: {failure.reason}")
                log.error("procedure_step_failed", step=step.name, reason=failure.reason)
                raise
        self._emit("DONE", f"procedure {procedure.name} complete")

    async def _run_step(self, step: Step) -> None:
        self._emit("STEP", step.name)
        unmet = [c for c in step.require if not c.holds(self._plant.read(c.tag))]
        if unmet:
            seen = "; ".join(c.describe(self._plant.read(c.tag)) for c in unmet)
            raise StepFailed(step, f"permissive not met: {seen}")
        for condition in step.require:
            self._emit("PERMISSIVE", condition.describe(self._plant.read(condition.tag)))
        for name, value in step.write:
            shown = str(value).lower() if isinstance(value, bool) else f"{value:g}"
            self._emit("COMMAND", f"{name} := {shown}")
            try:
                await self._plant.write(name, value, actor=self._actor, reason=step.name)
            except PlantError as error:
                raise StepFailed(step, str(error)) from error
        if not step.expect:
            return
        met = await self._plant.table.wait_for(
            lambda _table: all(self._holds(c) for c in step.expect),
            timeout_s=step.within_s,
            grace_wall_s=self._plant.pace.command_wall_s,
        )
        if not met:
            seen = "; ".join(
                c.describe(self._plant.read(c.tag)) for c in step.expect if not self._holds(c)
            )
            raise StepFailed(step, f"no feedback within {step.within_s:g} s: {seen}")
        for condition in step.expect:
            self._emit("FEEDBACK", condition.describe(self._plant.read(condition.tag)))

    def _holds(self, condition: Condition) -> bool:
        return condition.holds(self._plant.read(condition.tag))
