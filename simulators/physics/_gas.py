"""Gases: nitrogen purges and helium (vehicle pressurant spheres, tank flight pressurization).

Bottle banks lose pressure in proportion to the gas drawn (isothermal). A regulator holds
its header at the setpoint while the banks stay above it; an isolation valve feeds it.
"""

from __future__ import annotations

import math

from simulators.physics._actuators import Actuator, TwoPositionActuator, on_off_valve
from simulators.physics._area import Area
from simulators.physics._common import (
    ZERO_C_IN_K,
    CommandTable,
    Outputs,
    Value,
    as_float,
    clamp,
    relax,
)

REGULATOR_TIME_CONSTANT_S = 2.0
REGULATOR_DROP_BAR = 2.0  # a regulator needs this much above its setpoint to hold it
GN2_BANK_KG_PER_BAR = 10.0
GN2_PURGE_NOMINAL_KG_S = 0.05  # per compartment at 10 bar header pressure
GN2_PURGE_NOMINAL_BAR = 10.0
GHE_BANK_KG_PER_BAR = 1.4
GHE_SPHERES_KG_PER_BAR = 0.2
GHE_LOADING_TIME_CONSTANT_S = 300.0
GHE_SPHERES_VENT_TIME_CONSTANT_S = 30.0
GHE_COMPRESSION_K_PER_BAR_S = 30.0  # spheres warm while loading fast
GHE_SPHERES_TIME_CONSTANT_S = 600.0
SPHERES_IMMERSED_LOX_PCT = 60.0  # the spheres sit in the LOX tank, below this level
PRESSURIZATION_MIN_HEADER_BAR = 10.0
FLIGHT_PRESSURE_BAR = 2.8  # the pressurization line's own regulator


class _Regulator:
    """A pressure regulator: the header follows min(setpoint, supply - drop)."""

    def __init__(self, setpoint_bar: float, high_bar: float) -> None:
        self.setpoint_bar = setpoint_bar
        self.high_bar = high_bar
        self.header_bar = 0.0

    def command(self, value: Value) -> None:
        self.setpoint_bar = clamp(as_float(value, self.setpoint_bar), 0.0, self.high_bar)

    def step(self, dt_s: float, *, supply_bar: float, isolation: float) -> None:
        target = isolation * clamp(supply_bar - REGULATOR_DROP_BAR, 0.0, self.setpoint_bar)
        self.header_bar = relax(self.header_bar, target, REGULATOR_TIME_CONSTANT_S, dt_s)


