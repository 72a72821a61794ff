"""Launch commit criteria: a table of limits on tags, voted, persistent, phase-windowed."""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from padctl.countdown._tclock import parse_t_time
from padctl.definition import PadDefinition, TagType
from padctl.plant import Sample
from padctl.yaml_lines import FileProblems, load_validated


class LccAction(enum.StrEnum):
    AUTO = "auto"  # HOLD before terminal count, CUTOFF (then safing) inside it
    HOLD = "hold"  # always a hold, never a cutoff (advisory criteria)


class _CriterionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^LCC-[A-Z0-9]+-\d{3}$")
    name: str = Field(min_length=1)
    tags: list[str] = Field(min_length=1)
    vote: int = Field(default=1, ge=1)  # violated when at least `vote` of the tags violate
    min_good: int | None = Field(default=None, ge=1)  # a redundant set: see Criterion.assess
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
    min_good: int | None  # None: any non-GOOD sample is NO-GO
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
        return self.assess(samples).reason

    def assess(self, samples: Iterable[Sample]) -> Assessment:
        """Why the criterion is violated now (before persistence), and whom it disqualified.

        Without `min_good`, a non-GOOD sample is NO-GO whatever the vote. With it, the tags are
        a redundant set: the `vote` counts among the GOOD members while at least `min_good`
        are GOOD; a member that is not GOOD is disqualified (reported, not a violation).
        """
        reasons: list[str] = []
        not_good: list[str] = []
        why_not_good: list[str] = []
        good = 0
        for sample in samples:
            reason = self.sample_violates(sample)
            if sample.is_good:
                good += 1
                if reason is not None:
                    reasons.append(reason)
            elif reason is not None:
                not_good.append(reason)
                why_not_good.append(f"{reason} ({sample.reason})" if sample.reason else reason)
        if self.min_good is None:
            if not_good:  # lost or bad data: NO-GO whatever the vote
                return Assessment("; ".join(not_good + reasons), ())
            disqualified: tuple[str, ...] = ()
        else:
            disqualified = tuple(why_not_good)
            if good < self.min_good:
                short = f"{good} of {len(self.tags)} GOOD, min_good {self.min_good}: "
                return Assessment(short + "; ".join(not_good + reasons), disqualified)
        if len(reasons) >= self.vote:
            return Assessment("; ".join(reasons), disqualified)
        return Assessment(None, disqualified)


@dataclass(frozen=True)
class Assessment:
    """A criterion's verdict now: why it is violated (None: it holds), and the members of a
    redundant set it voted without, each as 'TAG QUALITY (why)'."""

    reason: str | None
    disqualified: tuple[str, ...]


class LccError(FileProblems):
    """An LCC table that cannot be used; `problems` lists each as 'file:line: problem'."""


def load_lcc(path: Path, definition: PadDefinition) -> tuple[Criterion, ...]:
    """Load and check an LCC table against a pad; LccError listing every problem."""
    document, parsed = load_validated(path, _LccFile, LccError)
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
        if item.min_good is not None:
            at = f"{path}:{document.line_of(('lcc', index, 'min_good'))}: {item.id}"
            problems.extend(f"{at}: {problem}" for problem in _min_good_problems(item))
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
                min_good=item.min_good,
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


def _min_good_problems(item: _CriterionFile) -> list[str]:
    assert item.min_good is not None
    if item.min_good > len(item.tags):
        return [f"min_good {item.min_good} of {len(item.tags)} tags is impossible"]
    if item.min_good < item.vote:
        return [
            f"min_good {item.min_good} is below vote {item.vote}: with {item.min_good} GOOD "
            "member(s) the vote could never be reached, and a violation never seen"
        ]
    return []


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
    _disqualified: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def disqualified(self) -> dict[str, tuple[str, ...]]:
        """At the last evaluation: criterion id -> the members of its redundant set it voted
        without (criteria active then, with at least one member disqualified)."""
        return dict(self._disqualified)

    def evaluate(self, *, t_s: float, now_s: float) -> list[Violation]:
        """The persistent violations of the criteria active at T-time `t_s`."""
        violations = []
        self._disqualified.clear()
        for criterion in self.criteria:
            if not criterion.active_at(t_s):
                self._since_s.pop(criterion.id, None)
                continue
            assessment = criterion.assess(self.read(tag) for tag in criterion.tags)
            if assessment.disqualified:
                self._disqualified[criterion.id] = assessment.disqualified
            reason = assessment.reason
            if reason is None:
                self._since_s.pop(criterion.id, None)
                continue
            since_s = self._since_s.setdefault(criterion.id, now_s)
            if now_s - since_s >= criterion.persistence_s:
                violations.append(Violation(criterion, reason, since_s))
        return violations

    def active(self, t_s: float) -> list[Criterion]:
        return [criterion for criterion in self.criteria if criterion.active_at(t_s)]
