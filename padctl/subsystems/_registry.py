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
from padctl.subsystems.ground_power import GROUND_POWER

ALL_SPECS: tuple[SubsystemSpec, ...] = (GROUND_POWER,)


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
