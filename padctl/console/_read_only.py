"""The command desk of a console that only watches (fed from Sparkplug, far from the pad):
every command is refused, with the reason, and the refusal journaled in its own journal."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, Protocol

from padctl.console._catalogue import Catalogue
from padctl.console._command_table import CATALOGUE
from padctl.console._commands import RefusalBudget, refusal
from padctl.console._users import Role, User
from padctl.journal import AsyncJournal

READ_ONLY = "read_only"


class Desk(Protocol):
    """What the hub and the HTTP endpoints ask of a command desk."""

    @property
    def catalogue(self) -> Catalogue: ...
    async def handle(self, user: User, message: object) -> dict[str, Any]: ...
    async def refuse_malformed(self, user: User, reason: str) -> dict[str, Any]: ...
    async def stop(self) -> None: ...


def as_viewer(user: User) -> User:
    """The user as a read-only console sees them: a viewer, whatever the users file says."""
    return dataclasses.replace(user, role=Role.VIEWER, subsystems=())


class ReadOnlyDesk:
    """Refuses every command (code `read_only`) and changes nothing but its own journal."""

    def __init__(
        self,
        *,
        journal: AsyncJournal,
        why: str,
        catalogue: Catalogue = CATALOGUE,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self._journal = journal
        self._why = why
        self._catalogue = catalogue
        self._refusals = RefusalBudget(wall)

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    async def handle(self, user: User, message: object) -> dict[str, Any]:
        fields = message if isinstance(message, dict) else {}
        request_id = fields.get("request_id")
        command = fields.get("command")
        return await self._refused(
            user,
            request_id if isinstance(request_id, str) else None,
            command if isinstance(command, str) else "?",
            READ_ONLY,
            self._why,
        )

    async def refuse_malformed(self, user: User, reason: str) -> dict[str, Any]:
        return await self._refused(user, None, "?", "bad_request", reason)

    async def stop(self) -> None:
        """Nothing runs in the background here."""

    async def _refused(
        self, user: User, request_id: str | None, command: str, code: str, reason: str
    ) -> dict[str, Any]:
        return await refusal(
            self._journal,
            self._refusals,
            user=user,
            actor=user.name,
            request_id=request_id,
            command=command,
            args={},
            code=code,
            reason=reason,
        )
