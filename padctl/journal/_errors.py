"""Typed errors of the audit journal, each naming the file and what went wrong."""

from __future__ import annotations

from pathlib import Path


class JournalError(Exception):
    """Base of journal errors: the journal could not be opened, written or read."""


class NotAJournal(JournalError):
    """The path exists but does not hold a padctl journal."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path} is not a padctl journal: {reason}")


class JournalBroken(JournalError):
    """The journal fails an integrity check, so nothing more may be appended to it."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(
            f"journal {path} is broken: {problem}; keep the file as evidence, run "
            "`padctl journal verify` on it and start a new journal"
        )


class JournalClosed(JournalError):
    """The journal was used after it was closed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"journal {path} is closed")
