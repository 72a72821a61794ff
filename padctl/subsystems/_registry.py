"""Every subsystem of the pad, built against one pad definition."""

from __future__ import annotations

from padctl.alarms import AlarmManager
from padctl.clock import Clock
from padctl.definition import PadDefinition
from padctl.plant import Plant
from padctl.subsystems._compiled import CompiledSubsystem, compile_spec
from padctl.subsystems._context import PadContext
from padctl.subsystems._spec import SubsystemSpec
from padctl.subsystems._subsystem import Subsystem
from padctl.subsystems.cable_mast import CABLE_MAST
from padctl.subsystems.erector import ERECTOR
from padctl.subsystems.fire_suppression import FIRE_SUPPRESSION
from padctl.subsystems.gas_supply import GAS_SUPPLY
from padctl.subsystems.ground_power import GROUND_POWER
from padctl.subsystems.hold_downs import HOLD_DOWNS
from padctl.subsystems.kerosene_loading import KEROSENE_LOADING
from padctl.subsystems.lox_loading import LOX_LOADING
from padctl.subsystems.thermal_conditioning import THERMAL_CONDITIONING
from padctl.subsystems.vehicle_interface import VEHICLE_INTERFACE
from padctl.subsystems.water_deluge import WATER_DELUGE

ALL_SPECS: tuple[SubsystemSpec, ...] = (
    GROUND_POWER,
    GAS_SUPPLY,
    THERMAL_CONDITIONING,
    WATER_DELUGE,
    FIRE_SUPPRESSION,
    ERECTOR,
    CABLE_MAST,
    HOLD_DOWNS,
    VEHICLE_INTERFACE,
    LOX_LOADING,
    KEROSENE_LOADING,
)


def compile_all(
    definition: PadDefinition, specs: tuple[SubsystemSpec, ...] = ALL_SPECS
) -> dict[str, CompiledSubsystem]:
    """Check every spec against the pad; SpecError for the first that does not fit."""
    return {spec.name: compile_spec(spec, definition) for spec in specs}


def build_subsystems(
    *,
    plant: Plant,
    clock: Clock,
    alarms: AlarmManager | None,
    context: PadContext | None = None,
    specs: tuple[SubsystemSpec, ...] = ALL_SPECS,
) -> dict[str, Subsystem]:
    """One running Subsystem per spec, on the given plant, sharing one pad context."""
    shared = context or PadContext()
    return {
        name: Subsystem(compiled, plant=plant, clock=clock, alarms=alarms, context=shared)
        for name, compiled in compile_all(plant.definition, specs).items()
    }
