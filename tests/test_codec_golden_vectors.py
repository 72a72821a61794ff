"""Golden vectors: each data type, scaling and word order pinned to register values written
out by hand, checked against padctl's client codecs and the simulated PLCs' own codec.

The two codecs share no code, so a round trip through both would hide a mistake made in
both alike; these fixed values would not. The register values come from the IEEE 754 and
two's complement encodings, most significant word first for word order "big".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from asyncua import ua

from padctl.definition import Tag, TagType, WordOrder
from padctl.plant import plan_read_blocks
from padctl.plant._modbus_codec import encode_registers
from padctl.plant._opcua_codec import VARIANT_TYPES, decode_value, encode_value
from simulators._codec import (
    OPCUA_VARIANT_TYPE,
    modbus_registers,
    modbus_value,
    opcua_raw,
    opcua_value,
)

BIG, LITTLE = WordOrder.BIG, WordOrder.LITTLE


@dataclass(frozen=True)
class Vector:
    label: str
    type: TagType
    engineering: float
    registers: list[int]
    word_order: WordOrder = BIG
    scale: float = 1.0
    offset: float = 0.0

    def tag(self) -> Tag:
        return Tag(
            name="GV-XX-101",
            plc="GV",
            type=self.type,
            unit="1",
            address="hr:10",
            scale=self.scale,
            offset=self.offset,
            word_order=self.word_order,
        )


VECTORS = [
    Vector("uint16", TagType.UINT16, 1234, [0x04D2]),
    Vector("uint16 top", TagType.UINT16, 65535, [0xFFFF]),
    Vector("int16 negative", TagType.INT16, -2, [0xFFFE]),
    Vector("int16 bottom", TagType.INT16, -32768, [0x8000]),
    Vector("int32 big", TagType.INT32, 305419896, [0x1234, 0x5678]),
    Vector("int32 little", TagType.INT32, 305419896, [0x5678, 0x1234], LITTLE),
    Vector("int32 negative big", TagType.INT32, -123456, [0xFFFE, 0x1DC0]),
    Vector("int32 negative little", TagType.INT32, -123456, [0x1DC0, 0xFFFE], LITTLE),
    Vector("uint32 big", TagType.UINT32, 3000000000, [0xB2D0, 0x5E00]),
    Vector("uint32 little", TagType.UINT32, 3000000000, [0x5E00, 0xB2D0], LITTLE),
    Vector("float32 big", TagType.FLOAT32, 1.5, [0x3FC0, 0x0000]),
    Vector("float32 little", TagType.FLOAT32, 1.5, [0x0000, 0x3FC0], LITTLE),
    Vector("float32 negative", TagType.FLOAT32, -273.1499938964844, [0xC388, 0x9333]),
    Vector(
        "float32 negative little", TagType.FLOAT32, -273.1499938964844, [0x9333, 0xC388], LITTLE
    ),
    Vector("float64 big", TagType.FLOAT64, 123.456, [0x405E, 0xDD2F, 0x1A9F, 0xBE77]),
    Vector("float64 little", TagType.FLOAT64, 123.456, [0xBE77, 0x1A9F, 0xDD2F, 0x405E], LITTLE),
    Vector("float64 negative", TagType.FLOAT64, -0.001, [0xBF50, 0x624D, 0xD2F1, 0xA9FC]),
    # engineering = raw * scale + offset
    Vector("uint16 scaled and offset", TagType.UINT16, 12.3, [0x026F], scale=0.1, offset=-50),
    Vector("int16 scaled negative", TagType.INT16, -1.5, [0xFF6A], scale=0.01),
    Vector("uint32 scaled big", TagType.UINT32, 1013.25, [0x0001, 0x8BCD], scale=0.01),
    Vector("uint32 scaled little", TagType.UINT32, 1013.25, [0x8BCD, 0x0001], LITTLE, scale=0.01),
    Vector("int16 offset", TagType.INT16, -40.5, [0x0077], scale=0.5, offset=-100),
]
IDS = [vector.label for vector in VECTORS]


def _same(decoded: float, expected: float) -> bool:
    return decoded == pytest.approx(expected, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_padctl_decodes_each_vector(vector: Vector) -> None:
    (block,) = plan_read_blocks([vector.tag()], default_word_order=BIG)
    (decoded,) = block.decode_registers(vector.registers)
    assert _same(float(decoded), vector.engineering), (decoded, vector.engineering)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_padctl_writes_each_vector(vector: Vector) -> None:
    assert encode_registers(vector.tag(), vector.engineering, BIG) == vector.registers


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_the_simulator_serves_each_vector(vector: Vector) -> None:
    assert modbus_registers(vector.tag(), vector.engineering, BIG) == vector.registers


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_the_simulator_reads_each_vector(vector: Vector) -> None:
    decoded = modbus_value(vector.tag(), vector.registers, BIG)
    assert _same(float(decoded), vector.engineering), (decoded, vector.engineering)


@pytest.mark.parametrize("plc_word_order", [BIG, LITTLE])
def test_a_tag_without_a_word_order_takes_its_plcs(plc_word_order: WordOrder) -> None:
    tag = Vector("", TagType.INT32, 0, []).tag().model_copy(update={"word_order": None})
    expected = [0x1234, 0x5678] if plc_word_order is BIG else [0x5678, 0x1234]
    assert modbus_registers(tag, 305419896, plc_word_order) == expected
    assert encode_registers(tag, 305419896, plc_word_order) == expected
    (block,) = plan_read_blocks([tag], default_word_order=plc_word_order)
    assert block.decode_registers(expected) == [305419896]
    assert modbus_value(tag, expected, plc_word_order) == 305419896


def test_a_failed_channel_is_its_sentinel_on_the_wire() -> None:
    tag = Vector("", TagType.INT16, 0, [], scale=0.01).tag().model_copy(update={"fail_raw": -32768})
    assert modbus_registers(tag, math.nan, BIG) == [0x8000]
    assert math.isnan(modbus_value(tag, [0x8000], BIG))
    (block,) = plan_read_blocks([tag])
    assert math.isnan(block.decode_registers([0x8000])[0])
    assert block.decode_registers([0x8001])[0] == pytest.approx(-327.67)


# OPC UA: the variant type of each data type, and the raw value carrying a scaled one.
OPCUA_VECTORS = [
    (TagType.BOOL, 1.0, 0.0, True, True, ua.VariantType.Boolean),
    (TagType.UINT16, 0.1, -50.0, 12.3, 623, ua.VariantType.UInt16),
    (TagType.INT16, 0.01, 0.0, -1.5, -150, ua.VariantType.Int16),
    (TagType.UINT32, 1.0, 0.0, 3000000000, 3000000000, ua.VariantType.UInt32),
    (TagType.INT32, 0.5, -100.0, -40.5, 119, ua.VariantType.Int32),
    (TagType.FLOAT32, 1.0, 0.0, 1.5, 1.5, ua.VariantType.Float),
    (TagType.FLOAT64, 1.0, 0.0, -0.001, -0.001, ua.VariantType.Double),
]


@pytest.mark.parametrize(
    ("tag_type", "scale", "offset", "engineering", "raw", "variant_type"),
    OPCUA_VECTORS,
    ids=[str(vector[0]) for vector in OPCUA_VECTORS],
)
def test_both_opcua_codecs_agree_with_each_vector(
    tag_type: TagType,
    scale: float,
    offset: float,
    engineering: float | bool,
    raw: float | bool,
    variant_type: ua.VariantType,
) -> None:
    tag = Vector("", tag_type, 0, [], scale=scale, offset=offset).tag()
    assert VARIANT_TYPES[tag_type] is variant_type
    assert OPCUA_VARIANT_TYPE[tag_type] is variant_type
    assert encode_value(tag, engineering) == raw
    assert opcua_raw(tag, engineering) == raw
    assert decode_value(tag, raw) == pytest.approx(engineering)
    assert opcua_value(tag, raw) == pytest.approx(engineering)
