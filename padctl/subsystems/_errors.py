"""Typed errors of subsystems, each naming what was wrong."""

from __future__ import annotations


class SubsystemError(Exception):
    """Base of subsystem errors."""


class CommandRefused(SubsystemError):
    """A command was not carried out: nothing was written and nothing changed."""

    def __init__(self, subsystem: str, command: str, reason: str) -> None:
        self.subsystem = subsystem
        self.command = command
        self.reason = reason
        super().__init__(f"{subsystem}: {command} refused: {reason}")


class SpecError(SubsystemError):
    """A subsystem specification does not fit the pad definition."""

    def __init__(self, subsystem: str, problems: list[str]) -> None:
        self.subsystem = subsystem
        self.problems = problems
        super().__init__(f"subsystem {subsystem}: " + "; ".join(problems))
