"""The one source of time: real, or scaled by a rate for training, demos and tests.

Two kinds of seconds live side by side, and every duration says which it is:

- **clock seconds** (`now`, `sleep`, `sleep_until`): the pad's time. Physics, the T and L
  clocks, stroke times, persistence and `within_s` windows run on it; at rate N it runs N
  times faster than the wall.
- **wall seconds** (`monotonic`, `wall_sleep`, `wall_now`): the wire's time. Polls, staleness,
  timeouts, heartbeats and watchdogs run on it: networks and PLC scans cannot be sped up.

The rate of a `ScaledClock` can change while it runs (the rate governor in `padctl.pace`
lowers it when the wire could no longer keep up); `now()` never jumps and every sleeper
recomputes its wait at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import mmap
import os
import struct
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Protocol, TypeVar


class Clock(Protocol):
    """Time as every domain module sees it."""

    @property
    def rate(self) -> float:
        """How many clock seconds pass per wall second now (0: paused)."""
        ...

    def now(self) -> float:
        """Current clock time, seconds (monotonic; arbitrary origin)."""
        ...

    def monotonic(self) -> float:
        """Current wall time, monotonic seconds (arbitrary origin): for communication timings."""
        ...

    def wall_now(self) -> float:
        """Current UTC time, seconds since the Unix epoch (real time, whatever the rate)."""
        ...

    async def sleep(self, duration_s: float) -> None:
        """Wait for `duration_s` clock seconds."""
        ...

    async def sleep_until(self, deadline_s: float) -> None:
        """Wait until `now()` reaches `deadline_s`."""
        ...

    async def wall_sleep(self, duration_wall_s: float) -> None:
        """Wait for `duration_wall_s` wall seconds."""
        ...


# Layout of a shared clock file: a sequence number (odd while being written), the anchor in
# wall (monotonic) and clock seconds, and the rate.
_SHARED = struct.Struct("<Qddd")  # the anchor: sequence, wall, clock, rate (owner writes)
_LAG = struct.Struct("<d")  # after it: the follower's loop lag, wall seconds (follower writes)
_SHARED_FILE_SIZE = _SHARED.size + _LAG.size
_SPIN_TRIES = 20  # a write is two packs of 32 bytes: more tries mean the owner is off the CPU
_YIELD_WALL_S = 0.0002  # then the reader gives the CPU up between tries


class _RealWall:
    """Wall time as it is: the part every clock on real time shares."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall_now(self) -> float:
        return time.time()

    async def wall_sleep(self, duration_wall_s: float) -> None:
        await asyncio.sleep(max(0.0, duration_wall_s))

    def now(self) -> float:
        raise NotImplementedError

    async def sleep_until(self, deadline_s: float) -> None:
        raise NotImplementedError

    async def sleep(self, duration_s: float) -> None:
        await self.sleep_until(self.now() + duration_s)


