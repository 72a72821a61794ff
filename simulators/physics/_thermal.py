"""Thermal conditioning air: a fan and heater feeding three damper-controlled circuits.

The heater lifts the supply air toward TCA-TC-401-SP (never below outside air; there is no
cooler). Each circuit's air flow is proportional to fan output and damper position; its
compartment temperature follows the supply air the faster the more air flows.
"""

from __future__ import annotations

from simulators.physics._actuators import Actuator, ControlValve, Motor
from simulators.physics._area import Area
from simulators.physics._common import CommandTable, Outputs, Value, as_float, clamp, relax

SUPPLY_TIME_CONSTANT_S = 60.0
HEATER_MAX_RISE_K = 40.0
COMPARTMENT_TIME_CONSTANT_S = 900.0  # at full flow
COMPARTMENT_AMBIENT_TIME_CONSTANT_S = 3600.0
CIRCUITS = {411: 2.5, 412: 1.5, 413: 1.0}  # damper number -> full flow, kg/s


class ThermalConditioning(Area):
    """The TCA unit and its circuits to stage 1, stage 2 and the payload fairing."""

    def __init__(self, *, ambient_c: float = 15.0) -> None:
        self.ambient_c = ambient_c
        self.fan = Motor("TCA-FAN-401", start_time_s=10.0, rated_speed_rpm=1450.0,
                         speed_tag="TCA-ST-401")  # fmt: skip
        self.heater = Motor("TCA-E-401", start_time_s=5.0)
        self.setpoint_c = 15.0
        self.supply_c = ambient_c
        self.dampers = {n: ControlValve(f"TCA-CV-{n}", stroke_time_s=30.0) for n in CIRCUITS}
        self.flows_kg_s = dict.fromkeys(CIRCUITS, 0.0)
        self.compartments_c = dict.fromkeys(CIRCUITS, ambient_c)

    def actuators(self) -> list[Actuator]:
        return [self.fan, self.heater, *self.dampers.values()]

    def _own_commands(self) -> CommandTable:
        return {"TCA-TC-401-SP": self._set_setpoint}

    def _set_setpoint(self, value: Value) -> None:
        self.setpoint_c = clamp(as_float(value, self.setpoint_c), 5.0, 35.0)

    def step(self, dt_s: float, *, powered: bool) -> None:
        self.fan.step(dt_s, powered=powered)
        self.heater.step(dt_s, powered=powered)
        for damper in self.dampers.values():
            damper.step(dt_s)
        rise_k = clamp(self.setpoint_c - self.ambient_c, 0.0, HEATER_MAX_RISE_K)
        heating = self.heater.output if self.fan.running else 0.0
        target_c = self.ambient_c + heating * rise_k
        self.supply_c = relax(self.supply_c, target_c, SUPPLY_TIME_CONSTANT_S, dt_s)
        for number, full_flow_kg_s in CIRCUITS.items():
            share = self.fan.output * self.dampers[number].fraction
            self.flows_kg_s[number] = full_flow_kg_s * share
            k_air = share / COMPARTMENT_TIME_CONSTANT_S
            k_ambient = 1.0 / COMPARTMENT_AMBIENT_TIME_CONSTANT_S
            target = (k_air * self.supply_c + k_ambient * self.ambient_c) / (k_air + k_ambient)
            self.compartments_c[number] = relax(
                self.compartments_c[number], target, 1.0 / (k_air + k_ambient), dt_s
            )

    def _measure(self, out: Outputs) -> None:
        out["TCA-TT-400"] = self.ambient_c
        out["TCA-TT-401"] = self.supply_c
        for number in CIRCUITS:
            out[f"TCA-FT-{number}"] = self.flows_kg_s[number]
            out[f"TCA-TT-{number}"] = self.compartments_c[number]
