"""Training scenarios: the faults an instructor scripts and the responses the team owes.

A scenario file (simulators/scenarios/*.yaml, beside the simulated pad whose faults it
scripts) names the pad, the countdown profile, the
clock rate, where the count starts (a checkpoint of the nominal count at a T-time), the
faults (simulator fault words or a declared hold, at a T-time or when a condition first
holds) and the expected responses (hold, cutoff, recycle, acknowledge, safe, reset,
command, resume, scrub) with the clock seconds each may take. Loaded like a sequence file:
every problem is reported as `file:line: field: problem`.

The fault words are the simulated pad's: the loader is handed the pad's `FaultWords` (the
CLI composes them, `padctl/cli/_scenarios.py`), so padctl never imports a simulator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from padctl.countdown import (
    CountdownSequence,
    Criterion,
    LccError,
    SequenceError,
    format_t_time,
    load_lcc,
    load_sequence,
    parse_duration,
    parse_t_time,
)
from padctl.definition import (
    DefinitionError,
    PadDefinition,
    load_pad_definition,
    reference_pad_path,
)
from padctl.procedure import ConditionError, parse_condition, sequences_dir
from padctl.subsystems import ALL_SPECS, subsystem_of_alarm
from padctl.training._plan import (
    EndWhen,
    ExpectedResponse,
    PlannedFault,
    ResponseKind,
    TrainingPlan,
)
from padctl.yaml_lines import FileProblems, load_validated

KINDS = tuple(kind.value for kind in ResponseKind)


class FaultWords(Protocol):
    """The fault words of the pad a scenario runs on."""

    def check(self, text: str) -> str:
        """`text` in the words the pad takes; ValueError naming what is wrong with it."""

    def undo(self, text: str) -> str:
        """The words that take the fault `text` away again ('' when nothing does)."""


FaultWordsOf = Callable[[PadDefinition], FaultWords]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _FaultFile(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    at: str | None = None  # a T-time
    when: str | None = None  # a condition on a tag, e.g. "LOX-LT-101 > 60"
    fault: str | None = None  # simulator fault words (padctl sim's)
    hold: str | None = None  # or an instructor-declared hold, with its reason
    lasts_s: float | None = Field(default=None, gt=0)
    fixed_by: Literal["recycle", "resume"] | None = None

    @model_validator(mode="after")
    def _one_of_each(self) -> _FaultFile:
        if (self.at is None) == (self.when is None):
            raise ValueError("give exactly one of 'at' (a T-time) and 'when' (a condition)")
        if (self.fault is None) == (self.hold is None):
            raise ValueError("give exactly one of 'fault' (simulator words) and 'hold' (a reason)")
        return self


class _ExpectFile(_Strict):
    hold: bool | str | None = None
    cutoff: bool | str | None = None
    recycle: str | None = None
    acknowledge: str | None = None
    safe: str | None = None
    reset: str | None = None
    command: str | None = None
    resume: bool | None = None
    scrub: bool | str | None = None
    within_s: float = Field(gt=0)
    after: str | None = None  # the fault it answers (default: the first)
    by: Literal["team", "any"] = "any"

    @model_validator(mode="after")
    def _one_kind(self) -> _ExpectFile:
        given = [kind for kind in KINDS if getattr(self, kind) not in (None, False)]
        if len(given) != 1:
            raise ValueError(f"give exactly one response of: {', '.join(KINDS)}")
        return self

    def kind_and_target(self) -> tuple[ResponseKind, str]:
        kind = next(k for k in KINDS if getattr(self, k) not in (None, False))
        value = getattr(self, kind)
        return ResponseKind(kind), "" if value is True else str(value)


class _WindowFile(_Strict):
    close: str | float  # L-time of today's window close (overrides the sequence's)


class _AutopilotFile(_Strict):
    reaction_s: float = Field(default=10.0, ge=0)


class _ScenarioFile(_Strict):
    scenario: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    description: str = ""
    pad: str = "reference"  # or a pad definition file, relative to the scenario
    sequence: str | None = None  # a countdown file, relative to the scenario
    lcc: str | None = None
    profile: str = "test-flight"
    rate: float = Field(gt=0, le=1000)
    start: str | None = None  # a T-time: start from a checkpoint of the nominal count
    window: _WindowFile | None = None
    faults: list[_FaultFile] = Field(default_factory=list)
    expect: list[_ExpectFile] = Field(default_factory=list)
    plot: list[str] = Field(default_factory=list)
    end: Literal["responses", "count"] = "responses"
    grace_s: float = Field(default=60.0, ge=0)
    time_limit_s: float = Field(default=7200.0, gt=0)
    autopilot: _AutopilotFile = Field(default_factory=_AutopilotFile)


@dataclass(frozen=True)
class Scenario:
    """A loaded, checked scenario: the plan padctl runs, and what it runs against."""

    path: Path
    plan: TrainingPlan
    definition: PadDefinition
    definition_path: Path
    sequence: CountdownSequence
    sequence_path: Path
    lcc: tuple[Criterion, ...]
    lcc_path: Path

    def source_files(self) -> dict[str, Path]:
        """The files a checkpoint of this scenario's count depends on."""
        return {"pad": self.definition_path, "sequence": self.sequence_path, "lcc": self.lcc_path}


