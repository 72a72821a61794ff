"""The cable mast: umbilicals to the vehicle, retracted before liftoff (pneumatic drive).

RETRACT and CONNECT are held commands: the mast moves while exactly one is held and stops
where it is when neither (or both) is.
"""

from __future__ import annotations

from simulators.physics._actuators import Actuator, TwoPositionActuator
from simulators.physics._area import Area
from simulators.physics._common import CommandTable, Outputs, Value, as_bool, relax

SUPPLY_BAR = 6.0
MOVING_DROP_BAR = 0.8
PNEUMATIC_TIME_CONSTANT_S = 1.0
MIN_DRIVE_BAR = 4.0


class CableMast(Area):
    """Cable mast M-601: position 0 connected .. 1 retracted."""

    def __init__(self) -> None:
        self.mast = TwoPositionActuator(
            "CBM-M-601", travel_time_s=6.0, return_time_s=30.0, position=0.0,
            high_switch="RETRACTED", low_switch="CONNECTED", command_suffix=None,
        )  # fmt: skip
        self.retract_cmd = False
        self.connect_cmd = False
        self.supply_bar = SUPPLY_BAR

    @property
    def connected(self) -> bool:
        return self.mast.at_low

    def actuators(self) -> list[Actuator]:
        return [self.mast]

    def _own_commands(self) -> CommandTable:
        return {
            "CBM-M-601-RETRACT-CMD": self._set_retract,
            "CBM-M-601-CONNECT-CMD": self._set_connect,
        }

    def _set_retract(self, value: Value) -> None:
        self.retract_cmd = as_bool(value)

    def _set_connect(self, value: Value) -> None:
        self.connect_cmd = as_bool(value)

    def step(self, dt_s: float) -> None:
        if self.retract_cmd != self.connect_cmd and self.supply_bar >= MIN_DRIVE_BAR:
            self.mast.target = 1.0 if self.retract_cmd else 0.0
        else:
            self.mast.target = None
        before = self.mast.position
        self.mast.step(dt_s)
        moving = self.mast.position != before
        target_bar = SUPPLY_BAR - (MOVING_DROP_BAR if moving else 0.0)
        self.supply_bar = relax(self.supply_bar, target_bar, PNEUMATIC_TIME_CONSTANT_S, dt_s)

    def _measure(self, out: Outputs) -> None:
        out["CBM-ZT-601"] = 100.0 * self.mast.position
        out["CBM-PT-601"] = self.supply_bar
