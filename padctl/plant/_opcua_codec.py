"""OPC UA value coding of the hub (the simulated PLCs have their own, simulators/_codec.py)."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

from asyncua import ua

from padctl.definition import Tag, TagType
from padctl.plant._errors import WriteRefused
from padctl.plant._sample import TagValue
from padctl.plant._value_kind import checked_kind

VARIANT_TYPES = {
    TagType.BOOL: ua.VariantType.Boolean,
    TagType.UINT16: ua.VariantType.UInt16,
    TagType.INT16: ua.VariantType.Int16,
    TagType.INT32: ua.VariantType.Int32,
    TagType.UINT32: ua.VariantType.UInt32,
    TagType.FLOAT32: ua.VariantType.Float,
    TagType.FLOAT64: ua.VariantType.Double,
}
_FLOAT32_MAX = struct.unpack(">f", b"\x7f\x7f\xff\xff")[0]


def encode_value(tag: Tag, value: TagValue) -> bool | int | float:
    """The OPC UA value that carries engineering `value` of `tag` (raw = (value - offset) / scale).

    WriteRefused if it does not fit the tag's type.
    """
    checked = checked_kind(tag, value)
    if isinstance(checked, bool):
        return checked
    number = float(checked)
    limits = tag.type.integer_limits
    if limits is None:
        top = _FLOAT32_MAX if tag.type is TagType.FLOAT32 else math.inf
        if abs(number) > top:
            raise WriteRefused(tag.name, f"value {value!r} does not fit {tag.type.value}")
        return number
    raw = round((number - tag.offset) / tag.scale)
    low, high = limits
    if not low <= raw <= high:
        raise WriteRefused(tag.name, f"raw value {raw} does not fit {tag.type.value}")
    return raw


def decode_value(tag: Tag, raw: Any) -> TagValue:
    """The engineering value of `tag` from its OPC UA value; ValueError if the type is wrong."""
    decoded = value_decoder(tag)(raw)
    if decoded is None:
        raise ValueError(f"{tag.name}: {type(raw).__name__} {raw!r} is not a {tag.type.value}")
    return decoded


_Decoder = Callable[[Any], TagValue | None]


def value_decoder(tag: Tag) -> _Decoder:
    """A function raw -> engineering value, or None when the raw value has the wrong type."""
    if tag.type is TagType.BOOL:
        return lambda raw: raw if isinstance(raw, bool) else None
    if tag.type.integer_limits is not None:
        scale, offset = tag.scale, tag.offset
        if scale == 1.0 and offset == 0.0:
            return lambda raw: raw if type(raw) is int else None
        return lambda raw: raw * scale + offset if type(raw) is int else None
    return lambda raw: float(raw) if type(raw) is float or type(raw) is int else None
