"""A kerosene (RG-1) tank: liquid mass and level, fuel temperature by mixing, ullage pressure."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulators.physics._common import clamp, relax
from simulators.physics._ullage import UllageGas

RG1_DENSITY_KG_M3 = 830.0


def kg_s_to_m3_h(flow_kg_s: float) -> float:
    """Mass flow of RG-1 to volume flow."""
    return flow_kg_s / RG1_DENSITY_KG_M3 * 3600.0


@dataclass
class KeroseneTank:
    """An RG-1 tank: no boil-off; incoming fuel mixes into the bulk temperature.

    The bulk drifts toward ambient with `ambient_time_constant_s`; an empty tank's probe
    reads the air in it. Displaced ullage vapour leaves through an open vent.
    """

    capacity_kg: float
    mass_kg: float
    temperature_c: float
    ullage: UllageGas
    ambient_c: float = 15.0
    ambient_time_constant_s: float = 6 * 3600.0
    empty_time_constant_s: float = 600.0
    vented_kg_s: float = field(default=0.0, init=False)

    @property
    def level_pct(self) -> float:
        return 100.0 * self.mass_kg / self.capacity_kg

    @property
    def pressure_bar(self) -> float:
        return self.ullage.pressure_bar

    def step(
        self,
        dt_s: float,
        *,
        liquid_in_kg_s: float,
        liquid_in_temperature_c: float,
        liquid_out_kg_s: float,
        vent_fraction: float,
        pressurization_fraction: float = 0.0,
        pressurization_bar: float = 0.0,
        heating_k_s: float = 0.0,
    ) -> None:
        level_fraction = self.mass_kg / self.capacity_kg
        added_kg = liquid_in_kg_s * dt_s
        if added_kg > 0:
            kept_kg = max(self.mass_kg - liquid_out_kg_s * dt_s, 0.0)
            self.temperature_c += (
                (liquid_in_temperature_c - self.temperature_c) * added_kg / (kept_kg + added_kg)
            )
        net_liquid_kg_s = liquid_in_kg_s - liquid_out_kg_s
        mass = self.mass_kg + net_liquid_kg_s * dt_s
        self.mass_kg = clamp(mass, 0.0, self.capacity_kg)
        self.vented_kg_s = self.ullage.step(
            dt_s,
            ullage_fraction=1.0 - level_fraction,
            gas_in_kg_s=0.0,
            displaced_kg_s=0.004 * net_liquid_kg_s,
            vent_fraction=vent_fraction,
            pressurization_fraction=pressurization_fraction,
            pressurization_bar=pressurization_bar,
        )
        if self.mass_kg > 0.005 * self.capacity_kg:
            self.temperature_c += heating_k_s * dt_s
            tau_s = self.ambient_time_constant_s
        else:
            tau_s = self.empty_time_constant_s
        self.temperature_c = relax(self.temperature_c, self.ambient_c, tau_s, dt_s)
