"""Typed errors of plant I/O, each carrying what a person needs to act."""

from __future__ import annotations


class PlantError(Exception):
    """Base of plant I/O errors."""


class CommError(PlantError):
    """A PLC could not be reached or did not answer in time."""

    def __init__(self, plc_id: str, detail: str) -> None:
        self.plc_id = plc_id
        self.detail = detail
        super().__init__(f"PLC {plc_id}: {detail}")


class WriteRefused(PlantError):
    """A write was refused before it reached the wire (not writable, out of range, bad type)."""

    def __init__(self, tag: str, reason: str) -> None:
        self.tag = tag
        self.reason = reason
        super().__init__(f"write to {tag} refused: {reason}")


class WriteFailed(PlantError):
    """A write reached the PLC but was rejected, or its answer never came."""

    def __init__(self, tag: str, reason: str) -> None:
        self.tag = tag
        self.reason = reason
        super().__init__(f"write to {tag} failed: {reason}")
