"""The hub protocol: one supervised connection per PLC, whatever the transport."""

from __future__ import annotations

from typing import Protocol

from padctl.definition import Tag
from padctl.plant._sample import TagValue


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

    async def start(self) -> None:
        """Start the connection supervisor; returns at once (connection happens in background)."""
        ...

    async def stop(self) -> None:
        """Stop every task of the hub and close the connection."""
        ...

    async def wait_connected(self, timeout_s: float) -> bool:
        """Wait (clock seconds) until the first full read or subscription is in place."""
        ...

    async def write(self, tag: Tag, value: TagValue) -> None:
        """Write an already-validated engineering value; raise CommError or WriteFailed."""
        ...
