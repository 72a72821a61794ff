"""Running a coroutine as a program: uvloop where it installs, clean exit codes."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_start_up_frozen = False


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on uvloop when available (tighter timers, faster sockets), else asyncio.

    SIGTERM cancels `main` as Ctrl-C does, so a program stopped by its supervisor (systemd, a
    test) still runs its cleanup: a count in progress is journaled and the pad safed.
    """
    try:
        import uvloop
    except ImportError:
        factory = None
    else:
        factory = uvloop.new_event_loop
    # What start-up made (modules, definitions, tables) lives as long as the program: keep it
    # out of the collector's full passes, which stop the control loop for as long as they
    # take to walk every object.
    global _start_up_frozen
    if not _start_up_frozen:  # once per process (a test may run many commands in one)
        gc.collect()
        gc.freeze()
        _start_up_frozen = True
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(_cancel_on_sigterm(main))


async def _cancel_on_sigterm(main: Coroutine[Any, Any, T]) -> T:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await main
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
