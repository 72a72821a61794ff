"""The alarm manager: one ISA-18.2 state machine per alarm, shared by every subsystem."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from transitions import Machine, MachineError

from padctl.alarms._model import (
    ALARM_TRANSITIONS,
    AlarmDefinition,
    AlarmKind,
    AlarmPriority,
    AlarmState,
)
from padctl.clock import Clock
from padctl.plant import CommandJournal, TagTable
from padctl.supervisor import Pulse
from padctl.tasks import cancel_and_wait

log = structlog.get_logger()
FLOOR_WALL_S = 0.02  # the fastest PLC poll: evaluating faster sees no new data


class AlarmError(Exception):
    """An alarm operation that cannot be done (unknown alarm, wrong state, bad argument)."""


@dataclass(frozen=True)
class AlarmView:
    """What a console shows of one alarm."""

    id: str
    message: str
    priority: AlarmPriority
    state: AlarmState
    condition_active: bool
    since_s: float  # clock seconds of the last state change
    shelved_until_s: float | None
    detail: str
    occurred_s: float | None = None  # clock seconds it last became active (annunciated)
    acknowledged_s: float | None = None  # ... and that occurrence was acknowledged
    acknowledged_by: str = ""
    occurred_wall_s: float | None = None  # the same moments in real wall time (epoch s)
    acknowledged_wall_s: float | None = None
    out_of_service_by: str = ""  # who took it out of service, and why
    out_of_service_note: str = ""


class Alarm:
    """Runtime of one alarm; its `state` is driven by the shared ISA-18.2 machine."""

    state: AlarmState

    def __init__(self, definition: AlarmDefinition, now_s: float) -> None:
        self.definition = definition
        self.condition_active = False  # after deadband and delays
        self._raw_since_s: float | None = None  # when the raw condition last changed sides
        self.since_s = now_s
        self.shelved_until_s: float | None = None
        self.detail = ""
        self.occurred_s: float | None = None
        self.acknowledged_s: float | None = None
        self.acknowledged_by = ""
        self.occurred_wall_s: float | None = None
        self.acknowledged_wall_s: float | None = None
        self.out_of_service_by = ""
        self.out_of_service_note = ""

    def view(self) -> AlarmView:
        return AlarmView(
            id=self.definition.id,
            message=self.definition.message,
            priority=self.definition.priority,
            state=self.state,
            condition_active=self.condition_active,
            since_s=self.since_s,
            shelved_until_s=self.shelved_until_s,
            detail=self.detail,
            occurred_s=self.occurred_s,
            acknowledged_s=self.acknowledged_s,
            acknowledged_by=self.acknowledged_by,
            occurred_wall_s=self.occurred_wall_s,
            acknowledged_wall_s=self.acknowledged_wall_s,
            out_of_service_by=self.out_of_service_by,
            out_of_service_note=self.out_of_service_note,
        )

    def debounce(self, raw_active: bool, now_s: float) -> bool | None:
        """Apply on/off delays; the new condition when it changes, else None."""
        if raw_active == self.condition_active:
            self._raw_since_s = None
            return None
        if self._raw_since_s is None:
            self._raw_since_s = now_s
        delay_s = self.definition.on_delay_s if raw_active else self.definition.off_delay_s
        if now_s - self._raw_since_s >= delay_s:
            self._raw_since_s = None
            return raw_active
        return None


AlarmListener = Callable[[AlarmView], None]
_CONDITION_KINDS = {"activate": "alarm_activated", "clear": "alarm_cleared"}


class AlarmManager:
    """Evaluates limit and discrete alarms from the tag table; takes event alarms from code.

    Acknowledge, shelve, unshelve and service changes are journaled with who and why.
    """

    def __init__(
        self, *, clock: Clock, journal: CommandJournal | None, table: TagTable | None = None
    ) -> None:
        self._clock = clock
        self._journal = journal
        self._table = table
        self._alarms: dict[str, Alarm] = {}
        self._machine = Machine(
            model=[],
            states=list(AlarmState),
            transitions=ALARM_TRANSITIONS,
            initial=AlarmState.NORMAL,
            auto_transitions=False,
            after_state_change=self._state_changed,
            send_event=True,
        )
        self._phase = ""
        self._listeners: list[AlarmListener] = []
        self._task: asyncio.Task[None] | None = None
        self._pending_journal: set[asyncio.Future[Any]] = set()

    # ---- definitions ----------------------------------------------------------------------
    def define(self, definition: AlarmDefinition) -> None:
        if definition.id in self._alarms:
            raise AlarmError(f"alarm {definition.id} is defined twice")
        if definition.tag is not None and self._table is not None:
            self._table.slot_of(definition.tag)  # KeyError naming an unknown tag
        alarm = Alarm(definition, self._clock.now())
        self._machine.add_model(alarm, initial=AlarmState.NORMAL)
        self._alarms[definition.id] = alarm
        if self._phase in definition.suppressed_in:
            alarm.suppress()  # type: ignore[attr-defined]

    def define_all(self, definitions: Iterable[AlarmDefinition]) -> None:
        for definition in definitions:
            self.define(definition)

    def get(self, alarm_id: str) -> AlarmView:
        return self._alarm(alarm_id).view()

    def views(self) -> list[AlarmView]:
        """Every alarm, most urgent and newest first."""
        return sorted(
            (alarm.view() for alarm in self._alarms.values()),
            key=lambda view: (-view.priority, -view.since_s),
        )

    def annunciated(self) -> list[AlarmView]:
        """The alarms an operator must see: unacknowledged, acknowledged-active, RTN unacked."""
        shown = {AlarmState.UNACK, AlarmState.ACKED, AlarmState.RTN_UNACK}
        return [view for view in self.views() if view.state in shown]

    def add_listener(self, listener: AlarmListener) -> None:
        self._listeners.append(listener)

    def _alarm(self, alarm_id: str) -> Alarm:
        try:
            return self._alarms[alarm_id]
        except KeyError:
            raise AlarmError(f"no alarm {alarm_id!r}") from None

    # ---- conditions -------------------------------------------------------------------------
    def set_condition(self, alarm_id: str, active: bool, *, detail: str = "") -> None:
        """Raise or clear an alarm's condition now (event alarms, or tests)."""
        alarm = self._alarm(alarm_id)
        if detail:
            alarm.detail = detail
        self._apply_condition(alarm, active)

    def _apply_condition(self, alarm: Alarm, active: bool) -> None:
        if alarm.condition_active == active:
            return
        alarm.condition_active = active
        if alarm.state in (AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE):
            return  # remembered; annunciated when it comes back
        if active:
            alarm.activate()  # type: ignore[attr-defined]
        elif alarm.state in (AlarmState.UNACK, AlarmState.ACKED):
            alarm.clear()  # type: ignore[attr-defined]

    def evaluate(self) -> None:
        """Judge every limit and discrete alarm on the tag table; expire shelving."""
        now_s = self._clock.now()
        for alarm in self._alarms.values():
            if alarm.shelved_until_s is not None and now_s >= alarm.shelved_until_s:
                self._unshelve(alarm, actor="padctl", note="shelving expired")
            definition = alarm.definition
            if definition.kind is AlarmKind.EVENT or self._table is None:
                continue
            assert definition.tag is not None
            sample = self._table.get(definition.tag)
            if not sample.is_good or sample.value is None:
                continue  # a bad or stale sensor neither raises nor clears a limit alarm
            raw = self._raw_condition(alarm, sample.value)
            changed = alarm.debounce(raw, now_s)
            if changed is not None:
                alarm.detail = f"{definition.tag} = {sample.value}"
                self._apply_condition(alarm, changed)

    @staticmethod
    def _raw_condition(alarm: Alarm, value: float | int | bool) -> bool:
        definition = alarm.definition
        if definition.kind is AlarmKind.DISCRETE:
            return bool(value) is definition.active_value
        number = float(value)
        if math.isnan(number):
            return alarm.condition_active
        assert definition.limit is not None
        # Deadband: once active, the value must come back past the limit by the deadband.
        if definition.kind is AlarmKind.HIGH:
            limit = definition.limit - (definition.deadband if alarm.condition_active else 0.0)
            return number > limit
        limit = definition.limit + (definition.deadband if alarm.condition_active else 0.0)
        return number < limit

    async def run(self, pulse: Pulse | None = None, *, period_s: float = 0.1) -> None:
        """Evaluate every `period_s` clock seconds (and at least `FLOOR_WALL_S` apart: no PLC
        data comes faster than a poll, and a fast simulated clock must not turn this into a
        busy loop) until cancelled."""
        clock = self._clock
        while True:
            self.evaluate()
            if pulse is not None:
                pulse.beat()
            wall_s = clock.monotonic()
            await clock.sleep(period_s)
            await clock.wall_sleep(FLOOR_WALL_S - (clock.monotonic() - wall_s))

    async def start(self, *, period_s: float = 0.1) -> None:
        """Evaluate on a task of its own (a station runs `run` under its supervisor)."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(period_s=period_s), name="alarm-manager")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self.drain()

    async def drain(self) -> None:
        """Wait until the alarm transitions already journaled are committed."""
        if self._pending_journal:
            await asyncio.gather(*self._pending_journal, return_exceptions=True)

    # ---- phases: suppression by design ----------------------------------------------------
    def set_phase(self, phase: str) -> None:
        """Enter a phase; alarms meaningless in it are suppressed, others come back."""
        self._phase = phase
        for alarm in self._alarms.values():
            suppressed = phase in alarm.definition.suppressed_in
            if suppressed and alarm.state in (
                AlarmState.NORMAL,
                AlarmState.UNACK,
                AlarmState.ACKED,
                AlarmState.RTN_UNACK,
            ):
                alarm.suppress()  # type: ignore[attr-defined]
            elif not suppressed and alarm.state is AlarmState.SUPPRESSED:
                alarm.unsuppress()  # type: ignore[attr-defined]
                self._reannunciate(alarm)

    # ---- operator actions -----------------------------------------------------------------
    async def acknowledge(self, alarm_id: str, *, actor: str, note: str = "") -> AlarmView:
        alarm = self._alarm(alarm_id)
        self._operate(alarm, "acknowledge")
        alarm.acknowledged_s, alarm.acknowledged_by = self._clock.now(), actor
        alarm.acknowledged_wall_s = self._clock.wall_now()
        await self._journal_action("alarm_acknowledged", alarm, actor, note)
        return alarm.view()

    async def shelve(self, alarm_id: str, *, actor: str, duration_s: float, note: str) -> AlarmView:
        """Hide an alarm for `duration_s` clock seconds; a reason is required."""
        alarm = self._alarm(alarm_id)
        if not duration_s > 0:
            raise AlarmError(f"shelve {alarm_id}: duration must be above 0 s, got {duration_s}")
        if not note.strip():
            raise AlarmError(f"shelve {alarm_id}: a reason is required")
        if alarm.state is AlarmState.NORMAL:
            raise AlarmError(
                f"shelve {alarm_id}: only an active alarm may be shelved; it is NORMAL"
            )
        self._operate(alarm, "shelve")
        alarm.shelved_until_s = self._clock.now() + duration_s
        await self._journal_action("alarm_shelved", alarm, actor, note, duration_s=duration_s)
        return alarm.view()

    async def unshelve(self, alarm_id: str, *, actor: str, note: str = "") -> AlarmView:
        alarm = self._alarm(alarm_id)
        if alarm.state is not AlarmState.SHELVED:
            raise AlarmError(f"unshelve {alarm_id}: alarm is {alarm.state.value}, not SHELVED")
        self._unshelve(alarm, actor=actor, note=note)
        await self._journal_action("alarm_unshelved", alarm, actor, note)
        return alarm.view()

    async def remove_from_service(self, alarm_id: str, *, actor: str, note: str) -> AlarmView:
        alarm = self._alarm(alarm_id)
        if not note.strip():
            raise AlarmError(f"remove {alarm_id} from service: a reason is required")
        self._operate(alarm, "remove_from_service")
        alarm.out_of_service_by, alarm.out_of_service_note = actor, note.strip()
        await self._journal_action("alarm_out_of_service", alarm, actor, note)
        return alarm.view()

    async def return_to_service(self, alarm_id: str, *, actor: str, note: str = "") -> AlarmView:
        alarm = self._alarm(alarm_id)
        self._operate(alarm, "return_to_service")
        alarm.out_of_service_by, alarm.out_of_service_note = "", ""
        self._reannunciate(alarm)
        await self._journal_action("alarm_in_service", alarm, actor, note)
        return alarm.view()

    def _operate(self, alarm: Alarm, trigger: str) -> None:
        try:
            getattr(alarm, trigger)()
        except MachineError:
            raise AlarmError(
                f"cannot {trigger.replace('_', ' ')} alarm {alarm.definition.id} "
                f"in state {alarm.state.value}"
            ) from None

    def _unshelve(self, alarm: Alarm, *, actor: str, note: str) -> None:
        alarm.shelved_until_s = None
        alarm.unshelve()  # type: ignore[attr-defined]
        self._reannunciate(alarm)
        if actor == "padctl":
            self._journal_later("alarm_unshelved", alarm, actor, note)

    def _reannunciate(self, alarm: Alarm) -> None:
        if alarm.condition_active:
            alarm.activate()  # type: ignore[attr-defined]

    # ---- journal and listeners ------------------------------------------------------------
    def _state_changed(self, event: Any) -> None:
        alarm: Alarm = event.model
        alarm.since_s = self._clock.now()
        if event.event.name == "activate":  # a new occurrence, not yet acknowledged
            alarm.occurred_s, alarm.acknowledged_s, alarm.acknowledged_by = alarm.since_s, None, ""
            alarm.occurred_wall_s, alarm.acknowledged_wall_s = self._clock.wall_now(), None
        view = alarm.view()
        log.info(
            "alarm_state",
            alarm=view.id,
            state=view.state.value,
            priority=view.priority.name,
            detail=view.detail,
        )
        kind = _CONDITION_KINDS.get(event.event.name)
        if kind is not None:
            self._journal_later(kind, alarm, "padctl", view.detail)
        for listener in list(self._listeners):
            listener(view)

    def _payload(self, alarm: Alarm, note: str, **extra: object) -> dict[str, object]:
        return {
            "alarm": alarm.definition.id,
            "state": alarm.state.value,
            "priority": alarm.definition.priority.name,
            "note": note,
            **extra,
        }

    async def _journal_action(
        self, kind: str, alarm: Alarm, actor: str, note: str, **extra: object
    ) -> None:
        if self._journal is not None:
            await self._journal.append(kind, self._payload(alarm, note, **extra), actor=actor)

    def _journal_later(self, kind: str, alarm: Alarm, actor: str, note: str) -> None:
        if self._journal is None:
            return
        future = asyncio.ensure_future(
            self._journal.append(kind, self._payload(alarm, note), actor=actor)
        )
        self._pending_journal.add(future)
        future.add_done_callback(self._journal_done)

    def _journal_done(self, future: asyncio.Future[Any]) -> None:
        self._pending_journal.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("alarm_journal_failed", error=str(future.exception()))
