"""The countdown's ways off the nominal timeline: recycle, restart recovery, cutoff, safing,
scrub, and liftoff with post-launch safing.

A mixin of `Countdown`: it reads and changes the engine's state, and lives apart only to keep
each module readable.
"""

from __future__ import annotations

import asyncio
from typing import Any

from padctl.alarms import AlarmDefinition, AlarmKind, AlarmManager, AlarmPriority
from padctl.clock import Clock
from padctl.countdown._sequence import CountdownSequence, Step
from padctl.countdown._tclock import format_t_time
from padctl.countdown._timeline import CountdownRefused, CountState, Poll, epoch_of
from padctl.plant import Plant
from padctl.procedure import Condition
from padctl.subsystems import FAULT, CommandRefused, Origin, PadContext, Subsystem

S = CountState
LIFTOFF_CONTACTS = ("VEH-LIFTOFF-1", "VEH-LIFTOFF-2", "VEH-LIFTOFF-3")
PAD_NOT_SAFE = AlarmDefinition(
    id="PAD-NOT-SAFE",
    message="Pad not proven safe after a cutoff or scrub",
    priority=AlarmPriority.URGENT,
    kind=AlarmKind.EVENT,
)


class CountdownPaths:
    """Cutoff, safing, scrub and liftoff for the engine (see `Countdown`)."""

    sequence: CountdownSequence
    subsystems: dict[str, Subsystem]
    hold_reason: str
    resumable: bool
    result: str
    poll: Poll | None
    t_s: float
    machine_state: str
    _plant: Plant
    _clock: Clock
    _alarms: AlarmManager | None
    _context: PadContext
    _done: asyncio.Event
    _lock: asyncio.Lock
    _running: list[Any]
    _next_event: int
    _t_anchor_s: float | None
    _l_start_s: float | None
    _task: asyncio.Task[None] | None

    async def _supervise(self) -> None:
        raise NotImplementedError

    @property
    def state(self) -> CountState:
        raise NotImplementedError

    def t_now(self) -> float:
        raise NotImplementedError

    def _stop_t(self) -> None:
        raise NotImplementedError

    def _emit(self, kind: str, text: str) -> None:
        raise NotImplementedError

    async def _hold(self, reason: str, *, built_in: Any) -> None:
        raise NotImplementedError

    async def _trigger(self, name: str) -> None:
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
            await self._trigger("recycle")
            self._running.clear()
            self._emit("RECYCLE", f"recycling to {point} ({format_t_time(target.t_s)}) by {actor}")
            for subsystem in self.subsystems.values():
                if subsystem.machine_state == FAULT:
                    await subsystem.reset(actor=actor)
            for step in target.restore:
                if not await self._run_step(step):
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
            self.t_s = target.t_s
            self._next_event = next(
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
        self.t_s = float(last.get("t_s", self.sequence.start_t_s))
        self._l_start_s = self._clock.now() - float(last.get("l_s", 0.0)) - elapsed_wall_s
        self._next_event = next(
            (i for i, e in enumerate(self.sequence.events) if e.t_s > self.t_s),
            len(self.sequence.events),
        )
        self._context.set("count_active", True)
        self.resumable = last.get("state") in (S.COUNTING.name, S.HOLDING.name)
        self._t_anchor_s = None
        self.hold_reason = f"padctl restarted during {states[-1].payload.get('state')}: holding"
        self.poll = Poll(self.sequence.positions)
        await self._trigger("recover")
        self._emit("RECOVERED", f"count recovered from the journal at {format_t_time(self.t_s)}")
        self._task = asyncio.create_task(self._supervise(), name="countdown")
        return True

    async def _cutoff(self, reason: str) -> None:
        self._stop_t()
        self.hold_reason = reason
        self._running.clear()
        await self._trigger("cutoff")
        self._emit("CUTOFF", reason)
        for step in self.sequence.cutoff:
            await self._run_step(step)
        safe = await self._safe_all(reason)
        self.resumable = False
        self._context.set("terminal_count", False)
        await self._hold(
            f"cutoff: {reason}" + ("" if safe else f"; {self._not_safe}"), built_in=None
        )

    async def _safe_all(self, reason: str) -> bool:
        """Safe every subsystem at once; True only if every one proved it. Otherwise the
        PAD-NOT-SAFE alarm names what is not safe (and the caller holds)."""
        if self.state not in (S.SAFING, S.SCRUBBED):  # a failed scrub step safes in place
            await self._trigger("safe")
        self._emit("SAFING", reason)
        results = await asyncio.gather(
            *(
                subsystem.safe(actor="countdown", reason=reason)
                for subsystem in self.subsystems.values()
            ),
            return_exceptions=True,
        )
        unsafe: list[str] = []
        for (name, subsystem), result in zip(self.subsystems.items(), results, strict=True):
            if result is True:
                continue
            if isinstance(result, BaseException):
                unsafe.append(f"{name} (safing failed: {result!r})")
                continue
            unproven = [tag for tag, status in subsystem.last_safing.items() if status != "proven"]
            unsafe.append(f"{name} ({', '.join(unproven) or 'safe state not shown'})")
        if unsafe:
            self._not_safe = "pad NOT proven safe: " + "; ".join(unsafe)
            self._emit("NOT SAFE", self._not_safe)
            if self._alarms is not None:
                self._alarms.set_condition(PAD_NOT_SAFE.id, True, detail=self._not_safe)
            return False
        self._not_safe = ""
        if self._alarms is not None:
            self._alarms.set_condition(PAD_NOT_SAFE.id, False)
        self._emit("SAFED", "pad safe: every subsystem proved its safe state")
        return True

    async def _run_step(self, step: Step) -> bool:
        """One step of a recycle, cutoff, scrub or post-launch path: wait for its conditions,
        give its commands one after another (each once the one before it is confirmed), then
        see its expectations; all within `within_s`."""
        self._emit("STEP", step.name)
        pace = self._plant.pace
        pace.open_window("step", step.within_s, f"step {step.name}")
        try:
            return await self._run_step_in_window(step)
        finally:
            pace.close_window("step")

    async def _run_step_in_window(self, step: Step) -> bool:
        deadline_s = self._clock.now() + step.within_s
        if not await self._wait_until(step.wait_for, deadline_s):
            self._emit("FAILED", f"{step.name}: not ready within {step.within_s:g} s")
            return False
        for action in step.actions:
            subsystem = self.subsystems[action.subsystem]
            if not subsystem.accepts_from_state(action.command):
                # A recovery step: what is already past (or never reached) needs no command;
                # the step's expectations and the safing after it prove the pad.
                self._emit(
                    "SKIPPED",
                    f"{step.name}: {action.subsystem}.{action.command} "
                    f"(state {subsystem.machine_state})",
                )
                continue
            try:
                ticket = await subsystem.command(
                    action.command, actor="countdown", origin=Origin.SEQUENCE
                )
            except CommandRefused as refused:
                self._emit("REFUSED", f"{step.name}: {refused}")
                return False
            outcome = await ticket.wait()
            if outcome != "confirmed":
                self._emit("FAILED", f"{step.name}: {outcome}")
                return False
        if not await self._wait_until(step.expect, deadline_s):
            self._emit("FAILED", f"{step.name}: expectations not met within {step.within_s:g} s")
            return False
        return True

    async def _wait_until(self, conditions: tuple[Condition, ...], deadline_s: float) -> bool:
        read = self._plant.read
        return await self._plant.table.wait_for(
            lambda _t: all(c.holds(read(c.tag)) for c in conditions),
            timeout_s=max(0.0, deadline_s - self._clock.now()),
            grace_wall_s=self._plant.pace.command_wall_s,
        )

    async def _check_liftoff(self) -> None:
        made = [
            tag
            for tag in LIFTOFF_CONTACTS
            if self._plant.read(tag).value is True and self._plant.read(tag).is_good
        ]
        if len(made) >= 2:  # 2-of-3 liftoff contacts
            self._stop_t()
            self._running.clear()
            await self._trigger("liftoff")
            self._context.set("terminal_count", False)
            self._emit("LIFTOFF", f"liftoff ({', '.join(made)})")
            for step in self.sequence.post_launch:
                await self._run_step(step)
            self.result = "LIFTOFF"
            await self._trigger("secure")
            self._context.set("count_active", False)
            self._emit("SECURED", "post-launch safing complete")
            self._done.set()
        elif self.t_now() > self.sequence.liftoff_within_s:
            await self._cutoff(f"no liftoff {self.sequence.liftoff_within_s:g} s after T-0")

    async def _scrub(self, reason: str) -> None:
        self._stop_t()
        self.hold_reason = reason
        self._running.clear()
        self.poll = None
        await self._trigger("scrub")
        self._emit("SCRUB", reason)
        for step in self.sequence.scrub:
            if not await self._run_step(step):
                if not await self._safe_all(f"scrub step failed: {step.name}"):
                    # Not secured while anything is unproven: hold for the team to make it
                    # safe by hand, then scrub again.
                    self.resumable = False
                    await self._hold(f"scrub: {self._not_safe}", built_in=None)
                    return
                break
        self.result = f"SCRUBBED: {reason}"
        await self._trigger("secure")
        self._context.set("count_active", False)
        self._emit("SECURED", "pad secured")
        self._done.set()
