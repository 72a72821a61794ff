"""CPU-heavy work kept off the control loop: a thread that runs jobs one at a time.

The loop that scans PLCs, feeds heartbeats and judges the LCC must never wait behind password
hashing, big encodes, journal searches or plots. `OffLoopWorker.run` hands such a job to a
thread of the worker's own and awaits its result, so the loop goes on meanwhile.

- One job at a time, in the order given: a burst of work (64 password guesses) takes at most
  one core, never every core the machine has, and a later job cannot overtake an earlier one.
- The thread runs at a lower CPU priority than the loop's (Linux: a nice value per thread,
  inherited by the threads a job starts, such as argon2's lanes): on a busy machine the loop's
  thread gets the core first.
- The thread starts when a job comes and ends when none is left: there is nothing to stop, and
  no idle thread outlives the work.
- A job whose caller stopped waiting before it began is skipped; one already running finishes
  (a thread cannot be interrupted) and its result is dropped.

C code that holds the GIL (json.dumps, for one) still holds it on the worker's thread: give the
worker pieces that each take a millisecond or so, and the loop gets its turn between them.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
NICE = 10  # CFS gives a nice-10 thread about a tenth of the CPU a nice-0 thread gets

_Job = tuple[concurrent.futures.Future[Any], Callable[[], Any]]


class OffLoopWorker:
    """Runs jobs one at a time on a thread of its own, at a lower CPU priority than the loop."""

    def __init__(self, name: str, *, nice: int = NICE) -> None:
        self.name = name
        self._nice = nice
        self._jobs: collections.deque[_Job] = collections.deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.jobs_done = 0

    async def run(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args, **kwargs)` on the worker's thread; its result (or its exception)."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        job = functools.partial(function, *args, **kwargs)
        with self._lock:
            self._jobs.append((future, job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name)
                self._thread.start()
        return await asyncio.wrap_future(future)

    @property
    def busy(self) -> bool:
        """True while a job runs or waits."""
        with self._lock:
            return self._thread is not None

    def _work(self) -> None:
        lower_priority(self._nice)
        while True:
            with self._lock:
                if not self._jobs:
                    self._thread = None
                    return
                future, job = self._jobs.popleft()
            if not future.set_running_or_notify_cancel():
                continue  # its caller stopped waiting before it began
            try:
                result = job()
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)
            self.jobs_done += 1


def lower_priority(nice: int = NICE) -> None:
    """Give the calling thread (only) a higher nice value, where the system allows it."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        thread_id = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, max(current, nice))
