"""The countdown's ways off the nominal timeline: recycle, restart recovery, cutoff, safing,
scrub (also when the launch window is missed), and liftoff with post-launch safing.

`CountPaths` is a part of the engine (`Countdown`) with its collaborators given explicitly:
what it reads (sequence, plant, clocks, events), what it changes (the count's `CountStatus`,
the pad context), and what it asks of the engine (its state, a transition, a hold). The
engine calls it under its lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from padctl.clock import Clock
from padctl.countdown._count_clocks import CountClocks
from padctl.countdown._count_record import CountRecord
from padctl.countdown._events import EventRunner, StopReason
from padctl.countdown._path_steps import PathSteps
from padctl.countdown._sequence import CountdownSequence
from padctl.countdown._tclock import format_t_time
from padctl.countdown._timeline import (
    CountdownRefused,
    CountState,
    CountStatus,
    CountTrigger,
    Poll,
    epoch_of,
)
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


class CountPaths:
    """Cutoff, safing, scrub, recycle, recovery and liftoff of one count."""

    def __init__(
        self,
        *,
        sequence: CountdownSequence,
        subsystems: dict[str, Subsystem],
        plant: Plant,
        clock: Clock,
        context: PadContext,
        clocks: CountClocks,
        record: CountRecord,
        events: EventRunner,
        steps: PathSteps,
        status: CountStatus,
        state: Callable[[], CountState],
        trigger: Callable[[CountTrigger], Awaitable[None]],
        hold: Callable[[str], Awaitable[None]],
    ) -> None:
        """`state`, `trigger` and `hold` are the engine's: its state now, a transition, and
        a hold with a GO/NO-GO poll (never a built-in one)."""
        self.sequence = sequence
        self._subsystems = subsystems
        self._plant = plant
        self._clock = clock
        self._context = context
        self._clocks = clocks
        self._record = record
        self._events = events
        self._steps = steps
        self._status = status
        self._state = state
        self._trigger = trigger
        self._hold = hold

    async def recycle(self, *, actor: str, point: str) -> None:
        """Back to a recycle point's T-time, once its re-entry conditions hold; stays holding."""
        if self._state() is not S.HOLDING:
            raise CountdownRefused("recycle", f"the count is {self._state().value}")
        target = next((p for p in self.sequence.recycle_points if p.id == point), None)
        if target is None:
            known = ", ".join(p.id for p in self.sequence.recycle_points)
            raise CountdownRefused("recycle", f"no recycle point {point!r} (known: {known})")
        await self._trigger(T.RECYCLE)
        self._events.running.clear()
        self._events.faulted.clear()  # the recycle's restore answers the faulted steps
        self._record.emit(
            "RECYCLE", f"recycling to {point} ({format_t_time(target.t_s)}) by {actor}"
        )
        for subsystem in self._subsystems.values():
            if subsystem.machine_state == FAULT:
                await subsystem.reset(actor=actor)
        for step in target.restore:
            if not await self._steps.run(step):
                await self._hold(f"recycle to {point} stopped at: {step.name}")
                return
        unmet = [
            c.describe(self._plant.read(c.tag))
            for c in target.require
            if not c.holds(self._plant.read(c.tag))
        ]
        if unmet:
            await self._hold(f"recycle to {point}: re-entry not met: " + "; ".join(unmet))
            return
        self._clocks.set_t(target.t_s)
        self._events.next_index = next(
            (i for i, e in enumerate(self.sequence.events) if e.t_s >= target.t_s),
            len(self.sequence.events),
        )
        self._context.set("terminal_count", False)
        self._status.resumable = True
        await self._hold(f"recycled to {point}")

    async def recover(self, entries: list[Any], *, actor: str = "padctl") -> bool:
        """After a restart: if the journal shows a count under way, come up HOLDING.

        `entries` are the journal's `countdown_state` and `countdown_event` rows, oldest
        first. The T clock is taken from the last one and stays stopped (no event is run
        twice); the L clock is carried over by wall time. Nothing resumes by itself: a
        resume needs a full GO poll.
        """
        if not entries or self._state() is not S.IDLE:
            return False
        states = [entry for entry in entries if entry.kind == "countdown_state"]
        if not states or states[-1].payload.get("state") in (S.IDLE.name, S.SECURED.name):
            return False
        last = entries[-1].payload
        elapsed_wall_s = max(0.0, self._clock.wall_now() - epoch_of(entries[-1].t_wall))
        t_s = float(last.get("t_s", self.sequence.start_t_s))
        self._clocks.set_t(t_s)
        self._clocks.start_l(l_s=float(last.get("l_s", 0.0)) + elapsed_wall_s)
        self._events.next_index = next(
            (i for i, e in enumerate(self.sequence.events) if e.t_s > t_s),
            len(self.sequence.events),
        )
        self._context.set("count_active", True)
        self._status.resumable = last.get("state") in (S.COUNTING.name, S.HOLDING.name)
        self._status.hold_reason = (
            f"padctl restarted during {states[-1].payload.get('state')}: holding"
        )
        self._status.poll = Poll(self.sequence.positions)
        await self._trigger(T.RECOVER)
        self._record.emit("RECOVERED", f"count recovered from the journal at {format_t_time(t_s)}")
        return True

    async def stop_for(self, reason: StopReason | None) -> bool:
        """Hold (or, in the terminal count and for a cutoff reason, cut off); False if no reason."""
        if reason is None:
            return False
        text, cuts = reason
        if self._state() is S.TERMINAL_COUNT and cuts:
            await self.cutoff(text)
        else:
            await self._hold(text)
        return True

    async def cutoff(self, reason: str) -> None:
        self._clocks.stop_t()
        self._status.hold_reason = reason
        self._events.running.clear()
        await self._trigger(T.CUTOFF)
        self._record.emit("CUTOFF", reason)
        for step in self.sequence.cutoff:
            await self._steps.run(step)
        safe = await self.safe_all(reason)
        self._status.resumable = False
        self._context.set("terminal_count", False)
        await self._hold(f"cutoff: {reason}" + ("" if safe else f"; {self._steps.not_safe}"))

    async def safe_all(self, reason: str) -> bool:
        """Safe every subsystem at once (`PathSteps.safe_all`); True only if every one proved
        it. Otherwise the caller holds."""
        if self._state() not in (S.SAFING, S.SCRUBBED):  # a failed scrub step safes in place
            await self._trigger(T.SAFE)
        return await self._steps.safe_all(reason)

    async def check_liftoff(self) -> None:
        made = liftoff_contacts_made(self._plant.read)
        if len(made) >= LIFTOFF_VOTE:
            self._clocks.stop_t()
            self._events.running.clear()
            await self._trigger(T.LIFTOFF)
            self._context.set("terminal_count", False)
            self._record.emit("LIFTOFF", f"liftoff ({', '.join(made)})")
            for step in self.sequence.post_launch:
                await self._steps.run(step)
            self._status.result = "LIFTOFF"
            await self._trigger(T.SECURE)
            self._context.set("count_active", False)
            self._record.emit("SECURED", "post-launch safing complete")
            self._status.done.set()
        elif self._clocks.t_now() > self.sequence.liftoff_within_s:
            await self.cutoff(f"no liftoff {self.sequence.liftoff_within_s:g} s after T-0")

    async def scrub(self, reason: str) -> None:
        self._clocks.stop_t()
        self._status.hold_reason = reason
        self._events.running.clear()
        self._status.poll = None
        await self._trigger(T.SCRUB)
        self._record.emit("SCRUB", reason)
        for step in self.sequence.scrub:
            if not await self._steps.run(step):
                if not await self.safe_all(f"scrub step failed: {step.name}"):
                    # Not secured while anything is unproven: hold for the team to make it
                    # safe by hand, then scrub again.
                    self._status.resumable = False
                    await self._hold(f"scrub: {self._steps.not_safe}")
                    return
                break
        self._status.result = f"SCRUBBED: {reason}"
        await self._trigger(T.SECURE)
        self._context.set("count_active", False)
        self._record.emit("SECURED", "pad secured")
        self._status.done.set()

    def check_window(self, lock: asyncio.Lock) -> asyncio.Task[None] | None:
        """Scrub (under `lock`) once T-0, with the built-in holds still to come, would fall
        after the launch window closes; the scrub's task, when one is started now."""
        reason = self.sequence.window_missed(t_s=self._clocks.t_now(), l_s=self._clocks.l_now())
        if not reason or self._status.pending_scrub:
            return None
        self._status.pending_scrub = reason
        return asyncio.create_task(self._locked_scrub(reason, lock), name="countdown-window")

    async def _locked_scrub(self, reason: str, lock: asyncio.Lock) -> None:
        async with lock:
            if self._state() in (S.COUNTING, S.HOLDING):
                await self.scrub(reason)
