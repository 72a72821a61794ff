"""Ground power: pad main bus (breaker CB-841), vehicle ground power (CB-842), UPS battery.

Breakers are two-position actuators: command true closes them. The vehicle ground power
supply needs the main bus; pumps, fans and heaters stop when the main bus is dead.
"""

from __future__ import annotations

from simulators.physics._actuators import Actuator, TwoPositionActuator
from simulators.physics._area import Area
from simulators.physics._common import Outputs, approach, relax

BUS_V = 400.0
BASE_LOAD_A = 150.0
VEHICLE_SUPPLY_V = 28.5
ENERGIZE_TIME_CONSTANT_S = 0.2
UPS_FLOAT_V = 110.4
UPS_EMPTY_V = 90.0
UPS_DISCHARGE_V_S = 0.005
UPS_CHARGE_V_S = 0.002


def _breaker(number: int, *, closed: bool) -> TwoPositionActuator:
    return TwoPositionActuator(
        f"PWR-CB-{number}", travel_time_s=0.1, position=1.0 if closed else 0.0,
        high_switch="CLOSED", low_switch="OPEN",
    )  # fmt: skip


class GroundPower(Area):
    """Pad main bus and vehicle ground power supply."""

    def __init__(self) -> None:
        self.grid_available = True
        self.main_breaker = _breaker(841, closed=True)
        self.vehicle_breaker = _breaker(842, closed=False)
        self.bus_v = BUS_V
        self.bus_a = BASE_LOAD_A
        self.vehicle_supply_v = 0.0
        self.vehicle_supply_a = 0.0
        self.ups_v = UPS_FLOAT_V

    @property
    def bus_energized(self) -> bool:
        return self.bus_v > 0.8 * BUS_V

    def actuators(self) -> list[Actuator]:
        return [self.main_breaker, self.vehicle_breaker]

    def step(self, dt_s: float, *, load_a: float, vehicle_load_a: float) -> None:
        self.main_breaker.step(dt_s)
        self.vehicle_breaker.step(dt_s)
        bus_on = self.grid_available and self.main_breaker.at_high
        self.bus_v = relax(self.bus_v, BUS_V if bus_on else 0.0, ENERGIZE_TIME_CONSTANT_S, dt_s)
        self.bus_a = BASE_LOAD_A + load_a if bus_on else 0.0
        supply_on = self.bus_energized and self.vehicle_breaker.at_high
        self.vehicle_supply_v = relax(
            self.vehicle_supply_v, VEHICLE_SUPPLY_V if supply_on else 0.0,
            ENERGIZE_TIME_CONSTANT_S, dt_s,
        )  # fmt: skip
        self.vehicle_supply_a = vehicle_load_a if supply_on else 0.0
        if self.bus_energized:
            self.ups_v = approach(self.ups_v, UPS_FLOAT_V, UPS_CHARGE_V_S * dt_s)
        else:
            self.ups_v = approach(self.ups_v, UPS_EMPTY_V, UPS_DISCHARGE_V_S * dt_s)

    def _measure(self, out: Outputs) -> None:
        out["PWR-ET-841"] = self.bus_v
        out["PWR-IT-841"] = self.bus_a
        out["PWR-ET-842"] = self.vehicle_supply_v
        out["PWR-IT-842"] = self.vehicle_supply_a
        out["PWR-ET-843"] = self.ups_v
