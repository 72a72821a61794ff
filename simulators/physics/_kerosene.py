"""Kerosene RG-1: storage tank with temperature conditioning, transfer pump, fill, drain, vehicle.

Storage T-001 -> outlet FV-001 -> pump P-001 -> CV-101 -> fill FV-101 -> vehicle tank; the
drain DV-101 returns vehicle fuel to storage. The conditioning loop heats (E-001) or chills
(E-002) the storage tank toward RG1-TC-001-SP; the PLC modulates them around the setpoint.
"""

from __future__ import annotations

import math

from simulators.physics._actuators import Actuator, ControlValve, Motor, on_off_valve
from simulators.physics._area import Area
from simulators.physics._common import CommandTable, Outputs, Value, as_float, clamp
from simulators.physics._kerosene_tank import KeroseneTank, kg_s_to_m3_h
from simulators.physics._ullage import UllageGas

FILL_MAX_KG_S = 52.0  # CV-101 fully open at nominal head: ~30 min for a full vehicle tank
DRAIN_MAX_KG_S = 30.0
NOMINAL_HEAD_BAR = 8.3  # pump shutoff head plus the storage blanket
PUMP_SHUTOFF_HEAD_BAR = 8.0
DRAIN_HEAD_FULL_BAR = 2.0  # head at the drain with a full vehicle tank
DRAIN_ELEVATION_BAR = 0.5  # of which the vehicle standing above storage: the empty-tank head
BLANKET_BAR = 0.3  # storage tank nitrogen blanket
CONDITIONING_K_S = 0.002  # storage bulk heating or cooling at full heater/chiller output
CONDITIONING_LOOP_RISE_K = 4.0  # loop outlet above (heater) or below (chiller) the bulk
CONDITIONING_BAND_K = 1.0  # the PLC's proportional band around the setpoint
VEHICLE_LSH_PCT = 98.0
VEHICLE_LSHH_PCT = 99.5


