"""Load YAML keeping the line of every mapping key and sequence item, for errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Location = tuple[str | int, ...]


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


def load_yaml_with_lines(path: Path) -> YamlWithLines:
    """Parse `path`; raise yaml.YAMLError (with its own line) on malformed YAML."""
    text = path.read_text(encoding="utf-8")
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[Location, int] = {}
    if node is None:
        return YamlWithLines(None, {(): 1})
    data = _construct(node, (), lines, yaml.SafeLoader(""))
    return YamlWithLines(data, lines)


def _construct(
    node: yaml.Node, location: Location, lines: dict[Location, int], loader: yaml.SafeLoader
) -> Any:
    lines.setdefault(location, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            if key in result:
                raise yaml.constructor.ConstructorError(
                    problem=f"duplicate key {key!r} (a later value would silently win)",
                    problem_mark=key_node.start_mark,
                )
            child = (*location, key)
            lines[child] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, child, lines, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item_node in enumerate(node.value):
            child = (*location, index)
            lines[child] = item_node.start_mark.line + 1
            items.append(_construct(item_node, child, lines, loader))
        return items
    return loader.construct_object(node)
