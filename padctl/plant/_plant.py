"""The plant: every hub of a pad, its tag table, heartbeats, and guarded, journaled writes."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import structlog

from padctl.clock import Clock
from padctl.definition import ModbusPlc, PadDefinition, Tag, TagType
from padctl.pace import Pace
from padctl.plant._errors import PlantError, WriteRefused
from padctl.plant._heartbeat import HeartbeatKeeper, WatchdogState
from padctl.plant._hub import Hub
from padctl.plant._modbus_hub import ModbusHub
from padctl.plant._opcua_hub import OpcUaHub
from padctl.plant._sample import Sample, TagValue
from padctl.plant._tag_table import TagTable
from padctl.plant._value_kind import checked_kind
from padctl.plant._write_guard import Admission, WriteGuard
from padctl.supervisor import Pulse, Supervisor

log = structlog.get_logger()


class CommandJournal(Protocol):
    """Where commands are recorded before they are sent (padctl.journal.AsyncJournal)."""

    def append(self, kind: str, payload: Mapping[str, object], *, actor: str) -> Awaitable[Any]:
        """Record a row; the awaitable completes once it is committed."""
        ...


class Plant:
    """All PLC connections of one pad, behind one guarded write path.

    A write is checked against the writable allow-list, the tag's type and engineering
    range before anything else; a refusal changes nothing and never reaches the wire.
    An accepted write is journaled before it is sent, and its outcome after.
    """

    def __init__(
        self,
        *,
        definition: PadDefinition,
        clock: Clock,
        journal: CommandJournal | None,
        base_dir: Path | None = None,
        beat_heartbeats: bool = True,
        write_guard: WriteGuard | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        """A plant with `journal=None` is read-only: it refuses every write.

        `write_guard` narrows writes further (a HIL rig's allow-list, rates, dry run). The
        hubs, heartbeat keepers and the staleness sweep run under `supervisor` (a station's;
        the plant makes its own when given none).
        """
        self.definition = definition
        self.clock = clock
        self._journal = journal
        self._write_guard = write_guard
        self.supervisor = supervisor or Supervisor(clock=clock)
        self._own_supervisor = supervisor is None
        self.table = TagTable(definition, clock)
        self.pace = Pace(
            clock,
            poll_wall_s=max(plc.poll_period_s for plc in definition.plcs),
            scan_wall_s=max(plc.scan_period_s for plc in definition.plcs),
        )
        self.hubs: dict[str, Hub] = {}
        self.heartbeats: dict[str, HeartbeatKeeper] = {}
        self._heartbeat_listeners: list[Callable[[HeartbeatKeeper], None]] = []
        self._task_names: list[str] = []
        for plc in definition.plcs:
            tags = definition.tags_of(plc.id)
            hub: Hub
            if isinstance(plc, ModbusPlc):
                hub = ModbusHub(plc=plc, tags=tags, table=self.table, clock=clock)
            else:
                hub = OpcUaHub(plc=plc, tags=tags, table=self.table, clock=clock, base_dir=base_dir)
            self.hubs[plc.id] = hub
            if plc.heartbeat is not None and beat_heartbeats and journal is not None:
                self.heartbeats[plc.id] = HeartbeatKeeper(
                    hub=hub,
                    heartbeat=plc.heartbeat,
                    definition=definition,
                    table=self.table,
                    clock=clock,
                    on_change=self._heartbeat_changed,
                )

    @property
    def journal(self) -> CommandJournal | None:
        """Where this plant's commands are journaled (None: a read-only plant)."""
        return self._journal

    def _heartbeat_changed(self, keeper: HeartbeatKeeper) -> None:
        for listener in list(self._heartbeat_listeners):
            listener(keeper)

    async def start(self) -> None:
        supervisor = self.supervisor
        for plc_id, hub in self.hubs.items():
            name = f"hub-{plc_id}"
            supervisor.spawn(
                name, hub.run, deadline_wall_s=hub.deadline_wall_s, on_down=hub.mark_all_bad
            )
            self._task_names.append(name)
        for plc_id, keeper in self.heartbeats.items():
            name = f"heartbeat-{plc_id}"
            heartbeat = keeper.heartbeat
            supervisor.spawn(
                name,
                keeper.run,
                deadline_wall_s=max(2 * heartbeat.period_s + 0.1, heartbeat.watchdog_s / 2),
            )
            self._task_names.append(name)
        supervisor.spawn("staleness", self._sweep_staleness, deadline_wall_s=2.0)
        self._task_names.append("staleness")

    async def stop(self) -> None:
        if self._own_supervisor:
            await self.supervisor.stop()
        else:
            for name in reversed(self._task_names):
                await self.supervisor.stop_task(name)
        self._task_names.clear()
        self.pace.close()
        for hub in self.hubs.values():
            await hub.stop()  # closes the connection its (stopped) task left open

    async def stop_heartbeats(self) -> None:
        """Stop writing padctl's heartbeats (a HIL contract proving the PLCs' watchdogs)."""
        for plc_id in self.heartbeats:
            name = f"heartbeat-{plc_id}"
            if name in self._task_names:
                await self.supervisor.stop_task(name)
                self._task_names.remove(name)

    def watchdog_problems(self) -> list[str]:
        """The PLCs whose watchdog is not (yet) known clear, with why: empty when all are."""
        problems = []
        for plc_id, keeper in self.heartbeats.items():
            if not keeper.taken_up:
                problems.append(f"PLC {plc_id}: padctl's heartbeat not taken up yet")
            elif keeper.watchdog is not WatchdogState.CLEAR:
                problems.append(f"PLC {plc_id}: watchdog {keeper.watchdog.value}")
        return problems

    async def wait_watchdogs_clear(self, timeout_wall_s: float) -> list[str]:
        """Wait until every PLC takes padctl's heartbeat up and its watchdog is clear (a PLC
        still holding its outputs safe would overwrite the first commands); what is still not
        clear after `timeout_wall_s` wall seconds (empty: all clear)."""
        deadline_s = self.clock.monotonic() + timeout_wall_s
        while (problems := self.watchdog_problems()) and self.clock.monotonic() < deadline_s:
            await self.clock.wall_sleep(0.02)
        return problems

    async def _sweep_staleness(self, pulse: Pulse) -> None:
        """Quality changes by age alone (STALE) reach the listeners as value changes do."""
        period_s = min(plc.stale_after_s for plc in self.definition.plcs) / 10
        while True:
            self.table.sweep_staleness()
            for keeper in self.heartbeats.values():
                keeper.judge()
            pulse.beat()
            await self.clock.wall_sleep(max(0.01, min(period_s, 0.05)))

    async def __aenter__(self) -> Plant:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def wait_connected(self, timeout_wall_s: float) -> bool:
        """Wait until every hub has completed its first full read; False after
        `timeout_wall_s` wall seconds."""
        deadline_s = self.clock.monotonic() + timeout_wall_s
        for hub in self.hubs.values():
            if not await hub.wait_connected(max(0.0, deadline_s - self.clock.monotonic())):
                return False
        return True

    def read(self, name: str) -> Sample:
        """The latest sample of a tag, quality judged now."""
        return self.table.get(name)

    async def received_within_limits(self, names: Iterable[str]) -> bool:
        """Wait (at most the longest limit, wall seconds) until each named tag's newest sample
        came within its PLC's `stale_after_s`, as read, where only a stall of padctl's own
        loop made it older (the table allows for the stall when judging quality; a command's
        permissives are judged on data read since). Whether they all did."""
        definition = self.definition
        limits_s = {  # the plant's tags only (a condition may read the count's context)
            n: definition.plc(definition.tag(n).plc).stale_after_s
            for n in names
            if definition.has_tag(n)
        }
        if not limits_s:
            return True

        def received(table: TagTable) -> bool:
            now_s = table.clock.monotonic()
            for name, limit_s in limits_s.items():
                received_s = table.get(name).t_received_wall_s
                if now_s - received_s > limit_s and table.excused_wall_s(received_s, limit_s) > 0:
                    return False  # old only by the stall: the next poll is coming
            return True

        return received(self.table) or await self.table.wait_for(
            received, timeout_s=0.0, grace_wall_s=max(limits_s.values())
        )

    def check_write(self, name: str, value: TagValue) -> Tag:
        """The tag, if `value` may be written to it; WriteRefused naming the reason if not."""
        return check_write(self.definition, name, value)

    async def write(self, name: str, value: TagValue, *, actor: str, reason: str = "") -> None:
        """Check, journal, send, and journal the outcome of one write."""
        if self._journal is None:
            raise WriteRefused(name, "this plant is read-only (opened without a journal)")
        try:
            tag = self.check_write(name, value)
            admission = Admission.SEND
            if self._write_guard is not None:
                admission = await self._write_guard.admit(tag, value, now_s=self.clock.now())
        except WriteRefused as refusal:
            await self._journal.append(
                "write_refused",
                {"tag": name, "value": _jsonable(value), "reason": refusal.reason, "why": reason},
                actor=actor,
            )
            log.warning("write_refused", tag=name, value=repr(value), reason=refusal.reason)
            raise
        payload = {"tag": name, "value": _jsonable(value), "plc": tag.plc, "why": reason}
        if admission is Admission.DRY_RUN:
            await self._journal.append("write_dry_run", payload, actor=actor)
            log.info("write_dry_run", tag=name, value=value, actor=actor)
            return
        await self._journal.append("command_sent", payload, actor=actor)
        sent_wall_s = self.clock.monotonic()
        try:
            await self.hubs[tag.plc].write(tag, value)
            self.pace.note_write(self.clock.monotonic() - sent_wall_s)
        except PlantError as error:
            await self._journal.append(
                "command_outcome",
                {**payload, "outcome": "failed", "error": str(error)},
                actor=actor,
            )
            log.error("write_failed", tag=name, error=str(error))
            raise
        await self._journal.append("command_outcome", {**payload, "outcome": "sent"}, actor=actor)
        log.info("write_sent", tag=name, value=value, actor=actor)


def check_write(definition: PadDefinition, name: str, value: TagValue) -> Tag:
    """The tag, if `value` may be written to it; WriteRefused naming the reason if not."""
    if not definition.has_tag(name):
        raise WriteRefused(name, "no such tag in the pad definition")
    tag = definition.tag(name)
    if not tag.writable:
        raise WriteRefused(name, "not on the writable allow-list of the pad definition")
    if isinstance(checked_kind(tag, value), bool):
        return tag
    if not tag.in_range(value):
        low, high = tag.range or (value, value)
        raise WriteRefused(
            name, f"value {value} {tag.unit} outside range [{low}, {high}] {tag.unit}"
        )
    if tag.type in (TagType.UINT16, TagType.INT16, TagType.INT32, TagType.UINT32):
        if tag.scale == 1.0 and tag.offset == 0.0 and float(value) != int(value):
            raise WriteRefused(name, f"value {value} is not a whole number ({tag.type.value})")
    return tag


def record_soon(
    journal: CommandJournal | None, kind: str, payload: Mapping[str, object], *, actor: str
) -> None:
    """Queue a journal row without waiting for its commit.

    For records that are not commands (state changes, alarm transitions): the journal keeps
    rows in call order, so a later command's awaited commit also commits this row first.
    A failure is logged, never lost silently.
    """
    if journal is None:
        return
    future = asyncio.ensure_future(journal.append(kind, payload, actor=actor))
    future.add_done_callback(_log_journal_failure)


def _log_journal_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("journal_append_failed", error=str(future.exception()))


def _jsonable(value: object) -> object:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    return repr(value)
