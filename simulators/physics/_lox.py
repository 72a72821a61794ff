"""LOX: storage tank, transfer pump, chilldown, fill/replenish/drain, vehicle tank.

Storage T-001 -> outlet FV-001 -> pump P-001 -> (fill CV-101 + FV-101 | replenish FV-102)
-> vehicle tank; the chilldown bleed FV-103 returns line flow to storage; the drain DV-101
returns vehicle LOX to storage. Flows follow the square root of the driving head.
LOX reaching the vehicle through a warm line partly flashes to gas.
"""

from __future__ import annotations

import math

from simulators.physics._actuators import Actuator, ControlValve, Motor, on_off_valve
from simulators.physics._area import Area
from simulators.physics._common import ZERO_C_IN_K, Outputs, clamp, relax
from simulators.physics._cryo_tank import CryoTank, lox_saturation_k
from simulators.physics._ullage import UllageGas

FILL_MAX_KG_S = 120.0  # fast fill, CV-101 fully open, nominal head: ~33 min for a full tank
REPLENISH_PATH = 0.015  # replenish line capacity (~1.8 kg/s): makes up the full tank's boil-off
CHILLDOWN_PATH = 0.07  # chilldown bleed capacity (about 8 kg/s)
DRAIN_MAX_KG_S = 60.0
NOMINAL_HEAD_BAR = 10.0
PUMP_SHUTOFF_HEAD_BAR = 10.0
DRAIN_HEAD_FULL_BAR = 3.0  # liquid head of a full vehicle tank at the drain
LIQUID_K = 90.0
LINE_COOLING_PER_KG = 1.0 / 1000.0  # line heat capacity: 1/(tau * flow)
LINE_WARMING_TIME_CONSTANT_S = 3600.0
FLASH_WARM_K = 250.0  # above this line temperature everything reaching the vehicle flashes
FLASH_COLD_K = 110.0  # below this it all arrives liquid
VEHICLE_LSH_PCT = 98.0
VEHICLE_LSHH_PCT = 99.5


def _line_temperature(
    temperature_k: float, *, flow_kg_s: float, cooling: float, ambient_k: float, dt_s: float
) -> float:
    """A line warming toward ambient and cooled toward the liquid by the flow through it."""
    k_flow = cooling * max(flow_kg_s, 0.0)
    k_ambient = 1.0 / LINE_WARMING_TIME_CONSTANT_S
    target_k = (k_flow * LIQUID_K + k_ambient * ambient_k) / (k_flow + k_ambient)
    return relax(temperature_k, target_k, 1.0 / (k_flow + k_ambient), dt_s)


def liquid_fraction(line_temperature_k: float) -> float:
    """Fraction of the LOX sent down a line at this temperature that arrives liquid."""
    return clamp((FLASH_WARM_K - line_temperature_k) / (FLASH_WARM_K - FLASH_COLD_K), 0.0, 1.0)


