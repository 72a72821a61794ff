"""What a training run keeps while it plays: its status, and the scenario's faults in play.

Both are parts shared by the trainer (which plays the faults) and the instructor's controls
(which inject, jump back and report), each given them explicitly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from padctl.training._checkpoints import StationCheckpoint
from padctl.training._plan import PlannedFault, TrainingPlan

INSTRUCTOR = "instructor"
UNSCRIPTED = "unscripted-"  # the id of a fault the instructor injected, before its number


class TrainingRefused(ValueError):
    """An instructor control that cannot be carried out now; nothing changed."""


@dataclass
class RunStatus:
    """A run's life: who trains, its rates, when it started and why it ended."""

    trainee: str
    max_rate: float  # the run's starting rate: padctl's timings were scaled for it
    resume_rate: float  # the rate a pause returns to
    started_clock_s: float = 0.0
    end_at_s: float | None = None  # the run is over: it ends (clock seconds) after its grace
    end_why: str = ""
    end_reason: str = ""
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def check_running(self) -> None:
        if self.ended.is_set():
            raise TrainingRefused(f"the run has ended ({self.end_reason})")


@dataclass
class Active:
    """A fault in play: as applied, and until when (clock seconds; None: until repaired)."""

    fault: PlannedFault
    applied: str
    until_s: float | None


class FaultsInPlay:
    """The scenario's faults not yet fired (`pending`), the simulator faults in play
    (`active`), the instructor's declared holds in play (`declared`), and each fault's onset
    (clock seconds, this attempt)."""

    def __init__(self, plan: TrainingPlan) -> None:
        self._plan = plan
        self.pending: list[PlannedFault] = list(plan.faults)
        self.active: dict[str, Active] = {}
        self.declared: dict[str, Active] = {}
        self.onsets: dict[str, float] = {}
        self._unscripted = 0

    def unscripted(self, text: str) -> PlannedFault:
        """A fault the instructor injects now, with the next unscripted id."""
        self._unscripted += 1
        return PlannedFault(id=f"{UNSCRIPTED}{self._unscripted}", text=text)

    def not_injected(self) -> None:
        """The last unscripted fault was refused: its id is free again."""
        self._unscripted -= 1

    def rearm(self, checkpoint: StationCheckpoint, now_s: float) -> dict[str, Active]:
        """After a jump back to `checkpoint`: the faults due after it fire again; those in play
        at it stay in play (their time left as it was then), as from `now_s`. Returns the
        faults in play."""
        taken_s = checkpoint.taken_clock_s
        fired_before = {f for f, onset_s in self.onsets.items() if onset_s <= taken_s}
        self.pending = [
            fault
            for fault in self._plan.faults
            if fault.id not in fired_before
            and (fault.at_t_s is None or fault.at_t_s > checkpoint.count.t_s)
        ]

        def carried(faults: dict[str, Active]) -> dict[str, Active]:
            return {
                fault_id: Active(
                    active.fault,
                    active.applied,
                    None if active.until_s is None else now_s + max(0.0, active.until_s - taken_s),
                )
                for fault_id, active in faults.items()
                if fault_id in fired_before
            }

        self.active = carried(self.active)
        self.declared = carried(self.declared)
        self.onsets = dict.fromkeys([*self.active, *self.declared], now_s)
        return {**self.active, **self.declared}

    def described(self, started_clock_s: float) -> list[dict[str, Any]]:
        """Every fault of the scenario with its state, then the unscripted ones in play."""
        return [self._fault_status(fault, started_clock_s) for fault in self._plan.faults] + [
            {"id": fault_id, "what": active.applied, "state": "active"}
            for fault_id, active in self.active.items()
            if fault_id.startswith(UNSCRIPTED)
        ]

    def _fault_status(self, fault: PlannedFault, started_clock_s: float) -> dict[str, Any]:
        if fault in self.pending:
            state = "armed"
        elif fault.id in self.active or fault.id in self.declared:
            state = "active"
        else:
            state = "cleared" if fault.id in self.onsets else "not fired"
        onset_s = self.onsets.get(fault.id)
        return {
            "id": fault.id,
            "what": fault.label,
            "when": fault.trigger_text,
            "state": state,
            "onset_run_s": None if onset_s is None else round(onset_s - started_clock_s, 1),
        }
