"""The count's own task: the loop that steps it, a pending window scrub, and the lock that
every change of the count takes. Started, stopped and halted (for a checkpoint's restore)
in this one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from padctl.countdown._timeline import CountdownRefused
from padctl.tasks import cancel_and_wait


class CountLoop:
    def __init__(self, run: Callable[[], Awaitable[None]], *, idle: Callable[[], bool]) -> None:
        """`run`: the loop (it returns when the count is done); `idle`: whether the count
        has nothing to run (not started, or secured)."""
        self.lock = asyncio.Lock()
        self._run = run
        self._idle = idle
        self._task: asyncio.Task[None] | None = None
        self._window_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the loop, unless the count is idle or the loop runs already."""
        task = self._task
        if not self._idle() and (task is None or task.done()):
            self._task = asyncio.create_task(self._run(), name="countdown")  # type: ignore[arg-type]

    def keep_window_task(self, task: asyncio.Task[None] | None) -> None:
        """A scrub at the launch window's close, started off the loop (None: none new)."""
        if task is not None:
            self._window_task = task

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        await cancel_and_wait(self._window_task)
        self._window_task = None

    @contextlib.asynccontextmanager
    async def halted(self, *, timeout_wall_s: float = 2.0) -> AsyncIterator[None]:
        """Stop the loop (and a pending window scrub) and hold the lock meanwhile.

        An operator command still running on the count (a recycle, a scrub) keeps the lock:
        after `timeout_wall_s` this gives up with CountdownRefused, and the count goes on.
        On leaving, the loop runs again unless the count is idle or secured.
        """
        await self.stop()
        try:
            async with asyncio.timeout(timeout_wall_s):
                await self.lock.acquire()
        except TimeoutError:
            self.start()
            raise CountdownRefused(
                "restore", "an operator command is still running on the count; try again later"
            ) from None
        try:
            yield
        finally:
            self.lock.release()
            self.start()