class LoxSystem(Area):
    """The LOX storage, transfer and vehicle tank of the pad."""

    def __init__(self, *, ambient_c: float = 15.0) -> None:
        self.ambient_k = ambient_c + ZERO_C_IN_K
        self.storage = CryoTank(
            capacity_kg=700_000.0,
            mass_kg=686_000.0,
            temperature_k=LIQUID_K,
            ullage=UllageGas(pressure_bar=0.0, relief_bar=4.0, bar_per_kg_at_full=0.02),
            heat_leak_kg_s=0.4,
            ambient_k=self.ambient_k,
        )
        self.vehicle = CryoTank(
            capacity_kg=240_000.0,
            mass_kg=0.0,
            temperature_k=self.ambient_k,
            # The vehicle tank's flight relief valve cracks a little above the flight pressure.
            ullage=UllageGas(pressure_bar=0.0, relief_bar=3.2, bar_per_kg_at_full=0.012),
            heat_leak_kg_s=1.5,
            ambient_k=self.ambient_k,
        )
        self.storage_vent = on_off_valve("LOX-VV-001", open_=True)
        self.storage_outlet = on_off_valve("LOX-FV-001", travel_time_s=3.0)
        self.pump = Motor(
            "LOX-P-001",
            start_time_s=8.0,
            stop_time_s=15.0,
            rated_speed_rpm=2950.0,
            speed_tag="LOX-ST-001",
        )
        self.chilldown_valve = on_off_valve("LOX-FV-103")
        self.fill_control = ControlValve("LOX-CV-101", stroke_time_s=20.0)
        self.fill_valve = on_off_valve("LOX-FV-101", travel_time_s=4.0)
        self.replenish_valve = on_off_valve("LOX-FV-102")
        self.drain_valve = on_off_valve("LOX-DV-101", travel_time_s=4.0)
        self.vehicle_vent = on_off_valve("LOX-VV-101", open_=True)
        self.line_pump_k = self.ambient_k
        self.line_vehicle_k = self.ambient_k
        self.discharge_bar = 0.0
        self.fill_line_bar = 0.0
        self.pump_flow_kg_s = 0.0
        self.vehicle_in_kg_s = 0.0
        self.drain_kg_s = 0.0
        self.loaded_kg = 0.0
        self._valves = [
            self.storage_vent, self.storage_outlet, self.chilldown_valve, self.fill_valve,
            self.replenish_valve, self.drain_valve, self.vehicle_vent,
        ]  # fmt: skip

    def actuators(self) -> list[Actuator]:
        return [*self._valves, self.fill_control, self.pump]

    @property
    def vented_kg_s(self) -> float:
        """Oxygen gas leaving both tanks' vents and reliefs."""
        return self.storage.vented_kg_s + self.vehicle.vented_kg_s

    def step(
        self,
        dt_s: float,
        *,
        powered: bool,
        pressurization_fraction: float = 0.0,
        pressurization_bar: float = 0.0,
    ) -> None:
        for valve in self._valves:
            valve.step(dt_s)
        self.fill_control.step(dt_s)
        self.pump.step(dt_s, powered=powered)
        storage_p = self.storage.pressure_bar
        vehicle_p = self.vehicle.pressure_bar
        suction = self.storage_outlet.position * clamp(self.storage.level_pct / 2.0, 0.0, 1.0)
        pump_head = PUMP_SHUTOFF_HEAD_BAR * self.pump.output**2 * suction
        supply_bar = storage_p * suction + pump_head

        def flow(path: float, back_bar: float) -> float:
            head = max(supply_bar - back_bar, 0.0)
            return FILL_MAX_KG_S * path * math.sqrt(head / NOMINAL_HEAD_BAR)

        fill = flow(self.fill_control.fraction * self.fill_valve.position, vehicle_p)
        replenish = flow(REPLENISH_PATH * self.replenish_valve.position, vehicle_p)
        chilldown = flow(CHILLDOWN_PATH * self.chilldown_valve.position, storage_p)
        available_kg_s = self.storage.mass_kg / dt_s if dt_s > 0 else 0.0
        scale = min(1.0, available_kg_s / max(fill + replenish + chilldown, 1e-9))
        fill, replenish, chilldown = fill * scale, replenish * scale, chilldown * scale
        drain_head = (
            vehicle_p + DRAIN_HEAD_FULL_BAR * self.vehicle.mass_kg / self.vehicle.capacity_kg
        )
        drain = (
            DRAIN_MAX_KG_S
            * self.drain_valve.position
            * math.sqrt(max(drain_head - storage_p, 0.0) / DRAIN_HEAD_FULL_BAR)
        )
        drain = min(drain, self.vehicle.mass_kg / dt_s if dt_s > 0 else 0.0)

        self.pump_flow_kg_s = fill + replenish + chilldown
        self.vehicle_in_kg_s = fill + replenish
        self.drain_kg_s = drain
        self.discharge_bar = max(supply_bar - 2.0 * (self.pump_flow_kg_s / FILL_MAX_KG_S) ** 2, 0.0)
        self.fill_line_bar = vehicle_p + (self.discharge_bar - vehicle_p) * (
            self.fill_control.fraction * (1.0 - 0.7 * self.fill_valve.position)
        )
        self.line_pump_k = _line_temperature(
            self.line_pump_k, flow_kg_s=self.pump_flow_kg_s, cooling=LINE_COOLING_PER_KG,
            ambient_k=self.ambient_k, dt_s=dt_s,
        )  # fmt: skip
        self.line_vehicle_k = _line_temperature(
            self.line_vehicle_k, flow_kg_s=self.pump_flow_kg_s + drain,
            cooling=LINE_COOLING_PER_KG / 1.5, ambient_k=self.ambient_k, dt_s=dt_s,
        )  # fmt: skip
        arriving_liquid = liquid_fraction(self.line_vehicle_k)
        self.loaded_kg = min(self.loaded_kg + self.vehicle_in_kg_s * dt_s, 400_000.0)
        self.storage.step(
            dt_s,
            liquid_in_kg_s=chilldown * arriving_liquid + drain,
            liquid_out_kg_s=self.pump_flow_kg_s,
            flash_gas_kg_s=chilldown * (1.0 - arriving_liquid),
            vent_fraction=self.storage_vent.position,
        )
        self.vehicle.step(
            dt_s,
            liquid_in_kg_s=self.vehicle_in_kg_s * arriving_liquid,
            liquid_out_kg_s=drain,
            flash_gas_kg_s=self.vehicle_in_kg_s * (1.0 - arriving_liquid),
            vent_fraction=self.vehicle_vent.position,
            pressurization_fraction=pressurization_fraction,
            pressurization_bar=pressurization_bar,
        )

    def _measure(self, out: Outputs) -> None:
        out["LOX-LT-001"] = self.storage.level_pct
        out["LOX-PT-001"] = self.storage.pressure_bar
        out["LOX-TT-001"] = self.storage.temperature_k
        out["LOX-PT-002"] = self.discharge_bar
        out["LOX-FT-001"] = self.pump_flow_kg_s
        out["LOX-TT-102"] = self.line_pump_k
        out["LOX-TT-103"] = self.line_vehicle_k
        out["LOX-PT-102"] = self.fill_line_bar
        out["LOX-FT-101"] = self.vehicle_in_kg_s
        out["LOX-FT-102"] = self.drain_kg_s
        out["LOX-FQ-101"] = self.loaded_kg
        out["LOX-LT-101"] = self.vehicle.level_pct
        out["LOX-PT-101"] = self.vehicle.pressure_bar
        out["LOX-TT-101"] = self.vehicle.temperature_k
        out["LOX-LSH-101"] = self.vehicle.level_pct >= VEHICLE_LSH_PCT
        out["LOX-LSHH-101"] = self.vehicle.level_pct >= VEHICLE_LSHH_PCT


__all__ = ["LoxSystem", "liquid_fraction", "lox_saturation_k"]
