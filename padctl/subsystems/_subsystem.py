"""A running subsystem: its state machine, commands proven by feedback, faults and safing."""

from __future__ import annotations

import asyncio
import enum
from typing import Any

import structlog
from transitions.extensions.asyncio import AsyncMachine

from padctl.alarms import AlarmManager
from padctl.clock import Clock
from padctl.plant import Plant, PlantError, Sample, record_soon
from padctl.procedure import Condition
from padctl.subsystems._alarms import SubsystemAlarm, SubsystemAlarms
from padctl.subsystems._checkout import CheckoutReport, run_checkout
from padctl.subsystems._compiled import CompiledCommand, CompiledSubsystem
from padctl.subsystems._context import PadContext
from padctl.subsystems._errors import CommandRefused
from padctl.subsystems._recognise import RECOGNISE_FRESH_WALL_S, StateRecognition
from padctl.subsystems._safing import SafeOutputs
from padctl.subsystems._spec import FAULT, Mode, Origin, Writes, refused_by_mode
from padctl.subsystems._ticket import CommandTicket
from padctl.subsystems._watch import ActuatorWatch, RestWatch
from padctl.tasks import cancel_and_wait

log = structlog.get_logger()

REST_DEBOUNCE_S = 2.0  # clock seconds a resting state may look wrong before it is an alarm