class GasSupply(Area):
    """GN2 and GHE supply, compartment purges, spheres loading and tank pressurization."""

    def __init__(self, *, ambient_c: float = 15.0) -> None:
        self.ambient_k = ambient_c + ZERO_C_IN_K
        self.gn2_banks_bar = [300.0, 300.0]
        self.gn2_isolation = on_off_valve("GN2-FV-201", open_=True)
        self.gn2_regulator = _Regulator(setpoint_bar=10.0, high_bar=40.0)
        self.gn2_regulator.header_bar = 10.0
        self.purge_valves = [on_off_valve(f"GN2-FV-{n}", open_=True) for n in (211, 212, 213)]
        self.purge_kg_s = [GN2_PURGE_NOMINAL_KG_S] * 3
        self.ghe_banks_bar = [350.0, 350.0]
        self.ghe_isolation = on_off_valve("GHE-FV-301")
        self.ghe_regulator = _Regulator(setpoint_bar=0.0, high_bar=300.0)
        self.spheres_loading = on_off_valve("GHE-FV-311")
        self.spheres_vent = on_off_valve("GHE-VV-311", open_=True)
        self.spheres_bar = 0.0
        self.spheres_k = self.ambient_k
        self.lox_pressurization = on_off_valve("GHE-FV-321")
        self.rg1_pressurization = on_off_valve("GHE-FV-322")

    def _valves(self) -> list[TwoPositionActuator]:
        return [
            self.gn2_isolation, *self.purge_valves, self.ghe_isolation, self.spheres_loading,
            self.spheres_vent, self.lox_pressurization, self.rg1_pressurization,
        ]  # fmt: skip

    def actuators(self) -> list[Actuator]:
        return list(self._valves())

    def _own_commands(self) -> CommandTable:
        return {
            "GN2-PC-201-SP": self.gn2_regulator.command,
            "GHE-PC-301-SP": self.ghe_regulator.command,
        }

    def _pressurization_fraction(self, valve: TwoPositionActuator) -> float:
        available = clamp(self.ghe_regulator.header_bar / PRESSURIZATION_MIN_HEADER_BAR, 0.0, 1.0)
        return valve.position * available

    @property
    def lox_pressurization_fraction(self) -> float:
        """How strongly the flight pressurization line is feeding the vehicle LOX tank (0..1)."""
        return self._pressurization_fraction(self.lox_pressurization)

    @property
    def rg1_pressurization_fraction(self) -> float:
        """How strongly the flight pressurization line is feeding the vehicle RG-1 tank (0..1)."""
        return self._pressurization_fraction(self.rg1_pressurization)

    @property
    def pressurization_bar(self) -> float:
        return FLIGHT_PRESSURE_BAR

    def step(self, dt_s: float, *, lox_level_pct: float, lox_temperature_k: float) -> None:
        for valve in self._valves():
            valve.step(dt_s)
        self._step_nitrogen(dt_s)
        self._step_helium(dt_s, lox_level_pct=lox_level_pct, lox_temperature_k=lox_temperature_k)

    def _step_nitrogen(self, dt_s: float) -> None:
        self.gn2_regulator.step(
            dt_s, supply_bar=min(self.gn2_banks_bar), isolation=self.gn2_isolation.position
        )
        header = self.gn2_regulator.header_bar
        flow_per_valve = GN2_PURGE_NOMINAL_KG_S * math.sqrt(header / GN2_PURGE_NOMINAL_BAR)
        self.purge_kg_s = [flow_per_valve * valve.position for valve in self.purge_valves]
        drop_bar = sum(self.purge_kg_s) * dt_s / (GN2_BANK_KG_PER_BAR * len(self.gn2_banks_bar))
        self.gn2_banks_bar = [max(p - drop_bar, 0.0) for p in self.gn2_banks_bar]

    def _step_helium(self, dt_s: float, *, lox_level_pct: float, lox_temperature_k: float) -> None:
        self.ghe_regulator.step(
            dt_s, supply_bar=min(self.ghe_banks_bar), isolation=self.ghe_isolation.position
        )
        header = self.ghe_regulator.header_bar
        loading = self.spheres_loading.position * max(header - self.spheres_bar, 0.0)
        loading_bar = loading * (1.0 - math.exp(-dt_s / GHE_LOADING_TIME_CONSTANT_S))
        vent_fraction = self.spheres_vent.position / GHE_SPHERES_VENT_TIME_CONSTANT_S
        self.spheres_bar = (self.spheres_bar + loading_bar) * math.exp(-dt_s * vent_fraction)
        drawn_kg = loading_bar * GHE_SPHERES_KG_PER_BAR
        drop_bar = drawn_kg / (GHE_BANK_KG_PER_BAR * len(self.ghe_banks_bar))
        self.ghe_banks_bar = [max(p - drop_bar, 0.0) for p in self.ghe_banks_bar]
        immersed = lox_level_pct >= SPHERES_IMMERSED_LOX_PCT
        bath_k = lox_temperature_k if immersed else self.ambient_k
        loading_bar_s = loading_bar / dt_s if dt_s > 0 else 0.0
        target_k = bath_k + GHE_COMPRESSION_K_PER_BAR_S * loading_bar_s
        self.spheres_k = relax(self.spheres_k, target_k, GHE_SPHERES_TIME_CONSTANT_S, dt_s)

    def _measure(self, out: Outputs) -> None:
        out["GN2-PT-201"], out["GN2-PT-202"] = self.gn2_banks_bar
        out["GN2-PT-203"] = self.gn2_regulator.header_bar
        for number, flow in zip((211, 212, 213), self.purge_kg_s, strict=True):
            out[f"GN2-FT-{number}"] = flow
        out["GHE-PT-301"], out["GHE-PT-302"] = self.ghe_banks_bar
        out["GHE-PT-303"] = self.ghe_regulator.header_bar
        out["GHE-PT-311"] = self.spheres_bar
        out["GHE-TT-311"] = self.spheres_k
