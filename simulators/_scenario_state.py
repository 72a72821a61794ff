"""The pad model's state as JSON data, for checkpoint files that outlive the process.

`PadModel.snapshot()` keeps the physics as live objects; here they become plain data
(every attribute of every area, valve, tank and motor) and go back onto a model of the
same code. The structure comes from the code, the values from the file: an attribute the
file does not have keeps the model's value; one the code does not have is an error.
"""

from __future__ import annotations

import enum
import math
from typing import Any

from simulators.pad_model import PadModel

MODEL_STATE_FORMAT = 1
_PRIMITIVES = (bool, int, float, str, type(None))


class ModelStateError(ValueError):
    """Pad state data that does not fit the pad model; the message names where."""


def model_state(model: PadModel) -> dict[str, Any]:
    """The model's whole state (physics, sensor faults, time) as JSON-able data."""
    snapshot = model.snapshot()
    faults = snapshot["sensor_faults"]
    return {
        "format": MODEL_STATE_FORMAT,
        "time_s": snapshot["time_s"],
        "plant": _data_of(snapshot["plant"]),
        "sensor_faults": {
            "bias": _data_of(faults.bias),
            "frozen": _data_of(faults.frozen),
            "override": _data_of(faults.override),
        },
    }


def restore_model_state(model: PadModel, state: dict[str, Any]) -> None:
    """Put `state` (from `model_state`) back onto `model`; ModelStateError naming a misfit."""
    if state.get("format") != MODEL_STATE_FORMAT:
        raise ModelStateError(f"pad model state format {state.get('format')!r} is not 1")
    snapshot = model.snapshot()  # fresh objects of the running code, to take the values
    _apply(snapshot["plant"], state["plant"], "plant")
    faults = snapshot["sensor_faults"]
    stored = state.get("sensor_faults", {})
    faults.bias = {str(k): float(v) for k, v in stored.get("bias", {}).items()}
    faults.frozen = {str(k): _number(v) for k, v in stored.get("frozen", {}).items()}
    faults.override = {str(k): _number(v) for k, v in stored.get("override", {}).items()}
    snapshot["time_s"] = float(state["time_s"])
    model.restore(snapshot)


def _number(value: Any) -> Any:
    return value if isinstance(value, bool) else float(_decoded(value))


def _data_of(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, list | tuple):
        return [_data_of(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _data_of(item) for key, item in value.items()}
    if hasattr(value, "__dict__"):
        return {name: _data_of(item) for name, item in vars(value).items()}
    raise ModelStateError(f"cannot keep a {type(value).__name__} in a checkpoint")


def _decoded(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"float"}:
        return float(value["float"])
    return value


def _apply(target: Any, data: Any, where: str) -> None:
    if not isinstance(data, dict):
        raise ModelStateError(f"{where}: expected the attributes of a {type(target).__name__}")
    attributes = vars(target)
    for name, stored in data.items():
        if name not in attributes:  # set by the physics on its first step
            if not isinstance(_decoded(stored), _PRIMITIVES):
                raise ModelStateError(f"{where}.{name}: the pad model has no such part")
            setattr(target, name, _decoded(stored))
            continue
        setattr(target, name, _value(attributes[name], stored, f"{where}.{name}"))


def _value(current: Any, stored: Any, where: str) -> Any:
    stored = _decoded(stored)
    if stored is None:
        return None
    if isinstance(current, enum.Enum):
        return type(current)(stored)
    if isinstance(current, bool) or current is None or isinstance(current, str):
        return stored
    if isinstance(current, int | float):
        return float(stored) if isinstance(current, float) else stored
    if isinstance(current, list | tuple):
        if not isinstance(stored, list) or len(stored) != len(current):
            raise ModelStateError(f"{where}: expected a list of {len(current)}")
        items = [
            _value(old, new, f"{where}[{i}]")
            for i, (old, new) in enumerate(zip(current, stored, strict=True))
        ]
        return type(current)(items)
    if isinstance(current, dict):
        if not isinstance(stored, dict):
            raise ModelStateError(f"{where}: expected a mapping")
        by_text = {str(key): key for key in current}  # JSON keys are text
        result = dict(current)
        for text, item in stored.items():
            key = by_text.get(text, text)
            result[key] = (
                _value(current[key], item, f"{where}[{text}]") if key in current else _decoded(item)
            )
        return result
    _apply(current, stored, where)
    return current