class ScenarioError(FileProblems):
    """A scenario that cannot run; `problems` lists each as 'file:line: field: problem'."""


def checkpoint_path(folder: Path, sequence: CountdownSequence, t_s: float) -> Path:
    """Where the nominal count's checkpoint at `t_s` is kept for `sequence`."""
    name = format_t_time(t_s).replace(":", "-")
    return folder / sequence.name / sequence.profile / f"{name}.json"


def scenario_problems(path: Path, fault_words: FaultWordsOf) -> list[str]:
    """Every problem of one scenario file (none: it can run)."""
    try:
        load_scenario(path, fault_words)
    except ScenarioError as error:
        return list(error.problems)
    return []


def load_scenario(path: Path, fault_words: FaultWordsOf) -> Scenario:
    """Load and check a scenario against its pad, countdown and LCC, its faults against
    `fault_words(pad)`; ScenarioError if not."""
    document, parsed = load_validated(path, _ScenarioFile, ScenarioError)
    problems: list[str] = []

    def at(field: str, *location: str | int) -> str:
        return f"{path}:{document.line_of(tuple(location))}: {field}"

    base = path.parent
    definition_path = (
        reference_pad_path() if parsed.pad == "reference" else (base / parsed.pad).resolve()
    )
    sequence_path = (
        (base / parsed.sequence).resolve()
        if parsed.sequence
        else sequences_dir() / "countdown.yaml"
    )
    lcc_path = (base / parsed.lcc).resolve() if parsed.lcc else sequences_dir() / "lcc.yaml"
    try:
        definition = load_pad_definition(definition_path)
        sequence = load_sequence(
            sequence_path, profile=parsed.profile, definition=definition, specs=ALL_SPECS
        )
        criteria = load_lcc(lcc_path, definition)
    except DefinitionError as error:
        raise ScenarioError(path, [f"{at('pad', 'pad')}: {p}" for p in error.problems]) from None
    except (SequenceError, LccError) as error:
        where = at("profile" if isinstance(error, SequenceError) else "lcc", "profile")
        raise ScenarioError(path, [f"{where}: {p}" for p in error.problems]) from None

    def t_time(text: str, field: str, *location: str | int) -> float | None:
        try:
            return parse_t_time(text)
        except ValueError as error:
            problems.append(f"{at(field, *location)}: {error}")
            return None

    start_t_s = t_time(parsed.start, "start", "start") if parsed.start else None
    if start_t_s is not None and not sequence.start_t_s <= start_t_s < 0:
        problems.append(f"{at('start', 'start')}: {parsed.start} is not within the count")
    if parsed.window is not None:
        try:
            close_l_s = parse_duration(parsed.window.close)
            if close_l_s <= sequence.window_open_l_s:
                problems.append(f"{at('window.close', 'window')}: closes before it opens")
            sequence = dataclasses.replace(sequence, window_close_l_s=close_l_s)
        except ValueError as error:
            problems.append(f"{at('window.close', 'window')}: {error}")
    words = fault_words(definition)
    faults: list[PlannedFault] = []
    for index, item in enumerate(parsed.faults):
        place: tuple[str, int] = ("faults", index)
        fault_at = t_time(item.at, f"faults.{index}.at", *place) if item.at else None
        begins_s = sequence.start_t_s if start_t_s is None else start_t_s
        if fault_at is not None and fault_at < begins_s:
            problems.append(f"{at(f'faults.{index}.at', *place)}: before the scenario's start")
        when = None
        if item.when is not None:
            try:
                when = parse_condition(item.when, definition)
            except ConditionError as error:
                problems.append(f"{at(f'faults.{index}.when', *place, 'when')}: {error}")
        text = ""
        if item.fault is not None:
            try:
                text = words.check(item.fault)
            except ValueError as error:
                problems.append(f"{at(f'faults.{index}.fault', *place, 'fault')}: {error}")
        if (
            item.hold is not None
            and fault_at is not None
            and fault_at >= (sequence.terminal_count_t_s)
        ):
            problems.append(
                f"{at(f'faults.{index}.hold', *place)}: a declared hold in the terminal count "
                "would be a cutoff"
            )
        if any(f.id == item.id for f in faults):
            problems.append(f"{at(f'faults.{index}.id', *place)}: fault id {item.id} used twice")
        faults.append(
            PlannedFault(
                id=item.id,
                text=text,
                hold_reason=item.hold or "",
                at_t_s=fault_at,
                when=when,
                lasts_s=item.lasts_s,
                fixed_by=item.fixed_by,
                undo=words.undo(text) if text else "",
                line=document.line_of(place),
            )
        )
    expect = [
        _response(item, index, faults, sequence, problems, at, document.line_of)
        for index, item in enumerate(parsed.expect)
    ]
    for index, tag in enumerate(parsed.plot):
        if not definition.has_tag(tag):
            problems.append(f"{at(f'plot.{index}', 'plot', index)}: no tag {tag!r} on the pad")
    if problems:
        raise ScenarioError(path, problems)
    plan = TrainingPlan(
        name=parsed.scenario,
        title=parsed.title,
        description=parsed.description.strip(),
        profile=parsed.profile,
        rate=parsed.rate,
        faults=tuple(faults),
        expect=tuple(response for response in expect if response is not None),
        start_t_s=start_t_s,
        plot_tags=tuple(parsed.plot),
        end_when=EndWhen(parsed.end),
        grace_s=parsed.grace_s,
        time_limit_s=parsed.time_limit_s,
        reaction_s=parsed.autopilot.reaction_s,
    )
    return Scenario(
        path=path,
        plan=plan,
        definition=definition,
        definition_path=definition_path,
        sequence=sequence,
        sequence_path=sequence_path,
        lcc=criteria,
        lcc_path=lcc_path,
    )


