"""Modbus TCP framing for the fault proxy: cut a server's byte stream into whole replies.

A Modbus TCP frame (ADU) is a 7-byte MBAP header, then the PDU:

    [ transaction id ][ protocol id = 0 ][ length ][ unit id ][ function code ][ data ... ]
          2 bytes           2 bytes        2 bytes   1 byte        1 byte

`length` counts the unit id and the PDU. Replies are corrupted or duplicated whole, so the
proxy must know where each one ends; a stream that stops looking like Modbus TCP is passed on
unchanged from then on (nothing is dropped or reordered to keep framing).
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

MBAP_HEADER_BYTES = 7
MAX_ADU_BYTES = 260  # 7-byte header + 253-byte PDU (Modbus application protocol, 4.1)
_MIN_LENGTH_FIELD = 2  # unit id + function code
_MAX_LENGTH_FIELD = MAX_ADU_BYTES - 6


class CorruptionKind(enum.StrEnum):
    """What a corrupted reply frame gets wrong."""

    PDU = "pdu"  # one byte of the PDU (function code, byte count or data) flipped at random
    FUNCTION = "function"  # the function code of another kind of reply (bits <-> registers)
    BYTE_COUNT = "count"  # the PDU's byte count lowered; the data stays as it was
    SHORT = "short"  # well-formed but one register (or one byte of bits) short
    DATA = "data"  # one byte of the reply data flipped (a register or bit value)
    LENGTH = "length"  # the MBAP length field cut by 1 to 3 bytes (framing broken)
    TRANSACTION_ID = "tid"  # the MBAP transaction id changed
    TRANSACTION_ID_ZERO = "tid0"  # the transaction id zeroed, as gateways that do not echo it

    @classmethod
    def parse(cls, text: str) -> CorruptionKind:
        """The kind named `text`; ValueError listing the known kinds."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            known = ", ".join(kind.value for kind in cls)
            raise ValueError(f"unknown corruption kind {text!r} (known: {known})") from None


@dataclass(frozen=True)
class Chunk:
    """Bytes to pass on: one whole Modbus frame, or raw bytes once framing is lost."""

    data: bytes
    is_frame: bool


class FrameSplitter:
    """Cuts a Modbus TCP byte stream into whole frames by their MBAP length field."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.in_sync = True

    def feed(self, data: bytes) -> list[Chunk]:
        """The whole frames completed by `data` (a partial frame waits for more bytes)."""
        if not self.in_sync:
            return [Chunk(bytes(data), is_frame=False)] if data else []
        self._buffer += data
        chunks: list[Chunk] = []
        while len(self._buffer) >= MBAP_HEADER_BYTES:
            protocol_id = int.from_bytes(self._buffer[2:4], "big")
            length = int.from_bytes(self._buffer[4:6], "big")
            if protocol_id != 0 or not _MIN_LENGTH_FIELD <= length <= _MAX_LENGTH_FIELD:
                # Not Modbus TCP (or a server bug): pass everything on as it comes.
                self.in_sync = False
                chunks.append(Chunk(bytes(self._buffer), is_frame=False))
                self._buffer.clear()
                return chunks
            size = 6 + length
            if len(self._buffer) < size:
                break
            chunks.append(Chunk(bytes(self._buffer[:size]), is_frame=True))
            del self._buffer[:size]
        return chunks

    def pending(self) -> bytes:
        """Bytes of an incomplete frame held back (passed on as they are at end of stream)."""
        return bytes(self._buffer)


# A reply of another kind for each function code: bits <-> registers, coil <-> register write.
_OTHER_FUNCTION = {1: 3, 2: 4, 3: 1, 4: 2, 5: 6, 6: 5, 15: 16, 16: 15}
_READ_FUNCTIONS = frozenset({1, 2, 3, 4})


def corrupt_frame(frame: bytes, kind: CorruptionKind, rng: random.Random) -> bytes:
    """A copy of a whole frame with `kind` of damage.

    A kind that does not apply to the frame (a byte count on a write reply, a short exception
    reply) flips a random PDU byte instead, so a corrupted frame always differs (but tid0 on a
    transaction id that was 0 already).
    """
    damaged = bytearray(frame)
    pdu = MBAP_HEADER_BYTES
    function = damaged[pdu] if len(damaged) > pdu else 0
    is_read_reply = function in _READ_FUNCTIONS and len(damaged) > pdu + 2
    if kind is CorruptionKind.TRANSACTION_ID_ZERO:
        damaged[0:2] = b"\x00\x00"
    elif kind is CorruptionKind.TRANSACTION_ID:
        tid = int.from_bytes(damaged[0:2], "big")
        damaged[0:2] = (tid ^ rng.randrange(1, 0x10000)).to_bytes(2, "big")
    elif kind is CorruptionKind.LENGTH:
        length = int.from_bytes(damaged[4:6], "big")
        cut = rng.randint(1, min(3, max(1, length - 1)))
        damaged[4:6] = max(1, length - cut).to_bytes(2, "big")
    elif kind is CorruptionKind.FUNCTION and function in _OTHER_FUNCTION:
        damaged[pdu] = _OTHER_FUNCTION[function]
    elif kind is CorruptionKind.BYTE_COUNT and is_read_reply and damaged[pdu + 1] > 0:
        damaged[pdu + 1] -= rng.randint(1, min(4, damaged[pdu + 1]))
    elif kind is CorruptionKind.SHORT and is_read_reply:
        cut = 2 if function in (3, 4) else 1
        del damaged[-cut:]
        damaged[pdu + 1] = max(0, damaged[pdu + 1] - cut)
        damaged[4:6] = (len(damaged) - 6).to_bytes(2, "big")
    elif kind is CorruptionKind.DATA and is_read_reply:
        position = rng.randrange(pdu + 2, len(damaged))
        damaged[position] ^= rng.randrange(1, 0x100)
    else:  # PDU, or a kind that does not apply to this frame
        position = rng.randrange(pdu, len(damaged)) if len(damaged) > pdu else 0
        damaged[position] ^= rng.randrange(1, 0x100)
    return bytes(damaged)
