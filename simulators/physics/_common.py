"""Shared pieces of the pad physics: value types, tables and numerically safe updates."""

from __future__ import annotations

import math
from collections.abc import Callable

Value = float | bool | int
"""An engineering value of a tag: a measurement or a command."""

Outputs = dict[str, Value]
"""Measured tag name -> engineering value, filled in by each area's `outputs`."""

CommandTable = dict[str, Callable[[Value], None]]
"""Writable tag name -> the setter that hands the PLC-held value to the physics."""

ZERO_C_IN_K = 273.15
ATMOSPHERE_BAR = 1.01325


def clamp(value: float, low: float, high: float) -> float:
    """`value` limited to [low, high]."""
    return low if value < low else high if value > high else value


def relax(value: float, target: float, tau_s: float, dt_s: float) -> float:
    """First-order lag toward `target`, exact for a constant target, so stable for any dt."""
    if tau_s <= 0:
        return target
    return target + (value - target) * math.exp(-dt_s / tau_s)


def approach(value: float, target: float, max_step: float) -> float:
    """Move `value` toward `target` by at most `max_step` (a rate limit)."""
    if value < target:
        return min(value + max_step, target)
    return max(value - max_step, target)


def as_bool(value: Value) -> bool:
    """A command value as the PLC's coil would hold it."""
    return bool(value)


def as_float(value: Value, default: float) -> float:
    """A command value as a number; a NaN or infinite value keeps `default` (the PLC ignores it)."""
    number = float(value)
    return number if math.isfinite(number) else default
