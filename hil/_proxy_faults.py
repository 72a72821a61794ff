"""The fault proxy's settings: which faults are on, validated as a whole."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from hil._proxy_mbap import CorruptionKind

ALL_CORRUPTIONS: tuple[CorruptionKind, ...] = (
    CorruptionKind.PDU,
    CorruptionKind.LENGTH,
    CorruptionKind.TRANSACTION_ID,
)


class FaultSettingError(ValueError):
    """A fault setting that cannot be used; the message names the setting and why."""


@dataclass(frozen=True)
class Faults:
    """Every fault the proxy can play; the default plays none.

    Latencies and jitters are wall milliseconds per direction: each chunk (towards the
    server) or reply frame (towards the client) waits `latency +- uniform(jitter)` but never
    overtakes the bytes before it. Corruption and duplicates act on whole Modbus reply frames.
    """

    latency_to_server_ms: float = 0.0
    latency_to_client_ms: float = 0.0
    jitter_to_server_ms: float = 0.0
    jitter_to_client_ms: float = 0.0
    stalled: bool = False  # accept, never forward; open connections freeze
    refusing: bool = False  # new connections are reset at once (the link is down)
    corrupt_fraction: float = 0.0  # of reply frames
    corrupt_kinds: tuple[CorruptionKind, ...] = field(default=ALL_CORRUPTIONS)
    duplicate_after_ms: float = 0.0  # 0: off; else a reply frame is sent again this much later
    duplicate_fraction: float = 1.0  # of reply frames, when duplicates are on

    def __post_init__(self) -> None:
        for name in (
            "latency_to_server_ms",
            "latency_to_client_ms",
            "jitter_to_server_ms",
            "jitter_to_client_ms",
            "duplicate_after_ms",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise FaultSettingError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("corrupt_fraction", "duplicate_fraction"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise FaultSettingError(f"{name} must be between 0 and 1, got {value!r}")
        if not self.corrupt_kinds:
            raise FaultSettingError("corrupt_kinds must name at least one kind")
        for kind in self.corrupt_kinds:
            if not isinstance(kind, CorruptionKind):
                raise FaultSettingError(f"corrupt_kinds: {kind!r} is not a CorruptionKind")

    def changed(self, **changes: Any) -> Faults:
        """A copy with `changes`; FaultSettingError naming an unknown or bad setting."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise FaultSettingError(
                f"unknown fault setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        if "corrupt_kinds" in changes:
            changes["corrupt_kinds"] = tuple(changes["corrupt_kinds"])
        return replace(self, **changes)

    def describe(self) -> str:
        """One line for people: what the proxy does to the traffic now."""
        parts = [
            "STALLED" if self.stalled else ("REFUSING" if self.refusing else "flowing"),
            "latency "
            + _delay(self.latency_to_server_ms, self.jitter_to_server_ms)
            + " to server, "
            + _delay(self.latency_to_client_ms, self.jitter_to_client_ms)
            + " to client",
        ]
        if self.corrupt_fraction > 0:
            kinds = ",".join(kind.value for kind in self.corrupt_kinds)
            parts.append(f"corrupt {self.corrupt_fraction:.3g} of replies ({kinds})")
        else:
            parts.append("corrupt off")
        if self.duplicate_after_ms > 0:
            parts.append(
                f"duplicate {self.duplicate_fraction:.3g} of replies "
                f"after {self.duplicate_after_ms:g} ms"
            )
        else:
            parts.append("duplicate off")
        return " | ".join(parts)


def _delay(latency_ms: float, jitter_ms: float) -> str:
    return f"{latency_ms:g}+-{jitter_ms:g} ms" if jitter_ms else f"{latency_ms:g} ms"
