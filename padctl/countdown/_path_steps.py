"""The steps of the count's paths off the timeline, and safing the whole pad.

A recycle, a cutoff, a scrub and the post-launch safing are lists of steps (the sequence
file's `restore`, `cutoff`, `scrub` and `post_launch`); each step waits for its conditions,
gives its commands in turn and sees its expectations, all within its `within_s`.
"""

from __future__ import annotations

import asyncio

from padctl.alarms import AlarmDefinition, AlarmKind, AlarmManager, AlarmPriority
from padctl.clock import Clock
from padctl.countdown._count_record import CountRecord
from padctl.countdown._sequence import Step
from padctl.plant import Plant
from padctl.procedure import Condition
from padctl.subsystems import CommandRefused, Origin, Subsystem

PAD_NOT_SAFE = AlarmDefinition(
    id="PAD-NOT-SAFE",
    message="Pad not proven safe after a cutoff or scrub",
    priority=AlarmPriority.URGENT,
    kind=AlarmKind.EVENT,
)


class PathSteps:
    """Runs path steps and safes the pad for the countdown engine."""

    def __init__(
        self,
        *,
        subsystems: dict[str, Subsystem],
        plant: Plant,
        clock: Clock,
        record: CountRecord,
        alarms: AlarmManager | None,
    ) -> None:
        self._subsystems = subsystems
        self._plant = plant
        self._clock = clock
        self._record = record
        self._alarms = alarms
        if alarms is not None:
            alarms.define(PAD_NOT_SAFE)
        self.not_safe = ""  # what the last safing could not prove

    async def safe_all(self, reason: str) -> bool:
        """Safe every subsystem at once; True only if every one proved it. Otherwise the
        PAD-NOT-SAFE alarm names what is not safe, and so does `not_safe`."""
        self._record.emit("SAFING", reason)
        results = await asyncio.gather(
            *(
                subsystem.safe(actor="countdown", reason=reason)
                for subsystem in self._subsystems.values()
            ),
            return_exceptions=True,
        )
        unsafe: list[str] = []
        for (name, subsystem), result in zip(self._subsystems.items(), results, strict=True):
            if result is True:
                continue
            if isinstance(result, BaseException):
                unsafe.append(f"{name} (safing failed: {result!r})")
                continue
            unproven = [tag for tag, status in subsystem.last_safing.items() if status != "proven"]
            unsafe.append(f"{name} ({', '.join(unproven) or 'safe state not shown'})")
        if unsafe:
            self.not_safe = "pad NOT proven safe: " + "; ".join(unsafe)
            self._record.emit("NOT SAFE", self.not_safe)
            if self._alarms is not None:
                self._alarms.set_condition(PAD_NOT_SAFE.id, True, detail=self.not_safe)
            return False
        self.not_safe = ""
        if self._alarms is not None:
            self._alarms.set_condition(PAD_NOT_SAFE.id, False)
        self._record.emit("SAFED", "pad safe: every subsystem proved its safe state")
        return True

    async def run(self, step: Step) -> bool:
        """One step of a recycle, cutoff, scrub or post-launch path: wait for its conditions,
        give its commands one after another (each once the one before it is confirmed), then
        see its expectations; all within `within_s`."""
        self._record.emit("STEP", step.name)
        pace = self._plant.pace
        pace.open_window("step", step.within_s, f"step {step.name}")
        try:
            return await self._run_in_window(step)
        finally:
            pace.close_window("step")

    async def _run_in_window(self, step: Step) -> bool:
        deadline_s = self._clock.now() + step.within_s
        if not await self._wait_until(step.wait_for, deadline_s):
            self._record.emit("FAILED", f"{step.name}: not ready within {step.within_s:g} s")
            return False
        for action in step.actions:
            subsystem = self._subsystems[action.subsystem]
            if not subsystem.accepts_from_state(action.command):
                # A recovery step: what is already past (or never reached) needs no command;
                # the step's expectations and the safing after it prove the pad.
                self._record.emit(
                    "SKIPPED",
                    f"{step.name}: {action.subsystem}.{action.command} "
                    f"(state {subsystem.machine_state})",
                )
                continue
            try:
                ticket = await subsystem.command(
                    action.command, actor="countdown", origin=Origin.SEQUENCE
                )
            except CommandRefused as refused:
                self._record.emit("REFUSED", f"{step.name}: {refused}")
                return False
            outcome = await ticket.wait()
            if outcome != "confirmed":
                self._record.emit("FAILED", f"{step.name}: {outcome}")
                return False
        if not await self._wait_until(step.expect, deadline_s):
            self._record.emit(
                "FAILED", f"{step.name}: expectations not met within {step.within_s:g} s"
            )
            return False
        return True

    async def _wait_until(self, conditions: tuple[Condition, ...], deadline_s: float) -> bool:
        read = self._plant.read
        return await self._plant.table.wait_for(
            lambda _t: all(c.holds(read(c.tag)) for c in conditions),
            timeout_s=max(0.0, deadline_s - self._clock.now()),
            grace_wall_s=self._plant.pace.command_wall_s,
        )
