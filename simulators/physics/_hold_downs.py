"""Hold-down clamps: four clamps holding the vehicle on the launch table until release.

ARM pressurizes the release accumulator (ARMED at 180 bar); RELEASE opens every clamp in
under half a second, but only while armed; CLAMP (without RELEASE) re-clamps them slowly,
for a recycle. With none of them held the clamps stay where they are.
"""

from __future__ import annotations

from simulators.physics._actuators import Actuator, TwoPositionActuator
from simulators.physics._area import Area
from simulators.physics._common import CommandTable, Outputs, Value, as_bool, relax

ACCUMULATOR_BAR = 210.0
ARMED_BAR = 180.0
CHARGE_TIME_CONSTANT_S = 2.0
BLEED_TIME_CONSTANT_S = 5.0
CYLINDER_TIME_CONSTANT_S = 0.1
CLAMP_COUNT = 4


class HoldDowns(Area):
    """Clamps HDC-M-701..704 (position 0 clamped .. 1 released) and their release hydraulics."""

    def __init__(self) -> None:
        self.clamps = [
            TwoPositionActuator(
                f"HDC-M-70{n}", travel_time_s=0.4, return_time_s=20.0, position=0.0,
                high_switch="RELEASED", low_switch="CLAMPED", command_suffix=None,
            )
            for n in range(1, CLAMP_COUNT + 1)
        ]  # fmt: skip
        self.arm_cmd = False
        self.release_cmd = False
        self.clamp_cmd = False
        self.accumulator_bar = 0.0
        self.cylinders_bar = [0.0] * CLAMP_COUNT

    @property
    def armed(self) -> bool:
        return self.arm_cmd and self.accumulator_bar >= ARMED_BAR

    @property
    def all_released(self) -> bool:
        return all(clamp.at_high for clamp in self.clamps)

    def actuators(self) -> list[Actuator]:
        return list(self.clamps)

    def _own_commands(self) -> CommandTable:
        return {
            "HDC-ARM-CMD": self._set_arm,
            "HDC-RELEASE-CMD": self._set_release,
            "HDC-CLAMP-CMD": self._set_clamp,
        }

    def _set_arm(self, value: Value) -> None:
        self.arm_cmd = as_bool(value)

    def _set_release(self, value: Value) -> None:
        self.release_cmd = as_bool(value)

    def _set_clamp(self, value: Value) -> None:
        self.clamp_cmd = as_bool(value)

    def step(self, dt_s: float) -> None:
        if self.arm_cmd:
            self.accumulator_bar = relax(
                self.accumulator_bar, ACCUMULATOR_BAR, CHARGE_TIME_CONSTANT_S, dt_s
            )
        else:
            self.accumulator_bar = relax(self.accumulator_bar, 0.0, BLEED_TIME_CONSTANT_S, dt_s)
        releasing = self.release_cmd and self.armed
        for index, clamp in enumerate(self.clamps):
            if releasing:
                clamp.target = 1.0
            elif self.clamp_cmd and not self.release_cmd:
                clamp.target = 0.0
            else:
                clamp.target = None
            clamp.step(dt_s)
            target_bar = self.accumulator_bar if releasing else 0.0
            self.cylinders_bar[index] = relax(
                self.cylinders_bar[index], target_bar, CYLINDER_TIME_CONSTANT_S, dt_s
            )

    def _measure(self, out: Outputs) -> None:
        out["HDC-ARMED"] = self.armed
        out["HDC-PT-700"] = self.accumulator_bar
        for number, pressure in enumerate(self.cylinders_bar, start=1):
            out[f"HDC-PT-70{number}"] = pressure
