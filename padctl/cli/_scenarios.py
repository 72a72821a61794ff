"""Training scenarios on the simulated pad: padctl's scenario loader handed the simulators'
fault words (the CLI is where padctl and the simulators meet)."""

from __future__ import annotations

from pathlib import Path

from padctl.training import Scenario, ScenarioError, checkpoint_path
from padctl.training import load_scenario as load_scenario_with
from padctl.training import scenario_problems as scenario_problems_with
from simulators.training_faults import CHECKPOINTS_DIR, SCENARIOS_DIR, PadFaultWords

__all__ = [
    "CHECKPOINTS_DIR",
    "SCENARIOS_DIR",
    "Scenario",
    "ScenarioError",
    "checkpoint_path",
    "load_scenario",
    "scenario_problems",
]


def load_scenario(path: Path) -> Scenario:
    """A scenario file checked against its pad and the simulated pad's fault words."""
    return load_scenario_with(path, PadFaultWords)


def scenario_problems(path: Path) -> list[str]:
    """Every problem of one scenario file (none: it can run)."""
    return scenario_problems_with(path, PadFaultWords)