class KeroseneSystem(Area):
    """The RG-1 storage, conditioning, transfer and vehicle tank of the pad."""

    def __init__(self, *, ambient_c: float = 15.0) -> None:
        self.storage = KeroseneTank(
            capacity_kg=300_000.0,
            mass_kg=285_000.0,
            temperature_c=ambient_c,
            ullage=UllageGas(pressure_bar=BLANKET_BAR, relief_bar=1.0, bar_per_kg_at_full=0.09),
            ambient_c=ambient_c,
            ambient_time_constant_s=48 * 3600.0,
        )
        self.vehicle = KeroseneTank(
            capacity_kg=95_000.0,
            mass_kg=0.0,
            temperature_c=ambient_c,
            ullage=UllageGas(pressure_bar=0.0, relief_bar=5.0, bar_per_kg_at_full=0.09),
            ambient_c=ambient_c,
        )
        self.storage_outlet = on_off_valve("RG1-FV-001", travel_time_s=3.0)
        self.pump = Motor("RG1-P-001", start_time_s=5.0, stop_time_s=10.0, rated_speed_rpm=2950.0,
                          speed_tag="RG1-ST-001")  # fmt: skip
        self.heater = Motor("RG1-E-001", start_time_s=2.0)
        self.chiller = Motor("RG1-E-002", start_time_s=30.0, stop_time_s=10.0)
        self.setpoint_c = 15.0
        self.fill_control = ControlValve("RG1-CV-101", stroke_time_s=20.0)
        self.fill_valve = on_off_valve("RG1-FV-101", travel_time_s=4.0)
        self.drain_valve = on_off_valve("RG1-DV-101", travel_time_s=4.0)
        self.vehicle_vent = on_off_valve("RG1-VV-101", open_=True)
        self._valves = [self.storage_outlet, self.fill_valve, self.drain_valve, self.vehicle_vent]
        self.discharge_bar = 0.0
        self.fill_line_bar = 0.0
        self.fill_kg_s = 0.0
        self.drain_kg_s = 0.0
        self.loaded_kg = 0.0
        self.loop_outlet_c = ambient_c

    def actuators(self) -> list[Actuator]:
        return [*self._valves, self.fill_control, self.pump, self.heater, self.chiller]

    def _own_commands(self) -> CommandTable:
        return {"RG1-TC-001-SP": self._set_setpoint}

    def _set_setpoint(self, value: Value) -> None:
        self.setpoint_c = clamp(as_float(value, self.setpoint_c), -20.0, 40.0)

    @property
    def vented_kg_s(self) -> float:
        """Fuel vapour leaving the vehicle tank's vent (the storage breathes through a filter)."""
        return self.vehicle.vented_kg_s

    def _conditioning_k_s(self) -> float:
        """Bulk heating (+) or cooling (-) rate the conditioning loop applies now."""
        error_k = self.setpoint_c - self.storage.temperature_c
        demand = clamp(error_k / CONDITIONING_BAND_K, -1.0, 1.0)
        heating = self.heater.output * max(demand, 0.0)
        cooling = self.chiller.output * max(-demand, 0.0)
        self.loop_outlet_c = self.storage.temperature_c + CONDITIONING_LOOP_RISE_K * (
            heating - cooling
        )
        return CONDITIONING_K_S * (heating - cooling)

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
        for motor in (self.pump, self.heater, self.chiller):
            motor.step(dt_s, powered=powered)
        storage_p = self.storage.pressure_bar
        vehicle_p = self.vehicle.pressure_bar
        suction = self.storage_outlet.position * clamp(self.storage.level_pct / 2.0, 0.0, 1.0)
        supply_bar = (storage_p + PUMP_SHUTOFF_HEAD_BAR * self.pump.output**2) * suction
        path = self.fill_control.fraction * self.fill_valve.position
        fill = FILL_MAX_KG_S * path * math.sqrt(max(supply_bar - vehicle_p, 0.0) / NOMINAL_HEAD_BAR)
        fill = min(fill, self.storage.mass_kg / dt_s if dt_s > 0 else 0.0)
        vehicle_fraction = self.vehicle.mass_kg / self.vehicle.capacity_kg
        drain_head = (
            vehicle_p
            + DRAIN_ELEVATION_BAR
            + (DRAIN_HEAD_FULL_BAR - DRAIN_ELEVATION_BAR) * vehicle_fraction
            - storage_p
        )  # the drain empties the tank against the storage blanket
        drain = (
            DRAIN_MAX_KG_S
            * self.drain_valve.position
            * math.sqrt(max(drain_head, 0.0) / DRAIN_HEAD_FULL_BAR)
        )
        drain = min(drain, self.vehicle.mass_kg / dt_s if dt_s > 0 else 0.0)
        self.fill_kg_s, self.drain_kg_s = fill, drain
        self.discharge_bar = max(supply_bar - 1.5 * (fill / FILL_MAX_KG_S) ** 2, 0.0)
        self.fill_line_bar = vehicle_p + (self.discharge_bar - vehicle_p) * (
            self.fill_control.fraction * (1.0 - 0.7 * self.fill_valve.position)
        )
        self.loaded_kg = min(self.loaded_kg + fill * dt_s, 200_000.0)
        fuel_c = self.storage.temperature_c
        self.storage.step(
            dt_s,
            liquid_in_kg_s=drain,
            liquid_in_temperature_c=self.vehicle.temperature_c,
            liquid_out_kg_s=fill,
            vent_fraction=1.0 if storage_p > BLANKET_BAR + 0.05 else 0.0,  # breather valve
            pressurization_fraction=1.0,
            pressurization_bar=BLANKET_BAR,
            heating_k_s=self._conditioning_k_s(),
        )
        self.vehicle.step(
            dt_s,
            liquid_in_kg_s=fill,
            liquid_in_temperature_c=fuel_c,
            liquid_out_kg_s=drain,
            vent_fraction=self.vehicle_vent.position,
            pressurization_fraction=pressurization_fraction,
            pressurization_bar=pressurization_bar,
        )

    def _measure(self, out: Outputs) -> None:
        out["RG1-LT-001"] = self.storage.level_pct
        out["RG1-PT-001"] = self.storage.pressure_bar
        out["RG1-TT-001"] = self.storage.temperature_c
        out["RG1-PT-002"] = self.discharge_bar
        out["RG1-FT-001"] = kg_s_to_m3_h(self.fill_kg_s)
        out["RG1-TT-002"] = self.loop_outlet_c
        out["RG1-PT-102"] = self.fill_line_bar
        out["RG1-FT-101"] = kg_s_to_m3_h(self.fill_kg_s)
        out["RG1-FT-102"] = kg_s_to_m3_h(self.drain_kg_s)
        out["RG1-FQ-101"] = self.loaded_kg
        out["RG1-LT-101"] = self.vehicle.level_pct
        out["RG1-PT-101"] = self.vehicle.pressure_bar
        out["RG1-TT-101"] = self.vehicle.temperature_c
        out["RG1-LSH-101"] = self.vehicle.level_pct >= VEHICLE_LSH_PCT
        out["RG1-LSHH-101"] = self.vehicle.level_pct >= VEHICLE_LSHH_PCT
