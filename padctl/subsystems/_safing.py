"""Safing a subsystem: every safe output written (even when some writes fail) and proven by
its read-back and its actuator's feedback, each output reported on its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from padctl.plant import Plant, PlantError
from padctl.procedure import Condition
from padctl.subsystems._compiled import CompiledSubsystem
from padctl.subsystems._watch import ActuatorWatch

PROVEN = "proven"


@dataclass(frozen=True)
class SafingResult:
    outputs: dict[str, str]  # each safe output: proven, "not proven: why" or "not written: why"
    unmet: list[str]  # the safe state's feedback conditions that do not hold

    @property
    def proven(self) -> bool:
        return not self.unmet and all(status == PROVEN for status in self.outputs.values())

    @property
    def detail(self) -> str:
        problems = [f"{tag} {status}" for tag, status in self.outputs.items() if status != PROVEN]
        return "; ".join(problems + self.unmet)


class SafeOutputs:
    """Drives one subsystem's safe outputs and proves them within its safing time."""

    def __init__(
        self,
        *,
        compiled: CompiledSubsystem,
        plant: Plant,
        watch: ActuatorWatch,
        holds: Callable[[Condition], bool],
        describe: Callable[[Condition], str],
        grace_wall_s: Callable[[], float],
    ) -> None:
        self._compiled = compiled
        self._name = compiled.spec.name
        self._plant = plant
        self._watch = watch
        self._holds = holds
        self._describe = describe
        self._grace_wall_s = grace_wall_s
        self._actuator_of = {actuator.command: actuator for actuator in compiled.actuators}

    async def drive(self, *, actor: str, why: str) -> SafingResult:
        """Write every safe output, wait for the safe state, and report each output."""
        compiled, safe_writes = self._compiled, self._compiled.spec.safe_writes
        pace, window = self._plant.pace, (self._name, "safing")
        pace.open_window(window, compiled.safe_timeout_s, f"{self._name} safing")
        failed: dict[str, str] = {}
        try:
            for tag, value in safe_writes:
                self._watch.commanded(tag, value)
                try:
                    await self._plant.write(
                        tag, value, actor=actor, reason=f"{self._name}.safing ({why})"
                    )
                except PlantError as error:  # go on: every other output is still attempted
                    failed[tag] = str(error)
                else:
                    self._watch.written(tag)
            await self._plant.table.wait_for(
                lambda _t: (
                    all(self._holds(c) for c in compiled.safe_feedback)
                    and all(
                        self.unproven(tag, value) is None
                        for tag, value in safe_writes
                        if tag not in failed
                    )
                ),
                timeout_s=compiled.safe_timeout_s,
                grace_wall_s=self._grace_wall_s(),
            )
        finally:
            pace.close_window(window)
        outputs: dict[str, str] = {}
        for tag, value in safe_writes:
            if tag in failed:
                outputs[tag] = f"not written: {failed[tag]}"
                continue
            unproven = self.unproven(tag, value)
            outputs[tag] = PROVEN if unproven is None else f"not proven: {unproven}"
        unmet = [self._describe(c) for c in compiled.safe_feedback if not self._holds(c)]
        return SafingResult(outputs, unmet)

    def unproven(self, tag: str, value: object) -> str | None:
        """Why the output `tag` is not proven at `value` now (None: proven): its read-back,
        and the position feedback of the actuator it drives."""
        sample = self._plant.read(tag)
        if not sample.is_good:
            return f"read-back {sample.quality.value}"
        if sample.value != value and not (
            isinstance(value, float | int)
            and not isinstance(value, bool)
            and isinstance(sample.value, float | int)
            and abs(float(sample.value) - float(value)) <= 1e-6 * max(1.0, abs(float(value)))
        ):
            return f"read-back {sample.value!r}"
        actuator = self._actuator_of.get(tag)
        if actuator is None:
            return None
        feedback = self._plant.read(actuator.on_feedback)
        if not feedback.is_good:
            return f"{actuator.on_feedback} {feedback.quality.value}"
        if bool(feedback.value) is not bool(value):
            return f"{actuator.on_feedback} = {str(bool(feedback.value)).lower()}"
        return None