class ScaledClock(_RealWall):
    """A clock that runs `rate` times faster than wall time; rate 1 is real time.

    The rate can be changed (or the clock paused with rate 0) without a jump in `now()`.
    With `share_path`, the clock is also published in a small file that a `FollowerClock`
    in another process (a simulator) reads, so both see the same clock time.
    """

    def __init__(self, rate: float = 1.0, *, share_path: Path | None = None) -> None:
        if rate < 0:
            raise ValueError(f"clock rate must be >= 0, got {rate}")
        self._rate = float(rate)
        self._anchor_wall_s = time.monotonic()
        self._anchor_clock_s = self._anchor_wall_s
        self._sleepers: set[asyncio.Future[None]] = set()
        self._share: _SharedAnchor | None = None
        if share_path is not None:
            self._share = _SharedAnchor.create(share_path)
            self._share.write(self._anchor_wall_s, self._anchor_clock_s, self._rate)

    def follower_lag_wall_s(self) -> float:
        """The lag a `FollowerClock`'s process last reported (wall seconds; 0 when none):
        a simulator starved of CPU falls behind this clock as surely as padctl's own loop."""
        return 0.0 if self._share is None else self._share.read_lag()

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def share_path(self) -> Path | None:
        """The file a `FollowerClock` reads this clock from (None: not shared)."""
        return None if self._share is None else self._share.path

    def set_rate(self, rate: float) -> None:
        """Change the rate from now on; 0 pauses the clock. Sleepers recompute at once."""
        if rate < 0:
            raise ValueError(f"clock rate must be >= 0, got {rate}")
        if rate == self._rate:
            return
        wall_s = time.monotonic()
        current = self._anchor_clock_s + (wall_s - self._anchor_wall_s) * self._rate
        self._anchor_wall_s = wall_s
        self._anchor_clock_s = current
        self._rate = float(rate)
        if self._share is not None:
            self._share.write(wall_s, current, self._rate)
        sleepers, self._sleepers = self._sleepers, set()
        for sleeper in sleepers:
            if not sleeper.done():
                sleeper.set_result(None)

    def now(self) -> float:
        return self._anchor_clock_s + (time.monotonic() - self._anchor_wall_s) * self._rate

    async def sleep_until(self, deadline_s: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            remaining_s = deadline_s - self.now()
            if remaining_s <= 0:
                return
            sleeper: asyncio.Future[None] = loop.create_future()
            self._sleepers.add(sleeper)
            handle = (
                loop.call_later(remaining_s / self._rate, _wake, sleeper)
                if self._rate > 0
                else None  # paused: only a rate change wakes it
            )
            try:
                await sleeper
            finally:
                if handle is not None:
                    handle.cancel()
                self._sleepers.discard(sleeper)

    def close(self) -> None:
        """Stop publishing the shared clock (the file is removed)."""
        share, self._share = self._share, None
        if share is not None:
            share.close(remove=True)


def _wake(sleeper: asyncio.Future[None]) -> None:
    if not sleeper.done():
        sleeper.set_result(None)


class _SharedAnchor:
    """A clock's anchor in a memory-mapped file, written with a sequence lock."""

    def __init__(self, path: Path, file: int, view: mmap.mmap) -> None:
        self.path = path
        self._file = file
        self._view = view
        self._sequence = 0

    @classmethod
    def create(cls, path: Path) -> _SharedAnchor:
        file = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.ftruncate(file, _SHARED_FILE_SIZE)
        return cls(path, file, mmap.mmap(file, _SHARED_FILE_SIZE))

    @classmethod
    def open(cls, path: Path) -> _SharedAnchor:
        """The follower's side: it reads the anchor and writes only its lag."""
        file = os.open(path, os.O_RDWR)
        return cls(path, file, mmap.mmap(file, _SHARED_FILE_SIZE))

    def write(self, anchor_wall_s: float, anchor_clock_s: float, rate: float) -> None:
        self._sequence += 1  # odd: being written
        _SHARED.pack_into(self._view, 0, self._sequence, anchor_wall_s, anchor_clock_s, rate)
        self._sequence += 1
        _SHARED.pack_into(self._view, 0, self._sequence, anchor_wall_s, anchor_clock_s, rate)

    def read(self) -> tuple[float, float, float]:
        """The anchor as last written whole. While the owner is between its two writes, the
        reader waits off the CPU: a spin held the simulator's loop still (434 ms) and, at
        its better priority, kept the owner it waited for off the CPU."""
        for tries in itertools.count():
            sequence, anchor_wall_s, anchor_clock_s, rate = _SHARED.unpack_from(self._view, 0)
            if sequence % 2 == 0 and _SHARED.unpack_from(self._view, 0)[0] == sequence:
                return anchor_wall_s, anchor_clock_s, rate
            if tries >= _SPIN_TRIES:
                time.sleep(_YIELD_WALL_S)
        raise AssertionError("unreachable")

    def write_lag(self, lag_wall_s: float) -> None:
        _LAG.pack_into(self._view, _SHARED.size, lag_wall_s)  # one aligned double

    def read_lag(self) -> float:
        lag_wall_s: float = _LAG.unpack_from(self._view, _SHARED.size)[0]
        return lag_wall_s if math.isfinite(lag_wall_s) and lag_wall_s > 0 else 0.0

    def close(self, *, remove: bool = False) -> None:
        self._view.close()
        os.close(self._file)
        if remove:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


class FollowerClock(_RealWall):
    """Another process's `ScaledClock`, read from its shared file: the same time and rate.

    A simulator in a process of its own steps its physics on it, so the pad's time is one time
    on both sides of the wire. Clock sleeps re-read the rate every few milliseconds.
    """

    _POLL_WALL_S = 0.005

    def __init__(self, path: Path) -> None:
        self._anchor = _SharedAnchor.open(path)

    @property
    def rate(self) -> float:
        return self._anchor.read()[2]

    def now(self) -> float:
        anchor_wall_s, anchor_clock_s, rate = self._anchor.read()
        return anchor_clock_s + (time.monotonic() - anchor_wall_s) * rate

    async def sleep_until(self, deadline_s: float) -> None:
        while (remaining_s := deadline_s - self.now()) > 0:
            rate = self.rate
            wait_s = self._POLL_WALL_S if rate <= 0 else remaining_s / rate
            await asyncio.sleep(min(wait_s, self._POLL_WALL_S))

    def report_lag(self, lag_wall_s: float) -> None:
        """Tell the clock's owner how far this process's loop lags (wall seconds): its rate
        governor slows the clock for it as for its own lag."""
        self._anchor.write_lag(lag_wall_s)

    def close(self) -> None:
        self._anchor.close()


def real_clock() -> ScaledClock:
    """A clock at rate 1: real time."""
    return ScaledClock(1.0)


class ManualClock:
    """A clock that moves only when told to: for pure logic tests with no real I/O waits.

    Wall and clock seconds are one here (rate 1). `sleep` yields to the loop and returns once
    `advance` has moved time past its deadline.
    """

    def __init__(self, start_s: float = 1000.0, *, epoch_s: float = 1_800_000_000.0) -> None:
        self._now_s = start_s
        self._epoch_offset_s = epoch_s - start_s

    @property
    def rate(self) -> float:
        return 1.0

    def now(self) -> float:
        return self._now_s

    def monotonic(self) -> float:
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

    async def wall_sleep(self, duration_wall_s: float) -> None:
        await self.sleep(duration_wall_s)


class Deadline:
    """A deadline in clock seconds, with a grace in wall seconds after it: the wire's share.

    A physical limit (a stroke time, a debounce) runs on the clock; seeing its outcome takes
    a poll or two more, in wall time, whatever the rate. `passed()` is true once the clock
    deadline has passed and then `grace_wall_s` wall seconds more.
    """

    __slots__ = ("_clock", "_due_s", "_due_wall_s", "_grace_wall_s")

    def __init__(self, clock: Clock, duration_s: float, grace_wall_s: float = 0.0) -> None:
        self._clock = clock
        self._due_s = clock.now() + duration_s
        self._grace_wall_s = grace_wall_s
        self._due_wall_s: float | None = None

    def passed(self) -> bool:
        return self.wall_left() <= 0

    def wall_left(self) -> float:
        """Wall seconds until it passes, at the present rate (0 once passed)."""
        clock = self._clock
        if self._due_wall_s is None:
            over_s = clock.now() - self._due_s
            rate = clock.rate
            if over_s < 0:
                return -over_s / rate + self._grace_wall_s if rate > 0 else math.inf
            # when the clock deadline passed, in wall time, and the grace from there
            self._due_wall_s = clock.monotonic() - over_s / (rate or 1.0) + self._grace_wall_s
        return max(0.0, self._due_wall_s - clock.monotonic())


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
    return await _bounded(
        awaitable, clock.sleep(timeout_s), f"{what}: no answer within {timeout_s:g} s"
    )


async def _bounded(awaitable: Awaitable[_T], timer: Awaitable[None], message: str) -> _T:
    work = asyncio.ensure_future(awaitable)
    sleeper = asyncio.ensure_future(timer)
    try:
        await asyncio.wait([work, sleeper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        if not work.done():
            work.cancel()
        await asyncio.gather(work, sleeper, return_exceptions=True)
    if work.cancelled():
        raise TimeoutError(message)
    return work.result()


async def wait_event(
    clock: Clock, event: asyncio.Event, timeout_s: float, *, wall_floor_s: float = 0.0
) -> bool:
    """Wait until `event` is set, or `timeout_s` clock seconds and `wall_floor_s` wall seconds
    have both passed; whether it is set."""
    with contextlib.suppress(TimeoutError):
        await _bounded(event.wait(), _both(clock, timeout_s, wall_floor_s), "event")
    return event.is_set()


async def _both(clock: Clock, duration_s: float, duration_wall_s: float) -> None:
    if duration_wall_s <= 0:
        await clock.sleep(duration_s)
        return
    wall_deadline_s = clock.monotonic() + duration_wall_s
    await clock.sleep(duration_s)
    await clock.wall_sleep(wall_deadline_s - clock.monotonic())
