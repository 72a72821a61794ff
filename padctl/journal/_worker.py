"""A thread that owns a resource and runs jobs on it in order for an asyncio loop."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar, TypeVarTuple

R = TypeVar("R")
T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class ThreadWorker(Generic[R]):
    """Runs jobs FIFO on a resource that only its own thread ever touches."""

    def __init__(self, *, name: str, opener: Callable[[], R], closer: Callable[[R], None]) -> None:
        self._opener = opener
        self._closer = closer
        self._jobs: queue.SimpleQueue[Callable[[R], None] | None] = queue.SimpleQueue()
        # Daemon: a program that forgets to close must still be able to exit; a row in
        # flight at exit is then lost as in a kill -9, never half-written.
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opened: asyncio.Future[None] | None = None
        self._finished: asyncio.Future[None] | None = None

    @property
    def thread(self) -> threading.Thread:
        """The worker's thread."""
        return self._thread

    async def start(self) -> None:
        """Start the thread and wait until it has opened its resource (or failed to)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._opened = loop.create_future()
        self._finished = loop.create_future()
        self._thread.start()
        try:
            await asyncio.shield(self._opened)
        except BaseException:
            await self.stop()
            raise

    def submit(self, job: Callable[[R], T]) -> asyncio.Future[T]:
        """Queue `job`; the future completes with its result once the thread has run it."""
        if self._loop is None:
            raise RuntimeError("ThreadWorker.submit() before start()")
        future: asyncio.Future[T] = self._loop.create_future()

        def run(resource: R) -> None:
            try:
                result = job(resource)
            except Exception as exc:
                self._call_in_loop(_set_exception, future, exc)
            else:
                self._call_in_loop(_set_result, future, result)

        self._jobs.put(run)
        return future

    async def stop(self) -> None:
        """Run the jobs already queued, close the resource and end the thread."""
        if self._finished is None:
            return
        self._jobs.put(None)
        await asyncio.shield(self._finished)
        self._thread.join()  # the thread has only to return by now

    def _run(self) -> None:
        assert self._opened is not None and self._finished is not None
        try:
            resource = self._opener()
        except BaseException as exc:
            self._call_in_loop(_set_exception, self._opened, exc)
            self._call_in_loop(_set_result, self._finished, None)
            return
        self._call_in_loop(_set_result, self._opened, None)
        try:
            while (job := self._jobs.get()) is not None:
                job(resource)
        finally:
            try:
                self._closer(resource)
            finally:
                self._call_in_loop(_set_result, self._finished, None)

    def _call_in_loop(self, callback: Callable[[*Ts], object], *args: *Ts) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


def _set_result(future: asyncio.Future[T], result: T) -> None:
    if not future.done():  # a cancelled waiter: the job ran all the same
        future.set_result(result)


def _set_exception(future: asyncio.Future[T], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
