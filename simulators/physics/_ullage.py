"""Ullage pressure of a propellant tank: gas added, vented, pressurized and relieved."""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulators.physics._common import clamp

MIN_ULLAGE_FRACTION = 0.03
"""The smallest gas space a full tank keeps (the level probes sit below the dome)."""


@dataclass
class UllageGas:
    """The gas space above the liquid, in gauge bar.

    Gas entering it (boil-off, flash, liquid displacing the ullage) raises the pressure the
    more the smaller the ullage; an open vent blows it down with `vent_time_constant_s`; a
    pressurization line drives it toward its regulated pressure; the relief valve caps it.
    """

    pressure_bar: float
    relief_bar: float
    bar_per_kg_at_full: float  # pressure rise per kg of gas with the smallest ullage
    vent_time_constant_s: float = 4.0
    pressurization_time_constant_s: float = 20.0

    def step(
        self,
        dt_s: float,
        *,
        ullage_fraction: float,
        gas_in_kg_s: float,
        displaced_kg_s: float,
        vent_fraction: float,
        pressurization_fraction: float,
        pressurization_bar: float,
    ) -> float:
        """Advance; returns the gas vented this step as kg/s (for area gas analyzers)."""
        ullage = max(ullage_fraction, MIN_ULLAGE_FRACTION)
        gain = self.bar_per_kg_at_full * MIN_ULLAGE_FRACTION / ullage
        pressure = self.pressure_bar + gain * (gas_in_kg_s + displaced_kg_s) * dt_s
        if pressurization_fraction > 0 and pressure < pressurization_bar:
            rate = pressurization_fraction / self.pressurization_time_constant_s
            pressure = pressurization_bar + (pressure - pressurization_bar) * math.exp(-rate * dt_s)
        before_vent = pressure
        if vent_fraction > 0:
            pressure *= math.exp(-dt_s * vent_fraction / self.vent_time_constant_s)
        self.pressure_bar = clamp(pressure, 0.0, self.relief_bar)
        vented_bar = before_vent - pressure + max(pressure - self.relief_bar, 0.0)
        return max(vented_bar, 0.0) / gain / dt_s if dt_s > 0 else 0.0
