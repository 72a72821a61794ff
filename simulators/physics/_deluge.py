"""Water deluge: tank, pump P-801, launch deluge valve FV-801, flame trench cooling FV-802."""

from __future__ import annotations

import math

from simulators.physics._actuators import Actuator, Motor, on_off_valve
from simulators.physics._area import Area
from simulators.physics._common import Outputs, clamp

TANK_M3 = 2000.0
DELUGE_FULL_M3_H = 4000.0
COOLING_FULL_M3_H = 1200.0
SHUTOFF_HEAD_BAR = 12.0
FLOW_DROP_BAR = 3.0


class Deluge(Area):
    """Flows follow pump speed and valve positions; the tank empties into the flame trench."""

    def __init__(self) -> None:
        self.tank_m3 = 0.95 * TANK_M3
        self.pump = Motor("DLG-P-801", start_time_s=5.0, stop_time_s=10.0, rated_speed_rpm=1480.0,
                          speed_tag="DLG-ST-801")  # fmt: skip
        self.deluge_valve = on_off_valve("DLG-FV-801", travel_time_s=3.0)
        self.cooling_valve = on_off_valve("DLG-FV-802", travel_time_s=3.0)
        self.deluge_m3_h = 0.0
        self.cooling_m3_h = 0.0
        self.discharge_bar = 0.0
        self.used_m3 = 0.0

    @property
    def total_m3_h(self) -> float:
        return self.deluge_m3_h + self.cooling_m3_h

    def actuators(self) -> list[Actuator]:
        return [self.pump, self.deluge_valve, self.cooling_valve]

    def step(self, dt_s: float, *, powered: bool) -> None:
        self.pump.step(dt_s, powered=powered)
        self.deluge_valve.step(dt_s)
        self.cooling_valve.step(dt_s)
        suction = clamp(self.tank_m3 / (0.01 * TANK_M3), 0.0, 1.0)
        speed = self.pump.output * suction
        self.deluge_m3_h = DELUGE_FULL_M3_H * speed * self.deluge_valve.position
        self.cooling_m3_h = COOLING_FULL_M3_H * speed * self.cooling_valve.position
        full_m3_h = DELUGE_FULL_M3_H + COOLING_FULL_M3_H
        self.discharge_bar = max(
            SHUTOFF_HEAD_BAR * speed**2 - FLOW_DROP_BAR * (self.total_m3_h / full_m3_h) ** 2, 0.0
        )
        used = min(self.total_m3_h / 3600.0 * dt_s, self.tank_m3)
        self.tank_m3 -= used
        self.used_m3 = min(self.used_m3 + used, 100_000.0)

    def _measure(self, out: Outputs) -> None:
        out["DLG-LT-801"] = 100.0 * self.tank_m3 / TANK_M3
        out["DLG-PT-801"] = self.discharge_bar
        out["DLG-FT-801"] = self.deluge_m3_h
        out["DLG-FT-802"] = self.cooling_m3_h
        out["DLG-FQ-801"] = math.floor(self.used_m3)
