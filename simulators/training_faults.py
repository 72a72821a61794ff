"""The simulated pad's side of a training scenario: where scenario files are kept, and the
fault words a scenario (or `padctl countdown --inject`) may script, checked against the pad
model before anything runs (padctl.training's `FaultWords`)."""

from __future__ import annotations

from pathlib import Path

from padctl.definition import PadDefinition
from simulators._scenario_pad import check_fault, undo_of
from simulators.pad_model import PadModel

SCENARIOS_DIR = Path(__file__).parent / "scenarios"
CHECKPOINTS_DIR = SCENARIOS_DIR / "checkpoints"


class PadFaultWords:
    """The fault words of `padctl sim` (plus `fire ZONE`) on one pad."""

    def __init__(self, definition: PadDefinition) -> None:
        self._model = PadModel(definition)
        self._plcs = tuple(plc.id for plc in definition.plcs)

    def check(self, text: str) -> str:
        return check_fault(text, self._model, self._plcs)

    def undo(self, text: str) -> str:
        return undo_of(text)
