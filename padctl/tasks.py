"""Background tasks that stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib

# On Python 3.11, asyncio.wait_for (used inside pymodbus and asyncua) can swallow a
# cancellation that arrives together with a response; the task then runs on. So the
# cancel is repeated until the task has really finished.
_RECANCEL_WALL_S = 0.05


async def cancel_and_wait(task: asyncio.Task[object] | asyncio.Task[None] | None) -> None:
    """Cancel `task` (if any) and wait until it has finished, cancelling again if needed."""
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=_RECANCEL_WALL_S)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
