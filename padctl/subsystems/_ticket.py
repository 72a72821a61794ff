"""The ticket a subsystem hands back for an accepted command."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class CommandTicket:
    """An accepted command; `outcome` resolves to 'confirmed' or 'fault: <reason>'."""

    subsystem: str
    command: str
    outcome: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    async def wait(self) -> str:
        return await self.outcome
