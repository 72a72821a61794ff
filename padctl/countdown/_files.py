"""Shared error formatting for sequence-like files: every problem as file:line: problem."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from padctl.yaml_lines import YamlWithLines


def structural_problems(path: Path, document: YamlWithLines, error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        location = tuple(item["loc"])
        field = ".".join(str(part) for part in location) or "document"
        problems.append(f"{path}:{document.line_of(location)}: {field}: {item['msg']}")
    return problems
