"""The one source of time: real, or scaled by a rate for training, demos and tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Protocol, TypeVar


class Clock(Protocol):
    """Time as every domain module sees it: seconds on one monotonic scale."""

    @property
    def rate(self) -> float:
        """How many clock seconds pass per wall-clock second."""
        ...

    def now(self) -> float:
        """Current clock time, seconds (monotonic; arbitrary origin)."""
        ...

    def wall_now(self) -> float:
        """Current UTC time, seconds since the Unix epoch, as this clock shows it."""
        ...

    async def sleep(self, duration_s: float) -> None:
        """Wait for `duration_s` clock seconds."""
        ...

    async def sleep_until(self, deadline_s: float) -> None:
        """Wait until `now()` reaches `deadline_s`."""
        ...


class ScaledClock:
    """A clock that runs `rate` times faster than wall time; rate 1 is real time.

    The rate can be changed (or the clock paused with rate 0) without a jump in `now()`.
    """

    def __init__(self, rate: float = 1.0) -> None:
        if rate < 0:
            raise ValueError(f"clock rate must be >= 0, got {rate}")
        self._rate = float(rate)
        self._anchor_wall_s = time.monotonic()
        self._anchor_clock_s = self._anchor_wall_s
        self._epoch_offset_s = time.time() - self._anchor_wall_s

    @property
    def rate(self) -> float:
        return self._rate

    def set_rate(self, rate: float) -> None:
        """Change the rate from now on; 0 pauses the clock."""
        if rate < 0:
            raise ValueError(f"clock rate must be >= 0, got {rate}")
        current = self.now()
        self._anchor_wall_s = time.monotonic()
        self._anchor_clock_s = current
        self._rate = float(rate)

    def now(self) -> float:
        return self._anchor_clock_s + (time.monotonic() - self._anchor_wall_s) * self._rate

    def wall_now(self) -> float:
        return self._epoch_offset_s + self.now()

    async def sleep(self, duration_s: float) -> None:
        await self.sleep_until(self.now() + duration_s)

    async def sleep_until(self, deadline_s: float) -> None:
        # Re-check after each wait so a rate change (or pause) is honoured.
        while True:
            remaining_s = deadline_s - self.now()
            if remaining_s <= 0:
                return
            if self._rate == 0:
                await asyncio.sleep(_PAUSED_POLL_WALL_S)
                continue
            await asyncio.sleep(min(remaining_s / self._rate, _MAX_WAIT_WALL_S))


_PAUSED_POLL_WALL_S = 0.05
_MAX_WAIT_WALL_S = 0.25


def real_clock() -> ScaledClock:
    """A clock at rate 1: real time."""
    return ScaledClock(1.0)


class ManualClock:
    """A clock that moves only when told to: for pure logic tests with no real I/O waits.

    `sleep` yields to the loop and returns once `advance` has moved time past its deadline.
    """

    def __init__(self, start_s: float = 1000.0, *, epoch_s: float = 1_800_000_000.0) -> None:
        self._now_s = start_s
        self._epoch_offset_s = epoch_s - start_s

    @property
    def rate(self) -> float:
        return 1.0

    def now(self) -> float:
        return self._now_s

    def wall_now(self) -> float:
        return self._epoch_offset_s + self._now_s

    def advance(self, duration_s: float) -> None:
        if duration_s < 0:
            raise ValueError("a clock does not run backwards")
        self._now_s += duration_s

    async def sleep(self, duration_s: float) -> None:
        await self.sleep_until(self._now_s + duration_s)

    async def sleep_until(self, deadline_s: float) -> None:
        while self._now_s < deadline_s:  # noqa: ASYNC110 (time moves only by advance())
            await asyncio.sleep(0)


_T = TypeVar("_T")


async def wall_pause(duration_s: float) -> None:
    """Wait `duration_s` seconds of wall time, whatever any clock's rate: pacing that belongs
    to people and screens (sampling for a plot, an autopilot's reaction), not to the pad."""
    await asyncio.sleep(duration_s)


async def next_loop_turn() -> None:
    """Give the event loop one turn (callbacks already due run), without waiting for time."""
    await asyncio.sleep(0)


async def within(clock: Clock, awaitable: Awaitable[_T], timeout_s: float, what: str) -> _T:
    """Await `awaitable` for at most `timeout_s` clock seconds; TimeoutError naming `what`."""
    work = asyncio.ensure_future(awaitable)
    sleeper = asyncio.ensure_future(clock.sleep(timeout_s))
    try:
        await asyncio.wait([work, sleeper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        if not work.done():
            work.cancel()
        await asyncio.gather(work, sleeper, return_exceptions=True)
    if work.cancelled():
        raise TimeoutError(f"{what}: no answer within {timeout_s:g} s")
    return work.result()


async def wait_event(clock: Clock, event: asyncio.Event, timeout_s: float) -> bool:
    """Wait until `event` is set or `timeout_s` clock seconds pass; whether it is set."""
    with contextlib.suppress(TimeoutError):
        await within(clock, event.wait(), timeout_s, "event")
    return event.is_set()
