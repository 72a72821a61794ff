"""A training run's plan: the faults an instructor scripted and the responses expected.

Scenario files (simulators/scenarios/*.yaml, loaded by padctl.training._scenario) become plans;
padctl's side of a run (trainer, autopilot, scoring, report) reads only these types.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from padctl.countdown import format_t_time
from padctl.procedure import Condition


class ResponseKind(enum.StrEnum):
    """What the team is expected to do (or see done) after a fault."""

    HOLD = "hold"  # the count holds (target: a fragment of the hold's reason, or "")
    CUTOFF = "cutoff"  # the count cuts off (abort, LCC or command fault in terminal count)
    RECYCLE = "recycle"  # the count is recycled to a point (target: the point's id)
    ACKNOWLEDGE = "acknowledge"  # an alarm is acknowledged (target: the alarm's id)
    SAFE = "safe"  # a subsystem is made safe by a person (target: the subsystem)
    RESET = "reset"  # a faulted subsystem is reset to its safe state (target: the subsystem)
    COMMAND = "command"  # an operator command is given (target: "subsystem.command")
    RESUME = "resume"  # the count resumes
    SCRUB = "scrub"  # the count is scrubbed


# The kinds that only a person can do: the countdown never does them by itself.
TEAM_ONLY = frozenset(
    {ResponseKind.ACKNOWLEDGE, ResponseKind.SAFE, ResponseKind.RESET, ResponseKind.COMMAND}
)


@dataclass(frozen=True)
class ExpectedResponse:
    """One response the team owes after a fault, within `within_s` clock seconds.

    The time counts from the fault's onset; for an acknowledgement, from the alarm's first
    activation after the onset. `by_team`: done by a person at a console, not by the
    countdown on its own (always so for TEAM_ONLY kinds).
    """

    kind: ResponseKind
    target: str
    after: str  # the id of the fault it answers
    within_s: float
    by_team: bool = False
    line: int = 0

    @property
    def label(self) -> str:
        text = self.kind.value + (f" {self.target}" if self.target else "")
        return text + (" (by the team)" if self.by_team and self.kind not in TEAM_ONLY else "")


@dataclass(frozen=True)
class PlannedFault:
    """A fault the instructor scripted: simulator words, or a declared hold.

    It fires at a T-time (`at_t_s`) or when a condition first holds (`when`). It lasts
    `lasts_s` clock seconds (then `undo` is played), or until the team recycles or resumes
    (`fixed_by`: the pad crew's repair), or for good.
    """

    id: str
    text: str = ""  # simulator fault words ("stuck LOX-VV-101"); "" for a declared hold
    hold_reason: str = ""  # an instructor-declared hold (weather, range) instead
    at_t_s: float | None = None
    when: Condition | None = None
    lasts_s: float | None = None
    fixed_by: str | None = None  # "recycle" or "resume"
    undo: str = ""  # the words that take the fault away again ("" when none)
    line: int = 0

    @property
    def trigger_text(self) -> str:
        if self.when is not None:
            return f"when {self.when.text}"
        return "at " + format_t_time(self.at_t_s or 0.0)

    @property
    def label(self) -> str:
        return self.text or f"hold: {self.hold_reason}"


class EndWhen(enum.StrEnum):
    RESPONSES = "responses"  # every expected response is scored (then a grace time)
    COUNT = "count"  # the count has ended (liftoff, scrub)


@dataclass(frozen=True)
class TrainingPlan:
    """Everything padctl needs to run, drive and score one scenario."""

    name: str
    title: str
    profile: str
    rate: float
    faults: tuple[PlannedFault, ...]
    expect: tuple[ExpectedResponse, ...]
    description: str = ""
    start_t_s: float | None = None  # from a checkpoint of the nominal count at this T-time
    plot_tags: tuple[str, ...] = ()
    end_when: EndWhen = EndWhen.RESPONSES
    grace_s: float = 60.0  # clock seconds the run goes on after the last response
    time_limit_s: float = 7200.0  # clock seconds after the start: the run ends regardless
    reaction_s: float = 10.0  # the autopilot's delay before each response (clock seconds)

    def fault(self, fault_id: str) -> PlannedFault:
        for fault in self.faults:
            if fault.id == fault_id:
                return fault
        raise KeyError(f"scenario {self.name} has no fault {fault_id!r}")
