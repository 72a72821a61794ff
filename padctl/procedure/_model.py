"""Procedure files: reviewable steps of commands, permissives and expected feedback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from padctl.definition import PadDefinition
from padctl.plant import TagValue, WriteRefused
from padctl.plant._plant import check_write
from padctl.procedure._conditions import Condition, ConditionError, parse_condition
from padctl.yaml_lines import (
    FileProblems,
    Location,
    YamlWithLines,
    load_validated,
)


class ProcedureError(FileProblems):
    """A procedure file is invalid; `problems` lists each as 'file:line: problem'."""


class _StepFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: str = Field(min_length=1)
    require: list[str] = Field(default_factory=list)
    write: dict[str, StrictBool | float] = Field(default_factory=dict)
    expect: list[str] = Field(default_factory=list)
    within_s: float = Field(default=10.0, gt=0)


class _ProcedureFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    procedure: str = Field(min_length=1)
    description: str = ""
    steps: list[_StepFile] = Field(min_length=1)


class Step(BaseModel):
    """One step: permissives (checked on fresh GOOD data), writes, and expected feedback."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    require: tuple[Condition, ...]
    write: tuple[tuple[str, TagValue], ...]
    expect: tuple[Condition, ...]
    within_s: float
    line: int


class Procedure(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    steps: tuple[Step, ...]
    path: Path


def load_procedure(path: Path, definition: PadDefinition) -> Procedure:
    """Load and validate a procedure against a pad; ProcedureError listing every problem."""
    document, parsed = load_validated(path, _ProcedureFile, ProcedureError)
    problems: list[str] = []
    steps = [
        _build_step(index, step, document, definition, path, problems)
        for index, step in enumerate(parsed.steps)
    ]
    if problems:
        raise ProcedureError(path, problems)
    return Procedure(
        name=parsed.procedure, description=parsed.description, steps=tuple(steps), path=path
    )


def _build_step(
    index: int,
    step: _StepFile,
    document: YamlWithLines,
    definition: PadDefinition,
    path: Path,
    problems: list[str],
) -> Step:
    at: Location = ("steps", index)

    def conditions(field: str, texts: list[str]) -> tuple[Condition, ...]:
        parsed: list[Condition] = []
        for position, text in enumerate(texts):
            try:
                parsed.append(parse_condition(text, definition))
            except ConditionError as error:
                line = document.line_of((*at, field, position))
                problems.append(f"{path}:{line}: step {step.step!r}: {field}: {error}")
        return tuple(parsed)

    writes: list[tuple[str, TagValue]] = []
    for name, value in step.write.items():
        try:
            check_write(definition, name, value)
        except WriteRefused as refusal:
            line = document.line_of((*at, "write", name))
            problems.append(f"{path}:{line}: step {step.step!r}: write: {refusal}")
        writes.append((name, value))
    return Step(
        name=step.step,
        require=conditions("require", step.require),
        write=tuple(writes),
        expect=conditions("expect", step.expect),
        within_s=step.within_s,
        line=document.line_of(at),
    )


def procedure_summary(procedure: Procedure) -> list[dict[str, Any]]:
    """The planned steps as plain data (for dry runs)."""
    return [
        {
            "step": step.name,
            "require": [c.text for c in step.require],
            "write": dict(step.write),
            "expect": [c.text for c in step.expect],
            "within_s": step.within_s,
        }
        for step in procedure.steps
    ]