def _response(
    item: _ExpectFile,
    index: int,
    faults: list[PlannedFault],
    sequence: CountdownSequence,
    problems: list[str],
    at: Any,
    line_of: Any,
) -> ExpectedResponse | None:
    kind, target = item.kind_and_target()
    where = ("expect", index)
    field = f"expect.{index}.{kind.value}"
    after = item.after or (faults[0].id if faults else "")
    if not faults:
        problems.append(f"{at(field, *where)}: a response needs a fault to answer")
    elif not any(fault.id == after for fault in faults):
        known = ", ".join(fault.id for fault in faults)
        problems.append(f"{at(f'expect.{index}.after', *where)}: no fault {after!r} ({known})")
    specs = {spec.name: spec for spec in ALL_SPECS}
    problem = ""
    if kind is ResponseKind.RECYCLE:
        points = [point.id for point in sequence.recycle_points]
        if target not in points:
            problem = f"no recycle point {target!r} (known: {', '.join(points)})"
    elif kind is ResponseKind.ACKNOWLEDGE:
        if subsystem_of_alarm(target, list(specs)) is None:
            problem = (
                f"no alarm {target!r} (alarms are SUBSYSTEM-FAULT, -SAFING-FAILED, -UNCOMMANDED)"
            )
    elif kind in (ResponseKind.SAFE, ResponseKind.RESET) and target not in specs:
        problem = f"no subsystem {target!r} (known: {', '.join(specs)})"
    elif kind is ResponseKind.COMMAND:
        subsystem, _, command = target.partition(".")
        if subsystem not in specs:
            problem = f"no subsystem {subsystem!r} in {target!r}"
        elif command not in {c.name for c in specs[subsystem].commands}:
            problem = f"subsystem {subsystem} has no command {command!r}"
    if problem:
        problems.append(f"{at(field, *where, kind.value)}: {problem}")
        return None
    return ExpectedResponse(
        kind=kind,
        target=target,
        after=after,
        within_s=item.within_s,
        by_team=item.by == "team",
        line=line_of(where),
    )
