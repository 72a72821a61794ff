"""Modbus encoding: coalesced read blocks and how to decode them, and write encoding.

A block is one read request (at most 125 registers or 2000 bits). Each block is compiled
once into a `struct` format that unpacks every tag in it with one call, so a scan costs
one request and one unpack per block.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from padctl.definition import ModbusAddress, ModbusTable, Tag, TagType, WordOrder
from padctl.plant._errors import WriteRefused
from padctl.plant._sample import TagValue
from padctl.plant._value_kind import checked_kind

MAX_READ_REGISTERS = 125
MAX_READ_BITS = 2000

_STRUCT_CODES = {
    TagType.UINT16: "H",
    TagType.INT16: "h",
    TagType.INT32: "i",
    TagType.UINT32: "I",
    TagType.FLOAT32: "f",
    TagType.FLOAT64: "d",
}


@dataclass
class ReadBlock:
    """One read request and how to turn its answer into tag values."""

    table: ModbusTable
    start: int
    count: int
    tags: list[Tag] = field(default_factory=list)
    _offsets: list[int] = field(default_factory=list)  # of each tag, relative to start
    _unpack: struct.Struct | None = None
    _permutation: list[int] | None = None  # register order for word-swapped values
    _scaled: list[tuple[int, float, float]] = field(default_factory=list)
    _sentinels: list[tuple[int, int]] = field(default_factory=list)  # (index, fail_raw)

    @property
    def names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    def compile(self, default_word_order: WordOrder) -> None:
        """Prepare the one-call decoder of this block's answer."""
        self._offsets = [ModbusAddress.parse(tag.address).offset - self.start for tag in self.tags]
        if self.table.is_bit_table:
            return
        fmt = [">"]
        cursor = 0
        permutation = list(range(self.count))
        swapped = False
        for index, (tag, offset) in enumerate(zip(self.tags, self._offsets, strict=True)):
            if offset > cursor:
                fmt.append(f"{2 * (offset - cursor)}x")
            fmt.append(_STRUCT_CODES[tag.type])
            words = tag.type.register_count
            cursor = offset + words
            if words > 1 and (tag.word_order or default_word_order) is WordOrder.LITTLE:
                permutation[offset : offset + words] = reversed(range(offset, offset + words))
                swapped = True
            if tag.fail_raw is not None:
                self._sentinels.append((index, tag.fail_raw))
            if tag.scale != 1.0 or tag.offset != 0.0:
                self._scaled.append((index, tag.scale, tag.offset))
        if cursor < self.count:
            fmt.append(f"{2 * (self.count - cursor)}x")
        self._unpack = struct.Struct("".join(fmt))
        self._permutation = permutation if swapped else None
        self._register_pack = struct.Struct(f">{self.count}H")

    def decode_registers(self, registers: Sequence[int]) -> list[TagValue]:
        """Engineering values of this block's tags from its registers; a failed channel's
        sentinel (`fail_raw`) decodes to NaN, never to a value."""
        assert self._unpack is not None, "compile() the block first"
        if self._permutation is not None:
            registers = [registers[i] for i in self._permutation]
        values: list[TagValue] = list(
            self._unpack.unpack(self._register_pack.pack(*registers[: self.count]))
        )
        for index, fail_raw in self._sentinels:
            if values[index] == fail_raw:
                values[index] = math.nan
        for index, scale, offset in self._scaled:
            values[index] = values[index] * scale + offset
        return values

    def decode_bits(self, bits: Sequence[bool]) -> list[TagValue]:
        """Values of this block's bool tags from its bits."""
        return [bool(bits[offset]) for offset in self._offsets]


def plan_read_blocks(
    tags: Sequence[Tag],
    *,
    default_word_order: WordOrder = WordOrder.BIG,
    max_registers: int = MAX_READ_REGISTERS,
    max_bits: int = MAX_READ_BITS,
    max_gap: int = 32,
) -> list[ReadBlock]:
    """Coalesce tags into the fewest legal read requests.

    A block never spans more than `max_registers` registers (or `max_bits` bits), and never
    bridges a gap of more than `max_gap` unused addresses (a real PLC may reject those).
    """
    if max_registers > MAX_READ_REGISTERS or max_bits > MAX_READ_BITS:
        raise ValueError("Modbus allows at most 125 registers or 2000 bits per read")
    by_table: dict[ModbusTable, list[tuple[int, Tag]]] = {}
    for tag in tags:
        address = ModbusAddress.parse(tag.address)
        by_table.setdefault(address.table, []).append((address.offset, tag))
    blocks: list[ReadBlock] = []
    for table in (
        ModbusTable.COIL,
        ModbusTable.DISCRETE_INPUT,
        ModbusTable.HOLDING_REGISTER,
        ModbusTable.INPUT_REGISTER,
    ):
        limit = max_bits if table.is_bit_table else max_registers
        current: ReadBlock | None = None
        for offset, tag in sorted(by_table.get(table, []), key=lambda item: item[0]):
            width = 1 if table.is_bit_table else tag.type.register_count
            end = offset + width
            if (
                current is None
                or end - current.start > limit
                or offset - (current.start + current.count) > max_gap
            ):
                current = ReadBlock(table=table, start=offset, count=width)
                blocks.append(current)
            current.tags.append(tag)
            current.count = max(current.count, end - current.start)
    for block in blocks:
        block.compile(default_word_order)
    return blocks


def encode_registers(tag: Tag, value: TagValue, default_word_order: WordOrder) -> list[int]:
    """Registers that carry engineering `value` of a register tag; WriteRefused if it can't."""
    if tag.type is TagType.BOOL:
        raise WriteRefused(tag.name, "a bool tag is written as a coil, not registers")
    number = float(checked_kind(tag, value))
    raw: float | int = number
    if (limits := tag.type.integer_limits) is not None:
        raw = round((number - tag.offset) / tag.scale)
        low, high = limits
        if not low <= raw <= high:
            raise WriteRefused(tag.name, f"raw value {raw} does not fit {tag.type.value}")
    return _pack_words(tag.type, raw, tag.word_order or default_word_order)


def _pack_words(tag_type: TagType, raw: float | int, word_order: WordOrder) -> list[int]:
    packed = struct.pack(">" + _STRUCT_CODES[tag_type], raw)
    words = list(struct.unpack(f">{len(packed) // 2}H", packed))
    if len(words) > 1 and word_order is WordOrder.LITTLE:
        words.reverse()
    return words
