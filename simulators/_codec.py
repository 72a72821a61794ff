"""The simulated PLCs' own value coding, written from the pad definition's conventions.

It shares no code with padctl's client codecs on purpose: a word-order, sign or scaling
mistake in either then shows up as a disagreement on the wire, instead of cancelling out in
every round trip. `tests/test_codec_golden_vectors.py` pins both to the same register values.

The conventions (the fields of `Tag` and `ModbusPlc` in the pad definition):
- an integer tag carries raw = round((engineering - offset) / scale); engineering = raw *
  scale + offset;
- a register holds 16 bits, high byte first; a 32- or 64-bit value spans 2 or 4 consecutive
  registers, the most significant word first (word order "big") or the least significant
  word first ("little"), the tag's word order overriding its PLC's;
- signed integers are two's complement; floats are IEEE 754;
- a failed channel (NaN) of an integer tag carries the tag's `fail_raw` (0 when it declares
  none); a float channel carries the NaN itself.

A simulated PLC forces what does not fit to the nearest value its type can carry, as a real
PLC's output stage would; it never refuses (padctl's own codec refuses instead).
"""

from __future__ import annotations

import math
import struct

from asyncua import ua

from padctl.definition import Tag, TagType, WordOrder

# A tag's value as a PLC holds it (engineering units; NaN for a failed channel).
TagValue = float | int | bool

# (bits, signed) of each integer type
_INTEGER_WIDTH = {
    TagType.UINT16: (16, False),
    TagType.INT16: (16, True),
    TagType.UINT32: (32, False),
    TagType.INT32: (32, True),
}
_FLOAT_FORMAT = {TagType.FLOAT32: (32, ">f"), TagType.FLOAT64: (64, ">d")}
_LARGEST_FLOAT32 = (2 - 2**-23) * 2.0**127

OPCUA_VARIANT_TYPE = {
    TagType.BOOL: ua.VariantType.Boolean,
    TagType.UINT16: ua.VariantType.UInt16,
    TagType.INT16: ua.VariantType.Int16,
    TagType.UINT32: ua.VariantType.UInt32,
    TagType.INT32: ua.VariantType.Int32,
    TagType.FLOAT32: ua.VariantType.Float,
    TagType.FLOAT64: ua.VariantType.Double,
}


def _integer_bounds(tag_type: TagType) -> tuple[int, int]:
    bits, signed = _INTEGER_WIDTH[tag_type]
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def raw_integer(tag: Tag, value: TagValue) -> int:
    """The raw integer an integer tag carries for engineering `value`, forced into its type."""
    number = float(value)
    if math.isnan(number):
        return 0 if tag.fail_raw is None else tag.fail_raw
    low, high = _integer_bounds(tag.type)
    if math.isinf(number):
        return high if number > 0 else low
    return min(max(round((number - tag.offset) / tag.scale), low), high)


def _float_in_range(tag_type: TagType, value: TagValue) -> float:
    number = float(value)
    if tag_type is TagType.FLOAT32 and math.isfinite(number):
        return min(max(number, -_LARGEST_FLOAT32), _LARGEST_FLOAT32)
    return number


def modbus_registers(tag: Tag, value: TagValue, plc_word_order: WordOrder) -> list[int]:
    """The registers a register tag occupies when it holds engineering `value`."""
    if tag.type in _FLOAT_FORMAT:
        bits, fmt = _FLOAT_FORMAT[tag.type]
        pattern = int.from_bytes(struct.pack(fmt, _float_in_range(tag.type, value)), "big")
    else:
        bits, _ = _INTEGER_WIDTH[tag.type]
        pattern = raw_integer(tag, value) % (1 << bits)  # two's complement
    word_count = bits // 16
    words = [(pattern >> (16 * place)) & 0xFFFF for place in reversed(range(word_count))]
    if (tag.word_order or plc_word_order) is WordOrder.LITTLE:
        words.reverse()
    return words


def modbus_value(tag: Tag, registers: list[int], plc_word_order: WordOrder) -> TagValue:
    """The engineering value of a register tag from the registers it occupies."""
    bits = _FLOAT_FORMAT[tag.type][0] if tag.type in _FLOAT_FORMAT else _INTEGER_WIDTH[tag.type][0]
    words = list(registers[: bits // 16])
    if (tag.word_order or plc_word_order) is WordOrder.LITTLE:
        words.reverse()
    pattern = 0
    for word in words:
        pattern = (pattern << 16) | word
    if tag.type in _FLOAT_FORMAT:
        _, fmt = _FLOAT_FORMAT[tag.type]
        return float(struct.unpack(fmt, pattern.to_bytes(bits // 8, "big"))[0])
    _, signed = _INTEGER_WIDTH[tag.type]
    raw = pattern - (1 << bits) if signed and pattern >> (bits - 1) else pattern
    if tag.fail_raw is not None and raw == tag.fail_raw:
        return math.nan
    if tag.scale == 1.0 and tag.offset == 0.0:
        return raw
    return raw * tag.scale + tag.offset


def opcua_raw(tag: Tag, value: TagValue) -> bool | int | float:
    """The OPC UA value (of type `OPCUA_VARIANT_TYPE[tag.type]`) carrying engineering `value`."""
    if tag.type is TagType.BOOL:
        return bool(value)
    if tag.type in _FLOAT_FORMAT:
        return _float_in_range(tag.type, value)
    return raw_integer(tag, value)


def opcua_value(tag: Tag, raw: object) -> TagValue:
    """The engineering value of `tag` from its OPC UA value; ValueError if the type is wrong."""
    if tag.type is TagType.BOOL:
        if isinstance(raw, bool):
            return raw
    elif tag.type in _FLOAT_FORMAT:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        if tag.scale == 1.0 and tag.offset == 0.0:
            return raw
        return raw * tag.scale + tag.offset
    raise ValueError(f"{tag.name}: {type(raw).__name__} {raw!r} is not a {tag.type.value}")
