"""Console messages as JSON text: small ones at once, big ones off the control loop, in pieces.

A snapshot (every tag, the journal's tail) or a journal page runs to 100-150 kB of JSON. The
C encoder holds the GIL for a whole `json.dumps` call, so a big message is encoded on a worker
thread in pieces of at most `PIECE_ITEMS` entries: the loop's thread gets the GIL between
pieces. The text is the same, byte for byte, as one `json.dumps` call gives.
"""

from __future__ import annotations

import json
from typing import Any

from padctl.off_loop import OffLoopWorker

PIECE_ITEMS = 64  # entries encoded in one call: about half a millisecond for 64 tags
HEAVY_ITEMS = 100  # a message with this many tags, journal rows or result rows is big
_DEPTH = 3  # message -> result -> rows


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def is_heavy(message: dict[str, Any]) -> bool:
    """Whether encoding `message` takes long enough to belong off the loop."""
    if message.get("type") == "snapshot":
        return True
    result = message.get("result")
    parts = (
        message.get("tags"),
        message.get("journal"),
        result.get("rows") if isinstance(result, dict) else None,
    )
    return sum(len(part) for part in parts if isinstance(part, dict | list)) >= HEAVY_ITEMS


def encode_in_pieces(message: dict[str, Any]) -> str:
    """`encode(message)`, built from pieces that each hold the GIL only briefly."""
    return _text(message, _DEPTH)


def _text(value: object, depth: int) -> str:
    if isinstance(value, dict) and depth > 0 and all(isinstance(key, str) for key in value):
        if len(value) > PIECE_ITEMS:
            items = list(value.items())
            slices = (dict(items[i : i + PIECE_ITEMS]) for i in range(0, len(items), PIECE_ITEMS))
            return "{" + ",".join(_dumps(part)[1:-1] for part in slices) + "}"
        return "{" + ",".join(f"{_dumps(k)}:{_text(v, depth - 1)}" for k, v in value.items()) + "}"
    if isinstance(value, list) and len(value) > PIECE_ITEMS:
        runs = (value[i : i + PIECE_ITEMS] for i in range(0, len(value), PIECE_ITEMS))
        return "[" + ",".join(_dumps(part)[1:-1] for part in runs) + "]"
    return _dumps(value)


async def encode_off_loop(message: dict[str, Any], worker: OffLoopWorker) -> str:
    """The message's text: encoded here when small, on `worker`'s thread when big.

    The message must not change until the text comes back (build a fresh one per call).
    """
    if not is_heavy(message):
        return encode(message)
    return await worker.run(encode_in_pieces, message)
