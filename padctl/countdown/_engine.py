"""The countdown engine: T and L clocks, events, holds, polls, LCC, recycle and recovery."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import structlog

from padctl.alarms import AlarmManager
from padctl.clock import Clock, wait_event
from padctl.countdown._checkpoint import CountdownCheckpoint, restore_checkpoint, take_checkpoint
from padctl.countdown._count_clocks import CountClocks
from padctl.countdown._count_loop import CountLoop
from padctl.countdown._count_record import CountRecord
from padctl.countdown._count_timing import CountPacing, Due, next_due, sleep_until_next
from padctl.countdown._events import EventRunner, StopReason
from padctl.countdown._lcc import Criterion
from padctl.countdown._lcc_watch import LccWatch
from padctl.countdown._path_steps import PathSteps
from padctl.countdown._paths import CountPaths
from padctl.countdown._sequence import CountdownSequence, Event
from padctl.countdown._timeline import (
    RUNNING,
    CountdownRefused,
    CountEvent,
    CountState,
    CountStatus,
    CountTrigger,
    Poll,
    attach_count_machine,
)
from padctl.plant import Plant
from padctl.subsystems import Mode, PadContext, Subsystem

log = structlog.get_logger()

S = CountState
T = CountTrigger


class Countdown:
    """Runs one countdown sequence against the subsystems, watching the LCC the whole time."""

    machine_state: str  # the state machine's (attach_count_machine)
    trigger: Callable[[str], Awaitable[bool]]

    def __init__(
        self,
        *,
        sequence: CountdownSequence,
        subsystems: dict[str, Subsystem],
        plant: Plant,
        clock: Clock,
        context: PadContext,
        lcc: tuple[Criterion, ...] = (),
        on_event: Callable[[CountEvent], None] | None = None,
        alarms: AlarmManager | None = None,
        start_check: Callable[[], list[str]] | None = None,
    ) -> None:
        """`start_check` names what keeps a count from starting (stale data, a PLC watchdog
        still holding its outputs safe); nothing is commanded until it names nothing."""
        self.sequence = sequence
        self._start_check = start_check
        self.subsystems = subsystems
        self._plant = plant
        self.clock = clock
        self.context = context  # the pad's flags the count sets (count_active, terminal_count)
        self.clocks = CountClocks(clock, sequence.start_t_s)
        self.status = CountStatus()
        self.record = CountRecord(self.clocks, plant.journal, lambda: self.machine_state, on_event)
        self.timeline = self.record.timeline  # what the console and the CLI show
        self.loop = CountLoop(self._supervise, idle=lambda: self.state in (S.IDLE, S.SECURED))
        # A change of any tag an LCC reads, or a command's outcome, wakes the loop at once:
        # the reaction time is set by the PLC poll period, not by the engine's tick.
        self._wake = asyncio.Event()
        self._lcc = LccWatch(lcc, plant=plant, alarms=alarms, wake=self._wake)
        self.events = EventRunner(
            sequence,
            subsystems=subsystems,
            plant=plant,
            clocks=self.clocks,
            record=self.record,
            wake=self._wake,
        )
        self._pacing = CountPacing(plant.pace, self.events, self._lcc)
        steps = PathSteps(
            subsystems=subsystems, plant=plant, clock=clock, record=self.record, alarms=alarms
        )
        self.paths = CountPaths(  # cutoff, safing, scrub, recycle, recovery, liftoff
            sequence=sequence,
            subsystems=subsystems,
            plant=plant,
            clock=clock,
            context=context,
            clocks=self.clocks,
            record=self.record,
            events=self.events,
            steps=steps,
            status=self.status,
            state=lambda: self.state,
            trigger=self._trigger,
            hold=lambda reason: self._hold(reason, built_in=None),
        )
        attach_count_machine(self)

    # ---- clocks -----------------------------------------------------------------------------
    @property
    def state(self) -> CountState:
        return CountState[self.machine_state]

    @property
    def done(self) -> bool:
        return self.status.done.is_set()

    def hold_remaining_s(self) -> float | None:
        """Clock seconds left in the built-in hold the count is in (None outside one)."""
        until_s = self.status.hold_until_s
        return None if until_s is None else max(0.0, until_s - self.clock.now())

    def t_now(self) -> float:
        """The T clock: runs while counting, stopped in holds."""
        return self.clocks.t_now()

    def l_now(self) -> float:
        """The L clock: seconds since the count started; never stops."""
        return self.clocks.l_now()

    def next_event(self) -> Event | None:
        return self.events.next_event()

    async def _start_t_with(self, trigger: CountTrigger) -> None:
        """Run T and change state by `trigger`: T runs before the state says it does.

        The state change awaits its callbacks (a loop turn or more); a console update in
        between must not show COUNTING with T standing still (T would lose that time).
        """
        t_before_s = self.clocks.t_now()
        self.clocks.start_t()
        try:
            await self._trigger(trigger)
        except BaseException:
            self.clocks.set_t(t_before_s)
            raise

    async def _trigger(self, trigger: CountTrigger) -> None:
        await self.trigger(trigger.event_name)

    # ---- journal and timeline -----------------------------------------------------------------
    async def _state_changed(self, event: Any) -> None:
        payload = {
            "trigger": event.event.name.removeprefix("t_"),
            "reason": self.status.hold_reason,
        }
        self.record.journal_soon("countdown_state", payload)

    # ---- operator commands ------------------------------------------------------------------
    async def start(self, *, actor: str) -> None:
        """Start the count: subsystems to AUTO, T clock running from the sequence's start."""
        async with self.loop.lock:
            if self.state is not S.IDLE:
                raise CountdownRefused("start", f"the count is {self.state.value}")
            problems = self._start_check() if self._start_check is not None else []
            if problems:
                raise CountdownRefused("start", "; ".join(problems))
            for subsystem in self.subsystems.values():
                await subsystem.set_mode(Mode.AUTO, actor=actor)
            self.clocks.start_l()
            self.context.set("count_active", True)
            await self._start_t_with(T.START)
            self.record.emit("START", f"count started by {actor}, profile {self.sequence.profile}")
            self.loop.start()

    async def hold(self, *, actor: str, reason: str) -> None:
        """An unplanned hold; inside the terminal count a hold is a cutoff."""
        async with self.loop.lock:
            if self.state is S.TERMINAL_COUNT:
                await self.paths.cutoff(f"hold called in terminal count by {actor}: {reason}")
                return
            if self.state is not S.COUNTING:
                raise CountdownRefused("hold", f"the count is {self.state.value}")
            await self._hold(f"{reason} (by {actor})", built_in=None)

    async def resume(self, *, actor: str) -> None:
        """Resume from a hold: needs every position GO and no launch commit criterion violated."""
        async with self.loop.lock:
            self._check_resume()
            await self._resume(actor)

    def _check_resume(self) -> None:
        if self.state is not S.HOLDING:
            raise CountdownRefused("resume", f"the count is {self.state.value}")
        if not self.status.resumable:
            raise CountdownRefused("resume", f"{self.status.hold_reason}: recycle or scrub instead")
        if self.status.poll is None or not self.status.poll.all_go:
            missing = ["(no poll open)"] if self.status.poll is None else self.status.poll.missing
            raise CountdownRefused(
                "resume", "GO/NO-GO poll incomplete: no GO from " + ", ".join(missing)
            )
        violations = self._lcc.violations(t_s=self.t_now(), now_s=self.clock.now())
        if violations:
            raise CountdownRefused(
                "resume",
                "LCC violated: " + "; ".join(f"{v.criterion.id} {v.reason}" for v in violations),
            )

    async def _resume(self, actor: str) -> None:
        for subsystem in self.subsystems.values():
            if subsystem.mode is Mode.MANUAL:  # e.g. after a restart: the sequence drives again
                await subsystem.set_mode(Mode.AUTO, actor=actor)
        status = self.status
        status.hold_reason, status.hold_id, status.hold_until_s, status.poll = "", None, None, None
        # A command that faulted has been answered by this hold and its poll: forget it, or
        # it would hold the count again at once.
        self.events.forget_answered()
        await self._start_t_with(T.RESUME)
        self.record.emit("RESUME", f"count resumed by {actor}")

    async def answer_poll(self, *, position: str, go: bool, actor: str) -> None:
        """One position's GO or NO-GO, journaled with who and when."""
        if self.status.poll is None:
            raise CountdownRefused("poll", "no GO/NO-GO poll is open")
        if position not in self.status.poll.positions:
            raise CountdownRefused(
                "poll",
                f"no position {position!r} (positions: {', '.join(self.status.poll.positions)})",
            )
        self.status.poll.answers[position] = go
        await self.record.journal("poll_answer", {"position": position, "go": go}, actor)
        self.record.emit("POLL", f"{position}: {'GO' if go else 'NO-GO'} ({actor})")

    async def abort(self, *, actor: str, reason: str) -> None:
        """Cut off now, then safe the pad."""
        async with self.loop.lock:
            if self.state not in (S.COUNTING, S.HOLDING, S.TERMINAL_COUNT):
                raise CountdownRefused("abort", f"the count is {self.state.value}")
            await self.paths.cutoff(f"abort by {actor}: {reason}")

    async def scrub(self, *, actor: str, reason: str) -> None:
        """Give up today's attempt: detank, vent, secure the pad."""
        async with self.loop.lock:
            if self.state not in (S.COUNTING, S.HOLDING):
                raise CountdownRefused("scrub", f"the count is {self.state.value}")
            await self.paths.scrub(f"{reason} (by {actor})")

    async def recycle(self, *, actor: str, point: str) -> None:
        """Back to a recycle point's T-time, once its re-entry conditions hold; stays holding."""
        async with self.loop.lock:
            await self.paths.recycle(actor=actor, point=point)

    async def recover(self, entries: list[Any], *, actor: str = "padctl") -> bool:
        """After a restart: if the journal's `countdown_state` and `countdown_event` rows
        (oldest first) show a count under way, come up HOLDING (`CountPaths.recover`) and
        watch the pad again. Nothing resumes by itself."""
        if not await self.paths.recover(entries, actor=actor):
            return False
        self.loop.start()
        return True

    # ---- checkpoints (padctl.countdown._checkpoint) -----------------------------------------
    def checkpoint(self) -> CountdownCheckpoint:
        """The count's clocks, next event, state and hold, to come back to later."""
        return take_checkpoint(self)

    def halted(self, *, timeout_wall_s: float = 2.0) -> AbstractAsyncContextManager[None]:
        """The count stopped while the pad under it is put back (then `restore` it)."""
        return self.loop.halted(timeout_wall_s=timeout_wall_s)

    async def restore(
        self, checkpoint: CountdownCheckpoint, *, actor: str, label: str = ""
    ) -> None:
        """Back to `checkpoint`, inside `halted()`; the count carries on from there."""
        await restore_checkpoint(self, checkpoint, actor=actor, label=label)

    async def stop(self) -> None:
        await self.loop.stop()
        self._plant.pace.close_window("step")
        self._pacing.close()

    async def _supervise(self) -> None:
        """Run the count; if the sequence crashes, safing still runs."""
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the engine's own failure: safe the pad, then stop
            log.exception("countdown_crashed")
            self.record.emit("CRASH", f"sequence task failed: {error!r}; safing the pad")
            await self.record.journal("countdown_crashed", {"error": repr(error)})
            await self.paths.safe_all(f"sequence crashed: {error!r}")
            self.status.result = f"CRASHED: {error!r}"
            self.status.done.set()

    async def _run(self) -> None:
        while self.state is not S.SECURED:
            async with self.loop.lock:
                await self.step()
                self._pace_windows()
            if self.status.done.is_set():
                return
            self._wake.clear()
            sleep_s, floor_wall_s = self._sleep()
            await wait_event(self.clock, self._wake, sleep_s, wall_floor_s=floor_wall_s)

    def _sleep(self) -> tuple[float, float]:
        """Until the next tick (clock seconds, with a wall floor), or exactly until the next
        due moment when that comes sooner."""
        return sleep_until_next(self._next_due(), self.clock.rate)

    def _next_due(self) -> Due | None:
        return next_due(
            self.state,
            t_now_s=self.t_now(),
            terminal_count_t_s=self.sequence.terminal_count_t_s,
            next_event=self.next_event(),
            hold_remaining_s=self.hold_remaining_s(),
            poll=self.status.poll,
        )

    async def step(self) -> None:
        """One tick: LCC, commands in flight, due events, terminal count, liftoff, window."""
        state = self.state
        self._pace_windows()
        if state in RUNNING:
            if await self.paths.stop_for(self._violation()):
                return
            self.events.begin_due()
            self._pace_windows()
            for running in list(self.events.running):
                outcome = await self.events.advance(running)
                if isinstance(outcome, Event):  # it ends in a built-in hold
                    await self._hold(f"built-in hold {outcome.hold_id}", built_in=outcome)
                elif await self.paths.stop_for(outcome):
                    return
                if self.state not in RUNNING:
                    return
            if state is S.COUNTING and self.t_now() >= self.sequence.terminal_count_t_s:
                self.context.set("terminal_count", True)
                await self._trigger(T.ENTER_TERMINAL_COUNT)
                self.record.emit("TERMINAL", "automatic terminal count")
            if self.state is S.TERMINAL_COUNT and self.t_now() >= 0:
                await self.paths.check_liftoff()
        elif state is S.HOLDING and self.status.hold_until_s is not None:
            if self.clock.now() >= self.status.hold_until_s and (
                self.status.poll is None or self.status.poll.all_go
            ):
                try:
                    self._check_resume() if self.status.poll is not None else None
                except CountdownRefused as refused:
                    self.record.emit("HOLDING", f"built-in hold cannot end: {refused.reason}")
                    self.status.hold_until_s = None
                    self.status.hold_reason = refused.reason
                    return
                await self._resume("countdown (built-in hold complete)")
                return
        if state in (S.COUNTING, S.HOLDING):
            self.loop.keep_window_task(self.paths.check_window(self.loop.lock))

    def _pace_windows(self) -> None:
        """Tell the rate governor the timing windows in play (`CountPacing`)."""
        terminal_count = self.state is S.TERMINAL_COUNT
        self._pacing.show(self._next_due(), t_s=self.t_now(), terminal_count=terminal_count)

    def _violation(self) -> StopReason | None:
        """The first reason to stop: an LCC violation, or a sequence command that faulted."""
        reason = self._lcc.reason_to_stop(t_s=self.t_now(), now_s=self.clock.now())
        if reason is not None:
            return reason
        return self.events.faulted_command()

    async def _hold(self, reason: str, *, built_in: Event | None) -> None:
        # Everything a console shows of the hold is set before the state changes.
        self.clocks.stop_t()
        status = self.status
        status.hold_reason = reason
        status.hold_id = built_in.hold_id if built_in else None
        status.hold_until_s = self.clock.now() + built_in.hold_s if built_in else None
        needs_poll = built_in is None or built_in.poll
        status.poll = Poll(self.sequence.positions) if needs_poll else None
        if self.state is not S.HOLDING:
            await self._trigger(T.HOLD)
        self.record.emit("HOLD", reason + (" - GO/NO-GO poll open" if needs_poll else ""))
