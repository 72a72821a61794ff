"""The countdown's ways off the nominal timeline: recycle, restart recovery, cutoff, safing,
scrub, and liftoff with post-launch safing.

A mixin of `Countdown`: it reads and changes the engine's state, and lives apart only to keep
each module readable.
"""

from __future__ import annotations

import asyncio
from typing import Any

from padctl.clock import Clock
from padctl.countdown._count_clocks import CountClocks
from padctl.countdown._count_record import CountRecord
from padctl.countdown._events import EventRunner
from padctl.countdown._path_steps import PathSteps
from padctl.countdown._sequence import CountdownSequence
from padctl.countdown._tclock import format_t_time
from padctl.countdown._timeline import CountdownRefused, CountState, CountTrigger, Poll, epoch_of
from padctl.plant import Plant
from padctl.subsystems import (
    FAULT,
    LIFTOFF_VOTE,
    PadContext,
    Subsystem,
    liftoff_contacts_made,
)

S = CountState
T = CountTrigger


class CountdownPaths:
    """Cutoff, safing, scrub and liftoff for the engine (see `Countdown`)."""

    sequence: CountdownSequence
    subsystems: dict[str, Subsystem]
    hold_reason: str
    resumable: bool
    result: str
    poll: Poll | None
    clocks: CountClocks
    record: CountRecord
    machine_state: str
    _plant: Plant
    _clock: Clock
    _context: PadContext
    _done: asyncio.Event
    _lock: asyncio.Lock
    events: EventRunner
    steps: PathSteps
    _task: asyncio.Task[None] | None

    async def _supervise(self) -> None:
        raise NotImplementedError

    @property
    def state(self) -> CountState:
        raise NotImplementedError

    def t_now(self) -> float:
        raise NotImplementedError

    async def _hold(self, reason: str, *, built_in: Any) -> None:
        raise NotImplementedError

    async def _trigger(self, trigger: CountTrigger) -> None:
        raise NotImplementedError

    async def recycle(self, *, actor: str, point: str) -> None:
        """Back to a recycle point's T-time, once its re-entry conditions hold; stays holding."""
        async with self._lock:
            if self.state is not S.HOLDING:
                raise CountdownRefused("recycle", f"the count is {self.state.value}")
            target = next((p for p in self.sequence.recycle_points if p.id == point), None)
            if target is None:
                known = ", ".join(p.id for p in self.sequence.recycle_points)
                raise CountdownRefused("recycle", f"no recycle point {point!r} (known: {known})")
            await self._trigger(T.RECYCLE)
            self.events.running.clear()
            self.record.emit(
                "RECYCLE", f"recycling to {point} ({format_t_time(target.t_s)}) by {actor}"
            )
            for subsystem in self.subsystems.values():
                if subsystem.machine_state == FAULT:
                    await subsystem.reset(actor=actor)
            for step in target.restore:
                if not await self.steps.run(step):
                    await self._hold(f"recycle to {point} stopped at: {step.name}", built_in=None)
                    return
            unmet = [
                c.describe(self._plant.read(c.tag))
                for c in target.require
                if not c.holds(self._plant.read(c.tag))
            ]
            if unmet:
                await self._hold(
                    f"recycle to {point}: re-entry not met: " + "; ".join(unmet), built_in=None
                )
                return
            self.clocks.set_t(target.t_s)
            self.events.next_index = next(
                (i for i, e in enumerate(self.sequence.events) if e.t_s >= target.t_s),
                len(self.sequence.events),
            )
            self._context.set("terminal_count", False)
            self.resumable = True
            await self._hold(f"recycled to {point}", built_in=None)

    async def recover(self, entries: list[Any], *, actor: str = "padctl") -> bool:
        """After a restart: if the journal shows a count under way, come up HOLDING.

        `entries` are the journal's `countdown_state` and `countdown_event` rows, oldest
        first. The T clock is taken from the last one and stays stopped (no event is run
        twice); the L clock is carried over by wall time. Nothing resumes by itself: a
        resume needs a full GO poll.
        """
        if not entries or self.state is not S.IDLE:
            return False
        states = [entry for entry in entries if entry.kind == "countdown_state"]
        if not states or states[-1].payload.get("state") in (S.IDLE.name, S.SECURED.name):
            return False
        last = entries[-1].payload
        elapsed_wall_s = max(0.0, self._clock.wall_now() - epoch_of(entries[-1].t_wall))
        t_s = float(last.get("t_s", self.sequence.start_t_s))
        self.clocks.set_t(t_s)
        self.clocks.start_l(l_s=float(last.get("l_s", 0.0)) + elapsed_wall_s)
        self.events.next_index = next(
            (i for i, e in enumerate(self.sequence.events) if e.t_s > t_s),
            len(self.sequence.events),
        )
        self._context.set("count_active", True)
        self.resumable = last.get("state") in (S.COUNTING.name, S.HOLDING.name)
        self.hold_reason = f"padctl restarted during {states[-1].payload.get('state')}: holding"
        self.poll = Poll(self.sequence.positions)
        await self._trigger(T.RECOVER)
        self.record.emit("RECOVERED", f"count recovered from the journal at {format_t_time(t_s)}")
        self._task = asyncio.create_task(self._supervise(), name="countdown")
        return True

    async def _cutoff(self, reason: str) -> None:
        self.clocks.stop_t()
        self.hold_reason = reason
        self.events.running.clear()
        await self._trigger(T.CUTOFF)
        self.record.emit("CUTOFF", reason)
        for step in self.sequence.cutoff:
            await self.steps.run(step)
        safe = await self._safe_all(reason)
        self.resumable = False
        self._context.set("terminal_count", False)
        await self._hold(
            f"cutoff: {reason}" + ("" if safe else f"; {self.steps.not_safe}"), built_in=None
        )

    async def _safe_all(self, reason: str) -> bool:
        """Safe every subsystem at once (`PathSteps.safe_all`); True only if every one proved
        it. Otherwise the caller holds."""
        if self.state not in (S.SAFING, S.SCRUBBED):  # a failed scrub step safes in place
            await self._trigger(T.SAFE)
        return await self.steps.safe_all(reason)

    async def _check_liftoff(self) -> None:
        made = liftoff_contacts_made(self._plant.read)
        if len(made) >= LIFTOFF_VOTE:
            self.clocks.stop_t()
            self.events.running.clear()
            await self._trigger(T.LIFTOFF)
            self._context.set("terminal_count", False)
            self.record.emit("LIFTOFF", f"liftoff ({', '.join(made)})")
            for step in self.sequence.post_launch:
                await self.steps.run(step)
            self.result = "LIFTOFF"
            await self._trigger(T.SECURE)
            self._context.set("count_active", False)
            self.record.emit("SECURED", "post-launch safing complete")
            self._done.set()
        elif self.t_now() > self.sequence.liftoff_within_s:
            await self._cutoff(f"no liftoff {self.sequence.liftoff_within_s:g} s after T-0")

    async def _scrub(self, reason: str) -> None:
        self.clocks.stop_t()
        self.hold_reason = reason
        self.events.running.clear()
        self.poll = None
        await self._trigger(T.SCRUB)
        self.record.emit("SCRUB", reason)
        for step in self.sequence.scrub:
            if not await self.steps.run(step):
                if not await self._safe_all(f"scrub step failed: {step.name}"):
                    # Not secured while anything is unproven: hold for the team to make it
                    # safe by hand, then scrub again.
                    self.resumable = False
                    await self._hold(f"scrub: {self.steps.not_safe}", built_in=None)
                    return
                break
        self.result = f"SCRUBBED: {reason}"
        await self._trigger(T.SECURE)
        self._context.set("count_active", False)
        self.record.emit("SECURED", "pad secured")
        self._done.set()
