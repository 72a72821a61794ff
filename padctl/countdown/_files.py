"""Shared error formatting for sequence-like files: every problem as file:line: problem."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from padctl.yaml_lines import YamlWithLines


def yaml_problem(path: Path, error: BaseException) -> str:
    if isinstance(error, OSError):
        return f"{path}:1: {error.strerror or error}"
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(error, "problem", None) or str(error)
    return f"{path}:{line}: yaml: {problem}"


def structural_problems(path: Path, document: YamlWithLines, error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        location = tuple(item["loc"])
        field = ".".join(str(part) for part in location) or "document"
        problems.append(f"{path}:{document.line_of(location)}: {field}: {item['msg']}")
    return problems