class Subsystem:
    """One pad system under padctl's control (an AsyncMachine model)."""

    machine_state: str

    def __init__(
        self,
        compiled: CompiledSubsystem,
        *,
        plant: Plant,
        clock: Clock,
        alarms: AlarmManager | None = None,
        context: PadContext | None = None,
    ) -> None:
        self.compiled = compiled
        self.context = context or PadContext()
        self.spec = compiled.spec
        self.name = compiled.spec.name
        self._plant = plant
        self._clock = clock
        self.mode = Mode.MANUAL
        self.safed = True  # outputs proven safe since the last fault
        self.last_safing: dict[str, str] = {}  # each safe output: proven, or why not
        self.last_fault = ""
        self._inflight: asyncio.Task[None] | None = None
        self._inflight_command = ""
        self._lock = asyncio.Lock()
        # The actuator watch names a moved actuator once its stroke time is over; the rest
        # check waits longer, so the more precise message comes first. Both allow the wire
        # its round trip (wall time) after their clock time.
        self._rest = RestWatch(
            rules={
                state: rules
                for state, rules in compiled.recognise
                if state not in {s.name for s in self.spec.unwatched_at_rest}
            },
            read=self._sample,
            clock=clock,
            debounce_s=max([REST_DEBOUNCE_S, *(a.timeout_s + 1.0 for a in compiled.actuators)]),
            grace_wall_s=self._grace_wall_s,
        )
        self.watch = ActuatorWatch(
            subsystem=self.name,
            actuators=compiled.actuators,
            plant=plant,
            clock=clock,
            on_change=self._uncommanded,
            rest_check=lambda: self._rest.discrepancy(self.machine_state, busy=bool(self.busy)),
            grace_wall_s=self._grace_wall_s,
        )
        self._machine = AsyncMachine(
            model=self,
            states=[state.name for state in self.spec.states],
            transitions=[
                {"trigger": _trigger(row["trigger"]), "source": row["source"], "dest": row["dest"]}
                for row in self.spec.transition_table()
            ],
            initial=self.spec.initial.name,
            auto_transitions=False,
            model_attribute="machine_state",
            after_state_change="_state_changed",
            send_event=True,
        )
        self._recognition = StateRecognition(
            compiled=compiled, plant=plant, holds=self._holds, describe=self._describe
        )
        self._safe_outputs = SafeOutputs(
            compiled=compiled,
            plant=plant,
            watch=self.watch,
            holds=self._holds,
            describe=self._describe,
            grace_wall_s=self._grace_wall_s,
        )
        self._event_alarms = SubsystemAlarms(self.name, self.spec.title, alarms)

    def _grace_wall_s(self) -> float:
        """Wall seconds the wire takes to show a command's effect (a write, a PLC scan, a
        sample), allowed after every clock-time limit."""
        return self._plant.pace.command_wall_s

    # ---- state ------------------------------------------------------------------------------
    @property
    def state(self) -> enum.Enum:
        return self.spec.states[self.machine_state]

    @property
    def busy(self) -> str:
        """The command in progress, or ''."""
        if self._inflight is not None and not self._inflight.done():
            return self._inflight_command
        return ""

    def recognise_state(self) -> str:
        """The state the plant shows now (for start-up): the first matching `recognise` entry.

        A plant in none of the recognised states is not assumed safe: FAULT, until an
        operator makes it safe and resets; `last_fault` names what each state lacked.
        """
        state, lacking = self._recognition.recognise()
        if state == FAULT:
            self.last_fault, self.safed = lacking, False
        return state or self.spec.initial.name

    async def start(
        self, *, fresh_data_wall_s: float = RECOGNISE_FRESH_WALL_S, report_fault: bool = True
    ) -> None:
        """Take up the state the plant shows on GOOD data, and start watching the actuators.

        Start-up waits (at most `fresh_data_wall_s`) for the data it recognises the state
        from: a moment's staleness must not become a FAULT. A state not recognised is a FAULT
        that is alarmed and journaled, never silent (unless the caller reports it: a
        checkpoint's restore compares the state with the one it kept)."""
        await self._recognition.wait_for_good_data(fresh_data_wall_s)
        self.machine_state = self.recognise_state()
        if report_fault and self.machine_state == FAULT and self.compiled.recognise:
            log.error("subsystem_state_not_recognised", subsystem=self.name, detail=self.last_fault)
            self._event_alarms.set(SubsystemAlarm.FAULT, True, detail=self.last_fault)
            await self._journal("subsystem_fault", {"reason": self.last_fault})
        await self.watch.start()

    async def stop(self) -> None:
        await cancel_and_wait(self._inflight)
        await self.watch.stop()

    async def _state_changed(self, event: Any) -> None:
        source = event.transition.source if event.transition else ""
        log.info(
            "subsystem_transition",
            subsystem=self.name,
            source=source,
            dest=self.machine_state,
            trigger=event.event.name,
        )
        record_soon(
            self._plant.journal,
            "transition",
            {
                "subsystem": self.name,
                "source": source,
                "dest": self.machine_state,
                "trigger": event.event.name.removeprefix("t_"),
            },
            actor="padctl",
        )

    async def _journal(self, kind: str, payload: dict[str, Any], actor: str = "padctl") -> None:
        journal = self._plant.journal
        if journal is not None:
            await journal.append(kind, {"subsystem": self.name, **payload}, actor=actor)

    # ---- commands ---------------------------------------------------------------------------
    def _sample(self, tag: str) -> Sample:
        if tag.startswith("@"):
            return self.context.sample(tag[1:], self._clock.now())
        return self._plant.read(tag)

    def _holds(self, condition: Condition) -> bool:
        return condition.holds(self._sample(condition.tag))

    def _describe(self, condition: Condition) -> str:
        return condition.describe(self._sample(condition.tag))

    async def refuse(self, command: str, reason: str, actor: str) -> CommandRefused:
        await self._journal(
            "command_refused",
            {"command": command, "reason": reason, "state": self.machine_state},
            actor,
        )
        log.warning("command_refused", subsystem=self.name, command=command, reason=reason)
        return CommandRefused(self.name, command, reason)

    def accepts_from_state(self, name: str) -> bool:
        """Whether the current state is one `name` may start from (nothing else is judged)."""
        compiled = self.compiled.commands.get(name)
        return compiled is not None and self.machine_state in {
            state.name for state in compiled.spec.source
        }

    def check(self, name: str, *, origin: Origin = Origin.OPERATOR) -> CompiledCommand:
        """The command, if it may be given now; CommandRefused naming why not (no journal)."""
        compiled = self.compiled.commands.get(name)
        if compiled is None:
            known = ", ".join(self.compiled.commands)
            raise CommandRefused(self.name, name, f"unknown command (known: {known})")
        if why := refused_by_mode(self.mode, origin):
            raise CommandRefused(self.name, name, why)
        if self.busy:
            raise CommandRefused(self.name, name, f"command {self.busy} is in progress")
        sources = [state.name for state in compiled.spec.source]
        if self.machine_state not in sources:
            raise CommandRefused(
                self.name,
                name,
                f"state is {self.machine_state}; {name} needs {' or '.join(sources)}",
            )
        unmet = [
            f"{interlock.name} ({self._describe(condition)})"
            for interlock, condition in compiled.permissives
            if not self._holds(condition)
        ]
        if unmet:
            raise CommandRefused(self.name, name, "interlock not met: " + "; ".join(unmet))
        return compiled

    async def check_on_fresh_data(
        self, name: str, *, origin: Origin = Origin.OPERATOR
    ) -> CompiledCommand:
        """`check` on data read since any stall of padctl's loop, as `command` judges it."""
        if known := self.compiled.commands.get(name):
            await self._plant.received_within_limits(c.tag for _, c in known.permissives)
        return self.check(name, origin=origin)

    async def command(
        self, name: str, *, actor: str, origin: Origin = Origin.OPERATOR
    ) -> CommandTicket:
        """Check, journal and write a command; its feedback is awaited in the background."""
        async with self._lock:
            try:
                compiled = await self.check_on_fresh_data(name, origin=origin)
            except CommandRefused as refusal:
                raise await self.refuse(name, refusal.reason, actor) from None
            seen = {c.tag: self._sample(c.tag).value for _, c in compiled.permissives}
            await self._journal(
                "command_accepted",
                {"command": name, "state": self.machine_state, "permissives_seen": seen},
                actor,
            )
            ticket = CommandTicket(self.name, name)
            await self._fire(name)
            # The feedback's timing window is in play from the write on (a scaled clock slows
            # before the write is on the wire) until the confirmation ends, however it ends.
            pace, window = self._plant.pace, (self.name, "command", id(ticket))
            pace.open_window(window, compiled.timeout_s, f"{self.name}.{name} feedback")
            try:
                await self._write(compiled.spec.writes, actor=actor, why=name)
            except PlantError as error:
                pace.close_window(window)
                await self._fault(f"{name}: write failed: {error}")
                ticket.outcome.set_result(f"fault: {error}")
                return ticket
            self._inflight_command = name
            self._inflight = asyncio.create_task(
                self._confirm(compiled, ticket, actor), name=f"{self.name}-{name}"
            )
            self._inflight.add_done_callback(lambda _task: pace.close_window(window))
            return ticket

    async def _write(self, writes: Writes, *, actor: str, why: str) -> None:
        for tag, value in writes:
            self.watch.commanded(tag, value)
            await self._plant.write(tag, value, actor=actor, reason=f"{self.name}.{why}")
            self.watch.written(tag)

    async def _confirm(self, compiled: CompiledCommand, ticket: CommandTicket, actor: str) -> None:
        """Wait for the feedback; fault and safe if it does not come. Resolves the ticket last."""
        name = compiled.spec.name
        outcome = "fault: interrupted by safing"
        try:
            proven = await self._plant.table.wait_for(
                lambda _t: all(self._holds(c) for c in compiled.feedback),
                timeout_s=compiled.timeout_s,
                grace_wall_s=self._grace_wall_s(),
            )
            if not proven:
                missing = "; ".join(
                    self._describe(c) for c in compiled.feedback if not self._holds(c)
                )
                outcome = f"fault: {name}: no feedback within {compiled.timeout_s:g} s: {missing}"
                await self._fault(outcome.removeprefix("fault: "))
                return
            if compiled.spec.via is not None:
                await self._fire(f"{name}_confirmed")
            await self._write(compiled.spec.after, actor=actor, why=f"{name} (after feedback)")
            await self._journal(
                "command_confirmed", {"command": name, "state": self.machine_state}, actor
            )
            outcome = "confirmed"
        except PlantError as error:
            outcome = f"fault: {name}: {error}"
            await self._fault(outcome.removeprefix("fault: "))
        finally:
            if not ticket.outcome.done():
                ticket.outcome.set_result(outcome)

    # ---- faults and safing ------------------------------------------------------------------
    async def _fault(self, reason: str) -> None:
        self.last_fault = reason
        self.safed = False  # not proven again until this fault's safing has run
        log.error("subsystem_fault", subsystem=self.name, reason=reason)
        if self.machine_state != FAULT:
            await self._fire("fault")
        await self._journal("subsystem_fault", {"reason": reason})
        self._event_alarms.set(SubsystemAlarm.FAULT, True, detail=reason)
        await self._make_safe(actor="padctl", why="fault")

    async def safe(self, *, actor: str, reason: str = "") -> bool:
        """Drive the safe outputs and prove them; works in any mode and state. True if proven."""
        await self._journal(
            "safe_requested", {"reason": reason, "state": self.machine_state}, actor
        )
        return await self._make_safe(actor=actor, why=reason or "operator safing")

    async def _make_safe(self, *, actor: str, why: str) -> bool:
        """Write every safe output, even when some writes fail, and prove the safe state.

        The result names each output: proven (its read-back and actuator feedback show the
        safe value), written but not proven, or not written. True only if all is proven.
        """
        if self._inflight is not None and self._inflight is not asyncio.current_task():
            await cancel_and_wait(self._inflight)  # safing wins over a command in flight
        result = await self._safe_outputs.drive(actor=actor, why=why)
        proven, outputs, detail = result.proven, result.outputs, result.detail
        self.safed = proven
        self.last_safing = outputs
        self._event_alarms.set(SubsystemAlarm.SAFING_FAILED, not proven, detail=detail)
        record = {"proven": proven, "detail": detail, "why": why, "outputs": outputs}
        await self._journal("safing_result", {**record, "unmet": result.unmet}, actor)
        if proven and self.machine_state not in (FAULT, self.spec.safe_state.name):
            await self._fire("safe")
        if not proven:
            log.error("safing_not_proven", subsystem=self.name, detail=detail)
        return proven

    async def reset(self, *, actor: str) -> None:
        """Leave FAULT for the safe state, once safing is proven; never automatic."""
        if self.machine_state != FAULT:
            raise await self.refuse("reset", f"state is {self.machine_state}, not FAULT", actor)
        unmet = [self._describe(c) for c in self.compiled.safe_feedback if not self._holds(c)]
        if not self.safed or unmet:
            raise await self.refuse("reset", "safe state not proven: " + "; ".join(unmet), actor)
        await self._fire("reset")
        self._event_alarms.set(SubsystemAlarm.FAULT, False)
        await self._journal("fault_reset", {"fault": self.last_fault}, actor)

    async def checkout(self, *, actor: str) -> CheckoutReport:
        """Stroke every actuator (but the hazardous ones) and hold travel times to limits."""
        return await run_checkout(self, actor=actor)

    async def set_mode(self, mode: Mode, *, actor: str) -> None:
        """Change mode; OUT OF SERVICE only from the safe state, with nothing in progress."""
        if mode is Mode.OUT_OF_SERVICE and (
            self.machine_state != self.spec.safe_state.name or self.busy
        ):
            raise await self.refuse(
                "set_mode",
                f"out of service needs state {self.spec.safe_state.name} and "
                f"nothing in progress (state {self.machine_state})",
                actor,
            )
        previous, self.mode = self.mode, mode
        await self._journal("mode_changed", {"from": previous.value, "to": mode.value}, actor)

    async def _uncommanded(self, detail: str, active: bool) -> None:
        self._event_alarms.set(SubsystemAlarm.UNCOMMANDED, active, detail=detail)
        if active:
            await self._journal("uncommanded_change", {"detail": detail})

    async def _fire(self, name: str) -> None:
        """Fire one transition of the table by its event on the machine (which refuses one not
        allowed from the present state); never by an attribute looked up by name."""
        await self._machine.events[_trigger(name)].trigger(self)


def _trigger(name: str) -> str:
    """Machine trigger names are prefixed so they never shadow the model's own methods."""
    return f"t_{name}"
