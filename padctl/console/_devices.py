"""The devices a subsystem page draws: the pad definition's actuators, with their signals.

A valve, a pump, a lock or a breaker is one command tag and one or two feedback tags in the
pad definition (`actuators:`). A console derives each device's state (open, closed,
travelling, fault, command and position in disagreement) from those tags; the server only
says which tags make which device, from the definition, never per tag name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from padctl.definition import Actuator, Mechanism, PadDefinition

# What the command's `true` and `false` mean, per kind of actuator.
POSITION_WORDS = {
    "valve": ("open", "closed"),
    "motor": ("running", "stopped"),
    "lock": ("engaged", "released"),
    "breaker": ("closed", "open"),
}


def _title(definition: PadDefinition, actuator: Actuator) -> str:
    """The device's name in words: its command tag's description up to the ` - `."""
    description = definition.tag(actuator.command).description
    return description.split(" - ")[0].strip() or actuator.name


def subsystem_devices(definition: PadDefinition, tags: Iterable[str]) -> list[dict[str, Any]]:
    """The actuators whose command is among a subsystem's `tags`, in definition order."""
    names = set(tags)
    devices = []
    for actuator in definition.actuators:
        if actuator.command not in names:
            continue
        on_word, off_word = POSITION_WORDS[actuator.kind.value]
        devices.append(
            {
                "name": actuator.name,
                "kind": actuator.kind.value,
                "title": _title(definition, actuator),
                "command": actuator.command,
                "on_feedback": actuator.on_feedback,
                "off_feedback": actuator.off_feedback,
                "timeout_s": actuator.timeout_s,
                "on_word": on_word,
                "off_word": off_word,
            }
        )
    devices += [_mechanism(m) for m in definition.mechanisms if set(m.positions.values()) <= names]
    return devices


def _mechanism(mechanism: Mechanism) -> dict[str, Any]:
    return {
        "name": mechanism.name,
        "kind": "mechanism",
        "title": mechanism.title or mechanism.name,
        "positions": dict(mechanism.positions),
        "commands": dict(mechanism.commands),
        "timeout_s": mechanism.timeout_s,
    }
