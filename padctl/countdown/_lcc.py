"""Launch commit criteria: a table of limits on tags, voted, persistent, phase-windowed."""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

from padctl.countdown._tclock import parse_t_time
from padctl.definition import PadDefinition, TagType
from padctl.plant import Sample
from padctl.yaml_lines import load_yaml_with_lines


class LccAction(enum.StrEnum):
    AUTO = "auto"  # HOLD before terminal count, CUTOFF (then safing) inside it
    HOLD = "hold"  # always a hold, never a cutoff (advisory criteria)


class _CriterionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^LCC-[A-Z0-9]+-\d{3}$")
    name: str = Field(min_length=1)
    tags: list[str] = Field(min_length=1)
    vote: int = Field(default=1, ge=1)  # violated when at least `vote` of the tags violate
    low: float | None = None
    high: float | None = None
    equals: StrictBool | None = None
    persistence_s: float = Field(default=0.0, ge=0)
    active_from: str = Field(default="T-99:00:00", alias="from")
    active_to: str = Field(default="T-0", alias="to")
    action: LccAction = LccAction.AUTO
    rationale: str = ""

    @model_validator(mode="after")
    def _one_kind(self) -> _CriterionFile:
        if self.equals is None and self.low is None and self.high is None:
            raise ValueError("a criterion needs low and/or high limits, or equals: true|false")
        if self.equals is not None and (self.low is not None or self.high is not None):
            raise ValueError("a criterion takes limits or equals, not both")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low {self.low} must be below high {self.high}")
        if self.vote > len(self.tags):
            raise ValueError(f"vote {self.vote} of {len(self.tags)} tags is impossible")
        return self


class _LccFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lcc: list[_CriterionFile] = Field(min_length=1)


@dataclass(frozen=True)
class Criterion:
    """One launch commit criterion, checked against a pad definition."""

    id: str
    name: str
    tags: tuple[str, ...]
    vote: int
    low: float | None
    high: float | None
    equals: bool | None
    persistence_s: float
    active_from_s: float  # relative to T-0
    active_to_s: float
    action: LccAction
    line: int

    def active_at(self, t_s: float) -> bool:
        return self.active_from_s <= t_s <= self.active_to_s

    def sample_violates(self, sample: Sample) -> str | None:
        """Why one sample violates this criterion, or None. A non-GOOD sample always does."""
        if not sample.is_good or sample.value is None:
            return f"{sample.tag} {sample.quality.value}"
        if self.equals is not None:
            if bool(sample.value) is not self.equals:
                return f"{sample.tag} = {str(bool(sample.value)).lower()}"
            return None
        value = float(sample.value)
        if math.isnan(value):
            return f"{sample.tag} NaN"
        if self.low is not None and value < self.low:
            return f"{sample.tag} = {value:.4g} < {self.low:g}"
        if self.high is not None and value > self.high:
            return f"{sample.tag} = {value:.4g} > {self.high:g}"
        return None

    def judge(self, samples: Iterable[Sample]) -> str | None:
        """Why the criterion is violated now (before persistence), or None."""
        reasons: list[str] = []
        not_good: list[str] = []
        for sample in samples:
            reason = self.sample_violates(sample)
            if reason is None:
                continue
            (reasons if sample.is_good else not_good).append(reason)
        if not_good:
            return "; ".join(not_good + reasons)  # lost or bad data: NO-GO whatever the vote
        if len(reasons) >= self.vote:
            return "; ".join(reasons)
        return None


class LccError(Exception):
    """An LCC table that cannot be used; `problems` lists each as 'file:line: problem'."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(problems))


def load_lcc(path: Path, definition: PadDefinition) -> tuple[Criterion, ...]:
    """Load and check an LCC table against a pad; LccError listing every problem."""
    from padctl.countdown._files import structural_problems, yaml_problem

    try:
        document = load_yaml_with_lines(path)
    except Exception as error:
        raise LccError(path, [yaml_problem(path, error)]) from error
    try:
        parsed = _LccFile.model_validate(document.data)
    except ValidationError as error:
        raise LccError(path, structural_problems(path, document, error)) from None
    problems: list[str] = []
    criteria = []
    seen: set[str] = set()
    for index, item in enumerate(parsed.lcc):
        line = document.line_of(("lcc", index))
        where = f"{path}:{line}: {item.id}"
        if item.id in seen:
            problems.append(f"{where}: duplicate criterion id")
        seen.add(item.id)
        for tag in item.tags:
            if not definition.has_tag(tag):
                problems.append(f"{where}: no tag {tag!r} in pad {definition.pad!r}")
            elif (definition.tag(tag).type is TagType.BOOL) != (item.equals is not None):
                kind = "bool" if definition.tag(tag).type is TagType.BOOL else "numeric"
                problems.append(
                    f"{where}: {tag} is {kind}: use " + ("equals" if kind == "bool" else "low/high")
                )
        try:
            active_from_s = parse_t_time(item.active_from)
            active_to_s = parse_t_time(item.active_to)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        if active_from_s > active_to_s:
            problems.append(f"{where}: window from {item.active_from} is after to {item.active_to}")
        criteria.append(
            Criterion(
                id=item.id,
                name=item.name,
                tags=tuple(item.tags),
                vote=item.vote,
                low=item.low,
                high=item.high,
                equals=item.equals,
                persistence_s=item.persistence_s,
                active_from_s=active_from_s,
                active_to_s=active_to_s,
                action=item.action,
                line=line,
            )
        )
    if problems:
        raise LccError(path, problems)
    return tuple(criteria)


@dataclass(frozen=True)
class Violation:
    criterion: Criterion
    reason: str
    since_s: float  # clock seconds when the violation began


@dataclass
class LccMonitor:
    """Evaluates every active criterion on every scan; violations count after persistence."""

    criteria: tuple[Criterion, ...]
    read: Callable[[str], Sample]
    _since_s: dict[str, float] = field(default_factory=dict)

    def evaluate(self, *, t_s: float, now_s: float) -> list[Violation]:
        """The persistent violations of the criteria active at T-time `t_s`."""
        violations = []
        for criterion in self.criteria:
            if not criterion.active_at(t_s):
                self._since_s.pop(criterion.id, None)
                continue
            reason = criterion.judge(self.read(tag) for tag in criterion.tags)
            if reason is None:
                self._since_s.pop(criterion.id, None)
                continue
            since_s = self._since_s.setdefault(criterion.id, now_s)
            if now_s - since_s >= criterion.persistence_s:
                violations.append(Violation(criterion, reason, since_s))
        return violations

    def active(self, t_s: float) -> list[Criterion]:
        return [criterion for criterion in self.criteria if criterion.active_at(t_s)]
