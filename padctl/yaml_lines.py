"""Load YAML keeping the line of every mapping key and sequence item, for errors.

Every data file padctl reads (pad, rig, countdown, LCC, procedure, scenario, users) comes
through `load_yaml_with_lines`: whatever is wrong with the file itself (unreadable, binary,
not UTF-8, empty, malformed YAML, not a mapping) is one DataFileError, 'file:line: problem'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from padctl.text_files import DataFileError, read_text_file

Location = tuple[str | int, ...]

MAX_NODES = 1_000_000  # values built from one file: aliases must not expand without end
FileModel = TypeVar("FileModel", bound=BaseModel)


class FileProblems(Exception):
    """A data file that cannot be used; `problems` lists each as 'file:line: field: problem'."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(problems))


class YamlWithLines:
    """A parsed YAML document plus a map from each data path to its 1-based line."""

    def __init__(self, data: Any, lines: dict[Location, int]) -> None:
        self.data = data
        self._lines = lines

    def line_of(self, location: Location) -> int:
        """The line of the deepest part of `location` that exists in the file."""
        for depth in range(len(location), -1, -1):
            line = self._lines.get(tuple(location[:depth]))
            if line is not None:
                return line
        return 1

    def field_name(self, location: Location, labels: tuple[str, ...]) -> str:
        """A readable field path: a list item is named by the first of `labels` it has as a
        key ('tags[LOX-LT-001].range'), by its own text if it is one, else by its index."""
        parts: list[str] = []
        node = self.data
        for part in location:
            if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
                label = node if isinstance(node, str) else None
                if isinstance(node, dict):
                    label = next((node[key] for key in labels if node.get(key)), None)
                item = f"[{label}]" if isinstance(label, str) else f"[{part}]"
                parts[-1:] = [f"{parts[-1]}{item}"] if parts else [item]
                continue
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
        return ".".join(parts) or "document"

    def located_problems(
        self, path: Path, problems: list[tuple[Location, str]], labels: tuple[str, ...]
    ) -> list[str]:
        """Problems at places in this document as 'file:line: field: problem', in file order
        (fields named as by `field_name`)."""
        ordered = sorted(problems, key=lambda problem: self.line_of(problem[0]))
        return [
            f"{path}:{self.line_of(location)}: {self.field_name(location, labels)}: {message}"
            for location, message in ordered
        ]

    def validation_problems(self, path: Path, error: ValidationError) -> list[str]:
        """Each of a model's complaints about this document as 'file:line: field: problem'
        (the field as a dotted path, 'document' for the whole)."""
        problems = []
        for item in error.errors():
            location = tuple(item["loc"])
            field = ".".join(str(part) for part in location) or "document"
            problems.append(f"{path}:{self.line_of(location)}: {field}: {item['msg']}")
        return problems


def load_validated(
    path: Path, model: type[FileModel], error: type[FileProblems]
) -> tuple[YamlWithLines, FileModel]:
    """`path` read as YAML and validated as `model`, with the document for its lines; `error`
    listing every problem with the file itself or its structure if it is not one."""
    try:
        document = load_yaml_with_lines(path)
    except DataFileError as problem:
        raise error(path, [str(problem)]) from None
    try:
        return document, model.model_validate(document.data)
    except ValidationError as problem:
        raise error(path, document.validation_problems(path, problem)) from None


def load_yaml_with_lines(path: Path) -> YamlWithLines:
    """Parse `path` as one YAML mapping; DataFileError (one line, with its line) if it is not."""
    text = read_text_file(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            raise DataFileError(
                path,
                1,
                "document: no YAML in the file (empty, or only comments); "
                "expected a mapping of keys to values",
            )
        if not isinstance(node, yaml.MappingNode):
            found = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
            raise DataFileError(
                path,
                node.start_mark.line + 1,
                f"document: expected a mapping of keys to values, found {found}",
            )
        lines: dict[Location, int] = {}
        data = _Builder(lines).build(node, ())
    except yaml.YAMLError as error:
        raise DataFileError(path, *_yaml_problem(error, text)) from None
    except RecursionError:
        raise DataFileError(path, 1, "yaml: nested too deeply") from None
    return YamlWithLines(data, lines)


def _yaml_problem(error: yaml.YAMLError, text: str) -> tuple[int, str]:
    """The line and a one-line description of a YAML error."""
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, max(error.position, 0)) + 1
        return line, f"yaml: character #x{error.character:04x}: {error.reason}"
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = " ".join(str(error.problem or error).split())
        if error.context:
            context = " ".join(error.context.split())
            joined = problem.startswith("but ")  # "expected X, but found Y" split in two
            problem = f"{context}, {problem}" if joined else f"{problem} ({context})"
        return line, f"yaml: {problem}"
    return 1, f"yaml: {' '.join(str(error).split())}"


class _Builder:
    """Builds Python values from composed nodes, noting lines; refuses cycles and blow-ups."""

    def __init__(self, lines: dict[Location, int]) -> None:
        self.lines = lines
        self.loader = yaml.SafeLoader("")
        self.nodes = 0
        self.open: set[int] = set()  # nodes being built: meeting one again is a cycle

    def build(self, node: yaml.Node, location: Location) -> Any:
        self.lines.setdefault(location, node.start_mark.line + 1)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise yaml.constructor.ConstructorError(
                problem=f"more than {MAX_NODES} values (aliases expanding without end?)",
                problem_mark=node.start_mark,
            )
        if isinstance(node, yaml.ScalarNode):
            return self.loader.construct_object(node)
        if id(node) in self.open:
            raise yaml.constructor.ConstructorError(
                problem="an alias refers to a value that contains it (a cycle)",
                problem_mark=node.start_mark,
            )
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, location)
            return self._sequence(node, location)
        finally:
            self.open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, location: Location) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    problem="a key must be a plain value, not a list or a mapping",
                    problem_mark=key_node.start_mark,
                )
            key = self.loader.construct_object(key_node)
            if key in result:
                raise yaml.constructor.ConstructorError(
                    problem=f"duplicate key {key!r} (a later value would silently win)",
                    problem_mark=key_node.start_mark,
                )
            child = (*location, key)
            self.lines[child] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, child)
        return result

    def _sequence(self, node: yaml.Node, location: Location) -> list[Any]:
        items = []
        for index, item_node in enumerate(node.value):
            child = (*location, index)
            self.lines[child] = item_node.start_mark.line + 1
            items.append(self.build(item_node, child))
        return items


__all__ = ["DataFileError", "Location", "YamlWithLines", "load_yaml_with_lines"]
