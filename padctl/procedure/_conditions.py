"""Conditions on tags, written as `TAG OP VALUE` (e.g. `LOX-TT-105 <= 95`), judged on GOOD data."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from padctl.definition import PadDefinition, TagType
from padctl.plant import Sample, TagValue

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_PATTERN = re.compile(r"^\s*([A-Z0-9-]+)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$")


class ConditionError(ValueError):
    """A condition that cannot be parsed, or names what the pad does not have."""


@dataclass(frozen=True)
class Condition:
    """A comparison of one tag's value with a constant."""

    tag: str
    op: str
    value: TagValue
    text: str

    def holds(self, sample: Sample) -> bool:
        """True only on a GOOD sample that satisfies the comparison: anything else is NO-GO."""
        if not sample.is_good or sample.value is None:
            return False
        return _OPERATORS[self.op](float(sample.value), float(self.value))

    def describe(self, sample: Sample) -> str:
        """What was seen, for a person: value, quality, and whether it held."""
        if sample.value is None:
            seen = "no value"
        elif isinstance(sample.value, bool):
            seen = str(sample.value).lower()
        else:
            seen = f"{sample.value:.4g}"
        verdict = "ok" if self.holds(sample) else "NOT MET"
        detail = "" if sample.is_good else f" {sample.quality.value}: {sample.reason}"
        return f"{self.tag} = {seen} (needs {self.op} {_show(self.value)}){detail} {verdict}"


def _show(value: TagValue) -> str:
    return str(value).lower() if isinstance(value, bool) else f"{value:g}"


def parse_condition(text: str, definition: PadDefinition) -> Condition:
    """Parse `TAG OP VALUE` against a pad definition; ConditionError naming the problem."""
    match = _PATTERN.match(text)
    if match is None:
        raise ConditionError(
            f"condition {text!r} is not 'TAG OP VALUE' with OP one of {' '.join(_OPERATORS)}"
        )
    name, op, literal = match.groups()
    if not definition.has_tag(name):
        raise ConditionError(f"condition {text!r}: no tag {name!r} in pad {definition.pad!r}")
    tag = definition.tag(name)
    value: TagValue
    if tag.type is TagType.BOOL:
        if literal not in ("true", "false"):
            raise ConditionError(f"condition {text!r}: {name} is bool, compare with true/false")
        if op not in ("==", "!="):
            raise ConditionError(f"condition {text!r}: a bool compares only with == or !=")
        value = literal == "true"
    else:
        try:
            value = float(literal)
        except ValueError:
            raise ConditionError(f"condition {text!r}: {literal!r} is not a number") from None
    return Condition(tag=name, op=op, value=value, text=text.strip())
