"""Journal rows and their hash chain.

Each row's hash is ``sha256(prev_hash + canonical)`` in lowercase hex, where ``prev_hash``
is the previous row's hash as ASCII hex (64 zeros for row 1) and ``canonical`` is the
ASCII JSON object ``{"actor", "id", "kind", "payload", "t_clock_s", "t_wall"}`` with
sorted keys, no spaces and non-ASCII escaped; ``payload`` is the stored payload JSON text
(itself written with sorted keys), so the hash covers exactly the stored bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from padctl.journal._errors import JournalError

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of row 1."""

_KIND_RE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One committed journal row."""

    id: int
    t_wall: str
    t_clock_s: float
    kind: str
    actor: str
    payload_json: str
    prev_hash: str
    hash: str

    @property
    def payload(self) -> dict[str, Any]:
        """The payload, decoded afresh on each access (a copy the caller may change)."""
        decoded: dict[str, Any] = json.loads(self.payload_json)
        return decoded


@dataclass(frozen=True, slots=True)
class Draft:
    """A validated row waiting for its id and place in the chain."""

    kind: str
    actor: str
    payload_json: str
    t_clock_s: float
    t_wall: str

    def chained(self, *, entry_id: int, prev_hash: str) -> JournalEntry:
        """The row this draft becomes at `entry_id` after the row hashed `prev_hash`."""
        content = canonical_content(
            entry_id=entry_id,
            t_wall=self.t_wall,
            t_clock_s=self.t_clock_s,
            kind=self.kind,
            actor=self.actor,
            payload_json=self.payload_json,
        )
        return JournalEntry(
            id=entry_id,
            t_wall=self.t_wall,
            t_clock_s=self.t_clock_s,
            kind=self.kind,
            actor=self.actor,
            payload_json=self.payload_json,
            prev_hash=prev_hash,
            hash=chain_hash(prev_hash, content),
        )


def canonical_content(
    *, entry_id: int, t_wall: str, t_clock_s: float, kind: str, actor: str, payload_json: str
) -> bytes:
    """The bytes a row's hash covers besides the previous hash."""
    record = {
        "actor": actor,
        "id": entry_id,
        "kind": kind,
        "payload": payload_json,
        "t_clock_s": t_clock_s,
        "t_wall": t_wall,
    }
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.encode("ascii")


def chain_hash(prev_hash: str, content: bytes) -> str:
    """The hash of a row from its predecessor's hash and its canonical content."""
    return hashlib.sha256(prev_hash.encode("ascii") + content).hexdigest()


def make_draft(
    kind: str, payload: Mapping[str, object], *, actor: str, t_clock_s: float, t_wall: str
) -> Draft:
    """Validate and encode one row; raises JournalError naming the bad field."""
    if not isinstance(kind, str) or not _KIND_RE.fullmatch(kind):
        raise JournalError(
            f"journal kind must be a snake_case name like 'command_sent', got {kind!r}"
        )
    if not isinstance(actor, str) or not actor.strip():
        raise JournalError(f"journal actor must be a non-empty string, got {actor!r}")
    _require_utf8("actor", actor)
    if not math.isfinite(t_clock_s):
        raise JournalError(f"clock returned a non-finite time {t_clock_s!r}")
    return Draft(
        kind=kind,
        actor=actor,
        payload_json=encode_payload(payload),
        t_clock_s=float(t_clock_s),
        t_wall=t_wall,
    )


def encode_payload(payload: Mapping[str, object]) -> str:
    """The payload as JSON text with sorted keys; raises JournalError if it is not JSON data."""
    if not isinstance(payload, Mapping):
        raise JournalError(f"journal payload must be a mapping, got {type(payload).__name__}")
    bad_keys = [key for key in payload if not isinstance(key, str)]
    if bad_keys:
        raise JournalError(f"journal payload keys must be strings, got {bad_keys!r}")
    try:
        text = json.dumps(
            dict(payload),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise JournalError(f"journal payload is not JSON data: {exc}") from exc
    _require_utf8("payload", text)
    return text


def _require_utf8(field: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JournalError(f"journal {field} is not valid Unicode text: {exc}") from exc
