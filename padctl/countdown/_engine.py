"""The countdown engine: T and L clocks, events, holds, polls, LCC, cutoff, recycle, scrub."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from transitions.extensions.asyncio import AsyncMachine

from padctl.clock import Clock, wait_event
from padctl.countdown._lcc import Criterion, LccAction, LccMonitor
from padctl.countdown._sequence import Action, CountdownSequence, Event, Step
from padctl.countdown._tclock import format_t_time
from padctl.plant import Plant, record_soon
from padctl.subsystems import CommandRefused, CommandTicket, Mode, Origin, PadContext, Subsystem
from padctl.tasks import cancel_and_wait

log = structlog.get_logger()

TICK_S = 0.1  # clock seconds between LCC evaluations (also bounded by a wall-time floor)
LIFTOFF_CONTACTS = ("VEH-LIFTOFF-1", "VEH-LIFTOFF-2", "VEH-LIFTOFF-3")


class CountState(enum.Enum):
    IDLE = "idle"
    COUNTING = "counting"
    HOLDING = "holding"
    TERMINAL_COUNT = "terminal count"
    RECYCLING = "recycling"
    CUTOFF = "cutoff"
    SAFING = "safing"
    SCRUBBED = "scrubbed"
    SECURED = "secured"
    LIFTOFF = "liftoff"


S = CountState
RUNNING = (S.COUNTING, S.TERMINAL_COUNT)
COUNT_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "start", "source": S.IDLE, "dest": S.COUNTING},
    {"trigger": "hold", "source": [S.COUNTING, S.RECYCLING, S.SAFING], "dest": S.HOLDING},
    {"trigger": "resume", "source": S.HOLDING, "dest": S.COUNTING},
    {"trigger": "enter_terminal_count", "source": S.COUNTING, "dest": S.TERMINAL_COUNT},
    {"trigger": "cutoff", "source": [S.COUNTING, S.HOLDING, S.TERMINAL_COUNT], "dest": S.CUTOFF},
    {
        "trigger": "safe",
        "source": [S.CUTOFF, S.COUNTING, S.HOLDING, S.TERMINAL_COUNT],
        "dest": S.SAFING,
    },
    {"trigger": "recycle", "source": S.HOLDING, "dest": S.RECYCLING},
    {"trigger": "scrub", "source": [S.COUNTING, S.HOLDING, S.SAFING], "dest": S.SCRUBBED},
    {"trigger": "secure", "source": [S.SCRUBBED, S.LIFTOFF], "dest": S.SECURED},
    {"trigger": "liftoff", "source": S.TERMINAL_COUNT, "dest": S.LIFTOFF},
    {"trigger": "recover", "source": S.IDLE, "dest": S.HOLDING},  # after a restart
]


class CountdownRefused(Exception):
    """An operator command that does not fit the count now; nothing changed."""

    def __init__(self, command: str, reason: str) -> None:
        self.command = command
        self.reason = reason
        super().__init__(f"countdown {command} refused: {reason}")


@dataclass(frozen=True)
class CountEvent:
    """One line of the countdown timeline."""

    t_s: float
    l_s: float
    kind: str
    text: str

    def __str__(self) -> str:
        minutes, seconds = divmod(int(self.l_s), 60)
        hours, minutes = divmod(minutes, 60)
        return (
            f"{format_t_time(self.t_s)}  L+{hours:02d}:{minutes:02d}:{seconds:02d}  "
            f"{self.kind:<10} {self.text}"
        )


@dataclass
class Poll:
    """A GO/NO-GO poll: each position answers for itself."""

    positions: tuple[str, ...]
    answers: dict[str, bool] = field(default_factory=dict)

    @property
    def all_go(self) -> bool:
        return all(self.answers.get(position) is True for position in self.positions)


class Countdown:
    """Runs one countdown sequence against the subsystems, watching the LCC the whole time."""

    machine_state: str

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
    ) -> None:
        self.sequence = sequence
        self.subsystems = subsystems
        self._plant = plant
        self._clock = clock
        self._context = context
        self._monitor = LccMonitor(lcc, plant.read)
        self._on_event = on_event
        self.t_s = sequence.start_t_s
        self._t_anchor_s: float | None = None  # clock time when T last started running
        self._l_start_s: float | None = None
        self._next_event = 0
        self.hold_reason = ""
        self._hold_id: str | None = None
        self._hold_until_s: float | None = None  # built-in hold: clock time it may end
        self.poll: Poll | None = None
        self.resumable = True
        self.timeline: list[CountEvent] = []
        self.result = ""  # LIFTOFF, or why the count ended
        self._tickets: list[tuple[str, CommandTicket]] = []
        self._task: asyncio.Task[None] | None = None
        self._done = asyncio.Event()
        self._lock = asyncio.Lock()
        # A change of any tag an LCC reads wakes the loop at once: the reaction time is set
        # by the PLC poll period, not by the engine's tick.
        self._wake = asyncio.Event()
        self._lcc_tags = {tag for criterion in lcc for tag in criterion.tags}
        self._remove_listener = plant.table.add_listener(self._on_tags_changed)
        AsyncMachine(
            model=self,
            states=[state.name for state in CountState],
            transitions=[
                {
                    **row,
                    "trigger": f"t_{row['trigger']}",
                    "source": [s.name for s in row["source"]]
                    if isinstance(row["source"], list)
                    else row["source"].name,
                    "dest": row["dest"].name,
                }
                for row in COUNT_TRANSITIONS
            ],
            initial=S.IDLE.name,
            auto_transitions=False,
            model_attribute="machine_state",
            after_state_change="_state_changed",
            send_event=True,
        )

    # ---- clocks -----------------------------------------------------------------------------
    @property
    def state(self) -> CountState:
        return CountState[self.machine_state]

    def t_now(self) -> float:
        """The T clock: runs while counting, stopped in holds."""
        if self._t_anchor_s is None:
            return self.t_s
        return self.t_s + (self._clock.now() - self._t_anchor_s)

    def l_now(self) -> float:
        """The L clock: seconds since the count started; never stops."""
        return 0.0 if self._l_start_s is None else self._clock.now() - self._l_start_s

    def _stop_t(self) -> None:
        self.t_s = self.t_now()
        self._t_anchor_s = None

    def _run_t(self) -> None:
        self._t_anchor_s = self._clock.now()

    # ---- journal and timeline -----------------------------------------------------------------
    def _emit(self, kind: str, text: str) -> None:
        event = CountEvent(self.t_now(), self.l_now(), kind, text)
        self.timeline.append(event)
        log.info("countdown_event", kind=kind, text=text, t=format_t_time(event.t_s))
        if self._on_event is not None:
            self._on_event(event)

    async def _journal(self, kind: str, payload: dict[str, Any], actor: str = "countdown") -> None:
        journal = self._plant.journal
        if journal is not None:
            await journal.append(kind, self._stamped(payload), actor=actor)

    def _stamped(self, payload: dict[str, Any]) -> dict[str, Any]:
        clocks = {"t_s": round(self.t_now(), 3), "l_s": round(self.l_now(), 3)}
        return {**clocks, "state": self.machine_state, **payload}

    async def _state_changed(self, event: Any) -> None:
        payload = {"trigger": event.event.name.removeprefix("t_"), "reason": self.hold_reason}
        record_soon(
            self._plant.journal, "countdown_state", self._stamped(payload), actor="countdown"
        )

    # ---- operator commands ------------------------------------------------------------------
    async def start(self, *, actor: str) -> None:
        """Start the count: subsystems to AUTO, T clock running from the sequence's start."""
        async with self._lock:
            if self.state is not S.IDLE:
                raise CountdownRefused("start", f"the count is {self.state.value}")
            for subsystem in self.subsystems.values():
                await subsystem.set_mode(Mode.AUTO, actor=actor)
            self._l_start_s = self._clock.now()
            self._context.set("count_active", True)
            await self.t_start()  # type: ignore[attr-defined]
            self._run_t()
            self._emit("START", f"count started by {actor}, profile {self.sequence.profile}")
            self._task = asyncio.create_task(self._supervise(), name="countdown")

    async def hold(self, *, actor: str, reason: str) -> None:
        """An unplanned hold; inside the terminal count a hold is a cutoff."""
        async with self._lock:
            if self.state is S.TERMINAL_COUNT:
                await self._cutoff(f"hold called in terminal count by {actor}: {reason}")
                return
            if self.state is not S.COUNTING:
                raise CountdownRefused("hold", f"the count is {self.state.value}")
            await self._hold(f"{reason} (by {actor})", built_in=None)

    async def resume(self, *, actor: str) -> None:
        """Resume from a hold: needs every position GO and no launch commit criterion violated."""
        async with self._lock:
            self._check_resume()
            await self._resume(actor)

    def _check_resume(self) -> None:
        if self.state is not S.HOLDING:
            raise CountdownRefused("resume", f"the count is {self.state.value}")
        if not self.resumable:
            raise CountdownRefused("resume", f"{self.hold_reason}: recycle or scrub instead")
        if self.poll is None or not self.poll.all_go:
            missing = (
                []
                if self.poll is None
                else [p for p in self.poll.positions if self.poll.answers.get(p) is not True]
            )
            raise CountdownRefused(
                "resume",
                "GO/NO-GO poll incomplete: no GO from " + ", ".join(missing or ["(no poll open)"]),
            )
        violations = self._monitor.evaluate(t_s=self.t_now(), now_s=self._clock.now())
        if violations:
            raise CountdownRefused(
                "resume",
                "LCC violated: " + "; ".join(f"{v.criterion.id} {v.reason}" for v in violations),
            )

    async def _resume(self, actor: str) -> None:
        for subsystem in self.subsystems.values():
            if subsystem.mode is Mode.MANUAL:  # e.g. after a restart: the sequence drives again
                await subsystem.set_mode(Mode.AUTO, actor=actor)
        self.hold_reason, self._hold_id, self._hold_until_s, self.poll = "", None, None, None
        # A command that faulted has been answered by this hold and its poll: forget it, or
        # it would hold the count again at once.
        self._tickets = [(name, t) for name, t in self._tickets if not t.outcome.done()]
        await self.t_resume()  # type: ignore[attr-defined]
        self._run_t()
        self._emit("RESUME", f"count resumed by {actor}")

    async def answer_poll(self, *, position: str, go: bool, actor: str) -> None:
        """One position's GO or NO-GO, journaled with who and when."""
        if self.poll is None:
            raise CountdownRefused("poll", "no GO/NO-GO poll is open")
        if position not in self.poll.positions:
            raise CountdownRefused(
                "poll", f"no position {position!r} (positions: {', '.join(self.poll.positions)})"
            )
        self.poll.answers[position] = go
        await self._journal("poll_answer", {"position": position, "go": go}, actor)
        self._emit("POLL", f"{position}: {'GO' if go else 'NO-GO'} ({actor})")

    async def abort(self, *, actor: str, reason: str) -> None:
        """Cut off now, then safe the pad."""
        async with self._lock:
            if self.state not in (S.COUNTING, S.HOLDING, S.TERMINAL_COUNT):
                raise CountdownRefused("abort", f"the count is {self.state.value}")
            await self._cutoff(f"abort by {actor}: {reason}")

    async def recycle(self, *, actor: str, point: str) -> None:
        """Back to a recycle point's T-time, once its re-entry conditions hold; stays holding."""
        async with self._lock:
            if self.state is not S.HOLDING:
                raise CountdownRefused("recycle", f"the count is {self.state.value}")
            target = next((p for p in self.sequence.recycle_points if p.id == point), None)
            if target is None:
                known = ", ".join(p.id for p in self.sequence.recycle_points)
                raise CountdownRefused("recycle", f"no recycle point {point!r} (known: {known})")
            unmet = [
                c.describe(self._plant.read(c.tag))
                for c in target.require
                if not c.holds(self._plant.read(c.tag))
            ]
            if unmet:
                raise CountdownRefused("recycle", "re-entry not met: " + "; ".join(unmet))
            await self.t_recycle()  # type: ignore[attr-defined]
            self.t_s = target.t_s
            self._next_event = next(
                (i for i, e in enumerate(self.sequence.events) if e.t_s >= target.t_s),
                len(self.sequence.events),
            )
            self._context.set("terminal_count", False)
            for subsystem in self.subsystems.values():
                if subsystem.machine_state == "FAULT":
                    await subsystem.reset(actor=actor)
            self._emit("RECYCLE", f"recycled to {point} ({format_t_time(target.t_s)}) by {actor}")
            self.resumable = True
            await self._hold(f"recycled to {point}", built_in=None)

    async def scrub(self, *, actor: str, reason: str) -> None:
        """Give up today's attempt: detank, vent, secure the pad."""
        async with self._lock:
            if self.state not in (S.COUNTING, S.HOLDING):
                raise CountdownRefused("scrub", f"the count is {self.state.value}")
            await self._scrub(f"{reason} (by {actor})")

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
        elapsed_wall_s = max(0.0, self._clock.wall_now() - _epoch_of(entries[-1].t_wall))
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
        await self.t_recover()  # type: ignore[attr-defined]
        self._emit("RECOVERED", f"count recovered from the journal at {format_t_time(self.t_s)}")
        self._task = asyncio.create_task(self._supervise(), name="countdown")
        return True

    # ---- the run loop ----------------------------------------------------------------------
    async def wait_done(self) -> str:
        await self._done.wait()
        return self.result

    def _on_tags_changed(self, names: Any) -> None:
        if not self._wake.is_set() and any(name in self._lcc_tags for name in names):
            self._wake.set()

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._remove_listener()
        self._remove_listener = lambda: None

    async def _supervise(self) -> None:
        """Run the count; if the sequence crashes, safing still runs."""
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the engine's own failure: safe the pad, then stop
            log.exception("countdown_crashed")
            self._emit("CRASH", f"sequence task failed: {error!r}; safing the pad")
            await self._journal("countdown_crashed", {"error": repr(error)})
            await self._safe_all(f"sequence crashed: {error!r}")
            self.result = f"CRASHED: {error!r}"
            self._done.set()

    async def _run(self) -> None:
        while self.state not in (S.SECURED,):
            async with self._lock:
                await self.step()
            if self._done.is_set():
                return
            self._wake.clear()
            await wait_event(self._clock, self._wake, self._sleep_s())

    def _sleep_s(self) -> float:
        rate = self._clock.rate or 1.0
        tick = max(TICK_S, 0.01 * rate)  # at least 10 ms of wall time between ticks
        if self.state in RUNNING and self._next_event < len(self.sequence.events):
            until = self.sequence.events[self._next_event].t_s - self.t_now()
            return max(0.0, min(tick, until))
        return tick

    async def step(self) -> None:
        """One tick: LCC, commands in flight, due events, terminal count, liftoff, window."""
        state = self.state
        if state in RUNNING:
            reason = self._violation()
            if reason:
                if state is S.TERMINAL_COUNT and reason[1]:
                    await self._cutoff(reason[0])
                else:
                    await self._hold(reason[0], built_in=None)
                return
            while (
                self._next_event < len(self.sequence.events)
                and self.sequence.events[self._next_event].t_s <= self.t_now()
            ):
                event = self.sequence.events[self._next_event]
                self._next_event += 1
                await self._execute(event)
                if self.state not in RUNNING:
                    return
            if state is S.COUNTING and self.t_now() >= self.sequence.terminal_count_t_s:
                self._context.set("terminal_count", True)
                await self.t_enter_terminal_count()  # type: ignore[attr-defined]
                self._emit("TERMINAL", "automatic terminal count")
            if self.state is S.TERMINAL_COUNT and self.t_now() >= 0:
                await self._check_liftoff()
        elif state is S.HOLDING:
            if (
                self._hold_until_s is not None
                and self._clock.now() >= self._hold_until_s
                and (self.poll is None or self.poll.all_go)
            ):
                try:
                    self._check_resume() if self.poll is not None else None
                except CountdownRefused as refused:
                    self._emit("HOLDING", f"built-in hold cannot end: {refused.reason}")
                    self._hold_until_s = None
                    self.hold_reason = refused.reason
                    return
                await self._resume("countdown (built-in hold complete)")
                return
        if state in (S.COUNTING, S.HOLDING):
            self._check_window()

    def _violation(self) -> tuple[str, bool] | None:
        """The first reason to stop: an LCC violation, or a sequence command that faulted."""
        violations = self._monitor.evaluate(t_s=self.t_now(), now_s=self._clock.now())
        if violations:
            first = violations[0]
            cuts = first.criterion.action is LccAction.AUTO
            return f"LCC {first.criterion.id} {first.criterion.name}: {first.reason}", cuts
        for name, ticket in self._tickets:
            if ticket.outcome.done() and ticket.outcome.result().startswith("fault"):
                return f"{name}: {ticket.outcome.result()}", True
        return None

    async def _execute(self, event: Event) -> None:
        self._emit("EVENT", event.name)
        await self._journal("countdown_event", {"event": event.name, "index": self._next_event - 1})
        for action in event.actions:
            try:
                ticket = await self.subsystems[action.subsystem].command(
                    action.command, actor="countdown", origin=Origin.SEQUENCE
                )
            except CommandRefused as refused:
                reason = f"{event.name}: {refused}"
                if self.state is S.TERMINAL_COUNT:
                    await self._cutoff(reason)
                else:
                    await self._hold(reason, built_in=None)
                return
            self._tickets.append((f"{action.subsystem}.{action.command}", ticket))
            self._emit("COMMAND", f"{action.subsystem}.{action.command}")
        unmet = [
            c.describe(self._plant.read(c.tag))
            for c in event.expect
            if not c.holds(self._plant.read(c.tag))
        ]
        if unmet:
            reason = f"{event.name}: expected " + "; ".join(unmet)
            if self.state is S.TERMINAL_COUNT:
                await self._cutoff(reason)
            else:
                await self._hold(reason, built_in=None)
            return
        if event.hold_id is not None:
            await self._hold(f"built-in hold {event.hold_id}", built_in=event)

    async def _hold(self, reason: str, *, built_in: Event | None) -> None:
        # Everything a console shows of the hold is set before the state changes.
        self._stop_t()
        self.hold_reason = reason
        self._hold_id = built_in.hold_id if built_in else None
        self._hold_until_s = self._clock.now() + built_in.hold_s if built_in else None
        needs_poll = built_in is None or built_in.poll
        self.poll = Poll(self.sequence.positions) if needs_poll else None
        if self.state is not S.HOLDING:
            await self.t_hold()  # type: ignore[attr-defined]
        self._emit("HOLD", reason + (" - GO/NO-GO poll open" if needs_poll else ""))

    async def _cutoff(self, reason: str) -> None:
        self._stop_t()
        self.hold_reason = reason
        await self.t_cutoff()  # type: ignore[attr-defined]
        self._emit("CUTOFF", reason)
        for step in self.sequence.cutoff:
            await self._run_step(step, origin_reason="cutoff")
        await self._safe_all(reason)
        self.resumable = False
        self._context.set("terminal_count", False)
        await self._hold(f"cutoff: {reason}", built_in=None)

    async def _safe_all(self, reason: str) -> None:
        if self.state is not S.SAFING:
            await self.t_safe()  # type: ignore[attr-defined]
        self._emit("SAFING", reason)
        results = await asyncio.gather(
            *(
                subsystem.safe(actor="countdown", reason=reason)
                for subsystem in self.subsystems.values()
            ),
            return_exceptions=True,
        )
        unsafe = [name for name, ok in zip(self.subsystems, results, strict=True) if ok is not True]
        self._emit("SAFED", "pad safe" if not unsafe else "NOT proven safe: " + ", ".join(unsafe))

    async def _run_step(self, step: Step, *, origin_reason: str) -> bool:
        self._emit("STEP", step.name)
        tickets = []
        for action in step.actions:
            try:
                tickets.append(
                    await self.subsystems[action.subsystem].command(
                        action.command, actor="countdown", origin=Origin.SEQUENCE
                    )
                )
            except CommandRefused as refused:
                self._emit("REFUSED", f"{step.name}: {refused}")
                return False
        for ticket in tickets:
            outcome = await ticket.wait()
            if outcome != "confirmed":
                self._emit("FAILED", f"{step.name}: {outcome}")
                return False
        met = await self._plant.table.wait_for(
            lambda _t: all(c.holds(self._plant.read(c.tag)) for c in step.expect),
            timeout_s=step.within_s,
        )
        if not met:
            self._emit("FAILED", f"{step.name}: expectations not met within {step.within_s:g} s")
        return met

    async def _check_liftoff(self) -> None:
        made = [
            tag
            for tag in LIFTOFF_CONTACTS
            if self._plant.read(tag).value is True and self._plant.read(tag).is_good
        ]
        if len(made) >= 2:  # 2-of-3 liftoff contacts
            self._stop_t()
            await self.t_liftoff()  # type: ignore[attr-defined]
            self._context.set("terminal_count", False)
            self._emit("LIFTOFF", f"liftoff ({', '.join(made)})")
            for step in self.sequence.post_launch:
                await self._run_step(step, origin_reason="post-launch")
            self.result = "LIFTOFF"
            await self.t_secure()  # type: ignore[attr-defined]
            self._context.set("count_active", False)
            self._emit("SECURED", "post-launch safing complete")
            self._done.set()
        elif self.t_now() > self.sequence.liftoff_within_s:
            await self._cutoff(f"no liftoff {self.sequence.liftoff_within_s:g} s after T-0")

    def _check_window(self) -> None:
        projected_l_s = self.l_now() - self.t_now() + self.sequence.planned_hold_s(self.t_now())
        if projected_l_s > self.sequence.window_close_l_s:
            self._pending_scrub = (
                f"launch window: T-0 would fall at L+{projected_l_s:.0f} s, after the close "
                f"at L+{self.sequence.window_close_l_s:.0f} s"
            )
            asyncio.get_running_loop().call_soon(self._schedule_scrub)

    def _schedule_scrub(self) -> None:
        if self.state in (S.COUNTING, S.HOLDING) and self._pending_scrub:
            reason, self._pending_scrub = self._pending_scrub, ""
            self._window_task = asyncio.ensure_future(self._locked_scrub(reason))

    _pending_scrub = ""
    _window_task: asyncio.Future[None] | None = None

    async def _locked_scrub(self, reason: str) -> None:
        async with self._lock:
            if self.state in (S.COUNTING, S.HOLDING):
                await self._scrub(reason)

    async def _scrub(self, reason: str) -> None:
        self._stop_t()
        self.hold_reason = reason
        await self.t_scrub()  # type: ignore[attr-defined]
        self._emit("SCRUB", reason)
        for step in self.sequence.scrub:
            if not await self._run_step(step, origin_reason="scrub"):
                await self._safe_all(f"scrub step failed: {step.name}")
                break
        self.result = f"SCRUBBED: {reason}"
        await self.t_secure()  # type: ignore[attr-defined]
        self._context.set("count_active", False)
        self._emit("SECURED", "pad secured")
        self._done.set()


def _epoch_of(iso_text: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso_text).timestamp()


def describe_plan(sequence: CountdownSequence) -> list[str]:
    """The planned timeline, for a dry run: one line per event."""
    lines = []
    for event in sequence.events:
        parts = [format_t_time(event.t_s), event.name]
        if event.actions:
            parts.append("do " + ", ".join(f"{a.subsystem}.{a.command}" for a in event.actions))
        if event.expect:
            parts.append("expect " + ", ".join(c.text for c in event.expect))
        if event.hold_id:
            parts.append(
                f"HOLD {event.hold_id} {event.hold_s:g} s" + (" + poll" if event.poll else "")
            )
        lines.append("  ".join(parts))
    return lines


__all__ = ["Action", "CountEvent", "CountState", "Countdown", "CountdownRefused", "describe_plan"]
