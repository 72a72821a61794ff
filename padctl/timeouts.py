"""Timeouts on another party (a PLC, a server) that a stall of padctl's own loop does not
spend: wall seconds of a loop awake to take the answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

_T = TypeVar("_T")


async def within_wall(awaitable: Awaitable[_T], timeout_wall_s: float, what: str) -> _T:
    """Await `awaitable` (on this task: no task of its own) for at most `timeout_wall_s` wall
    seconds of a loop awake to take the answer (see `AwakeTimeout`); TimeoutError naming
    `what`."""
    async with AwakeTimeout(timeout_wall_s, f"{what}: no answer within {timeout_wall_s:g} s"):
        return await awaitable


STALL_SEEN_WALL_S = 0.05  # a timer this late (wall seconds) means the loop itself stalled


class AwakeTimeout:
    """`asyncio.timeout` for waits on another party, with one difference: a timer that fires
    late because padctl's own loop stalled (starved of CPU, a long callback) is set once more,
    as far out as it was late (at most the timeout again). A stall of the loop is not the
    other party's silence: an answer that came meanwhile, or whose sender was starved beside
    the loop, is taken, not timed out. A real silence still ends within twice the timeout and
    the stall, which the loop monitor alarms on its own."""

    __slots__ = (
        "_cancelling",
        "_due_s",
        "_expired",
        "_extended",
        "_handle",
        "_message",
        "_task",
        "_timeout_wall_s",
    )

    def __init__(self, timeout_wall_s: float, message: str) -> None:
        self._timeout_wall_s = timeout_wall_s
        self._message = message
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0
        self._due_s = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._extended = False
        self._expired = False

    async def __aenter__(self) -> AwakeTimeout:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("AwakeTimeout must be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        loop = asyncio.get_running_loop()
        self._due_s = loop.time() + self._timeout_wall_s
        self._handle = loop.call_at(self._due_s, self._on_due)
        return self

    def _on_due(self) -> None:
        loop = asyncio.get_running_loop()
        late_s = loop.time() - self._due_s
        if not self._extended and late_s > STALL_SEEN_WALL_S:
            self._extended = True
            self._due_s = loop.time() + min(late_s, self._timeout_wall_s)
            self._handle = loop.call_at(self._due_s, self._on_due)
            return
        self._expired = True
        assert self._task is not None
        self._task.cancel()

    async def __aexit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if not self._expired:
            return
        assert self._task is not None
        # our cancel, and no one else's, ended the wait: that is the timeout
        if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError(self._message) from None
