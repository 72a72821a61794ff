"""The hub protocol: one supervised connection per PLC, whatever the transport."""

from __future__ import annotations

from typing import Protocol

from padctl.definition import Tag
from padctl.plant._sample import TagValue
from padctl.supervisor import Pulse


class Hub(Protocol):
    """One PLC connection: keeps the tag table fresh, writes values, beats the heartbeat.

    A hub is started once and runs until stopped: it connects, reconnects with bounded
    backoff when the PLC goes away (no busy loop), reads or subscribes to every tag of its
    PLC into the tag table, and serialises its requests. It never marks data stale itself:
    staleness comes from the age of the last good update, judged by the tag table.
    """

    @property
    def plc_id(self) -> str: ...

    @property
    def connected(self) -> bool:
        """Diagnostic only; never a basis for a decision (use sample quality)."""
        ...

    @property
    def deadline_wall_s(self) -> float:
        """The longest `run` goes without a pulse when healthy (wall seconds)."""
        ...

    async def run(self, pulse: Pulse) -> None:
        """Connect, keep the data fresh, reconnect with backoff; never returns (supervised)."""
        ...

    def mark_all_bad(self, reason: str) -> None:
        """Mark every tag this hub serves BAD (its task is down)."""
        ...

    async def start(self) -> None:
        """Run the hub on a task of its own; returns at once (for one-shot tools)."""
        ...

    async def stop(self) -> None:
        """Stop every task of the hub and close the connection."""
        ...

    async def wait_connected(self, timeout_wall_s: float) -> bool:
        """Wait (wall seconds) until the first full read or subscription is in place."""
        ...

    async def write(self, tag: Tag, value: TagValue) -> None:
        """Write an already-validated engineering value; raise CommError or WriteFailed."""
        ...
