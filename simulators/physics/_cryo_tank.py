"""A cryogenic (LOX) tank: liquid mass and level, boil-off, ullage pressure, temperature."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from simulators.physics._common import ATMOSPHERE_BAR, clamp, relax
from simulators.physics._ullage import UllageGas

LOX_NORMAL_BOILING_K = 90.19
LOX_VAPORIZATION_OVER_R_K = 819.0  # latent heat / gas constant, for Clausius-Clapeyron
WETTED_TANK_LEVEL_PCT = 0.5  # below this the temperature probe sits in gas


def lox_saturation_k(pressure_bar: float) -> float:
    """Saturation temperature of oxygen at a gauge pressure (Clausius-Clapeyron fit)."""
    absolute_bar = max(pressure_bar, 0.0) + ATMOSPHERE_BAR
    inverse = 1.0 / LOX_NORMAL_BOILING_K - math.log(absolute_bar / ATMOSPHERE_BAR) / (
        LOX_VAPORIZATION_OVER_R_K
    )
    return 1.0 / inverse


@dataclass
class CryoTank:
    """A LOX tank; flows are decided by the plumbing, the tank integrates them.

    Boil-off grows with the wetted wall (level); the liquid settles at its saturation
    temperature, so closing the vent raises both pressure and temperature. Liquid above
    capacity spills through the vent (levels never exceed 100 %).
    """

    capacity_kg: float
    mass_kg: float
    temperature_k: float
    ullage: UllageGas
    heat_leak_kg_s: float  # boil-off with the tank full
    ambient_k: float = 288.15
    liquid_time_constant_s: float = 120.0
    empty_time_constant_s: float = 3600.0
    vented_kg_s: float = field(default=0.0, init=False)
    boiloff_kg_s: float = field(default=0.0, init=False)

    @property
    def level_pct(self) -> float:
        return 100.0 * self.mass_kg / self.capacity_kg

    @property
    def pressure_bar(self) -> float:
        return self.ullage.pressure_bar

    @property
    def wetted(self) -> bool:
        return self.level_pct > WETTED_TANK_LEVEL_PCT

    def step(
        self,
        dt_s: float,
        *,
        liquid_in_kg_s: float,
        liquid_out_kg_s: float,
        flash_gas_kg_s: float = 0.0,
        vent_fraction: float,
        pressurization_fraction: float = 0.0,
        pressurization_bar: float = 0.0,
    ) -> None:
        level_fraction = self.mass_kg / self.capacity_kg
        self.boiloff_kg_s = (
            self.heat_leak_kg_s * (0.3 + 0.7 * level_fraction) if self.mass_kg > 0 else 0.0
        )
        net_liquid_kg_s = liquid_in_kg_s - liquid_out_kg_s
        mass = self.mass_kg + (net_liquid_kg_s - self.boiloff_kg_s) * dt_s
        spill_kg = max(mass - self.capacity_kg, 0.0)
        self.mass_kg = clamp(mass, 0.0, self.capacity_kg)
        self.vented_kg_s = self.ullage.step(
            dt_s,
            ullage_fraction=1.0 - level_fraction,
            gas_in_kg_s=self.boiloff_kg_s + flash_gas_kg_s,
            displaced_kg_s=0.005 * net_liquid_kg_s,
            vent_fraction=vent_fraction,
            pressurization_fraction=pressurization_fraction,
            pressurization_bar=pressurization_bar,
        )
        if dt_s > 0:
            self.vented_kg_s += spill_kg / dt_s
        if self.wetted:
            target_k = lox_saturation_k(self.pressure_bar)
            self.temperature_k = relax(
                self.temperature_k, target_k, self.liquid_time_constant_s, dt_s
            )
        else:
            self.temperature_k = relax(
                self.temperature_k, self.ambient_k, self.empty_time_constant_s, dt_s
            )
