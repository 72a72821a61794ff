"""The station: one pad's journal, plant, alarms, subsystems and countdown, composed and run."""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import structlog

from padctl.alarms import AlarmManager
from padctl.clock import Clock
from padctl.countdown import Countdown, CountdownSequence, CountEvent, Criterion
from padctl.definition import PadDefinition
from padctl.health import PadHealth, PlcFreshness
from padctl.journal import AsyncJournal
from padctl.loop_lag import LoopLagMonitor
from padctl.pace import RateChange
from padctl.plant import Plant, Sample, record_soon
from padctl.subsystems import (
    ALL_SPECS,
    AutomaticRules,
    CompiledSubsystem,
    PadContext,
    Subsystem,
    SubsystemSpec,
    build_subsystems,
)
from padctl.supervisor import Supervisor

log = structlog.get_logger()

CONNECT_TIMEOUT_WALL_S = 30.0
WATCHDOG_CLEAR_WALL_S = 10.0  # how long start-up waits for every PLC to take up the heartbeat
COUNTDOWN_KINDS = ("countdown_state", "countdown_event")


class StationError(Exception):
    """The station could not start; the message says what was missing."""


EventListener = Callable[[CountEvent], None]
_Part = TypeVar("_Part")


class Station:
    """Everything padctl runs for one pad, started and stopped as one.

    `start` opens the journal, connects the plant, starts the alarm manager and every
    subsystem, and builds the countdown (recovering a count in progress from the journal
    into a hold: nothing resumes by itself). `stop` undoes it in reverse order.
    """

    def __init__(
        self,
        *,
        definition: PadDefinition,
        clock: Clock,
        journal_path: Path,
        sequence: CountdownSequence,
        lcc: tuple[Criterion, ...] = (),
        specs: tuple[SubsystemSpec, ...] = ALL_SPECS,
        connect_timeout_wall_s: float = CONNECT_TIMEOUT_WALL_S,
    ) -> None:
        self.definition = definition
        self.clock = clock
        self.sequence = sequence
        self._journal_path = journal_path
        self._lcc = lcc
        self._specs = specs
        self._connect_timeout_wall_s = connect_timeout_wall_s
        self._event_listeners: list[EventListener] = []
        self._journal: AsyncJournal | None = None
        self._plant: Plant | None = None
        self._alarms: AlarmManager | None = None
        self._countdown: Countdown | None = None
        self._health: PadHealth | None = None
        self.supervisor: Supervisor | None = None
        self.loop_lag: LoopLagMonitor | None = None
        self.automatic: AutomaticRules | None = None
        self.context = PadContext()
        self.subsystems: dict[str, Subsystem] = {}
        self._subsystem_tags: dict[str, tuple[str, ...]] = {}
        self._stack: contextlib.AsyncExitStack | None = None
        self.running = False

    # ---- the parts, once started --------------------------------------------------------------
    @property
    def journal(self) -> AsyncJournal:
        return _started(self._journal, "journal")

    @property
    def plant(self) -> Plant:
        return _started(self._plant, "plant")

    @property
    def alarms(self) -> AlarmManager:
        return _started(self._alarms, "alarms")

    @property
    def countdown(self) -> Countdown:
        return _started(self._countdown, "countdown")

    @property
    def lcc(self) -> tuple[Criterion, ...]:
        """The launch commit criteria the countdown watches."""
        return self._lcc

    def add_event_listener(self, listener: EventListener) -> None:
        """Call `listener` with every countdown timeline event."""
        self._event_listeners.append(listener)

    # ---- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        if self._stack is not None:
            raise StationError("the station is already started")
        stack = contextlib.AsyncExitStack()
        self._stack = stack
        try:
            await self._start_parts(stack)
        except BaseException:
            self._stack = None
            await stack.aclose()
            raise
        self.running = True
        log.info("station_started", pad=self.definition.pad, plcs=len(self.definition.plcs))

    async def _start_parts(self, stack: contextlib.AsyncExitStack) -> None:
        clock = self.clock
        journal = await stack.enter_async_context(AsyncJournal(self._journal_path, clock=clock))
        self._journal = journal
        supervisor = Supervisor(clock=clock)
        self.supervisor = supervisor
        stack.push_async_callback(supervisor.stop)  # every supervised task, before the journal
        plant = Plant(
            definition=self.definition, clock=clock, journal=journal, supervisor=supervisor
        )
        self._plant = plant
        alarms = AlarmManager(clock=clock, journal=journal, table=plant.table)
        self._alarms = alarms
        loop_lag = LoopLagMonitor(clock)
        self.loop_lag = loop_lag
        # a stall of padctl's own loop is LOOP-LAG, not every PLC's silence at once
        plant.table.excuse_stalls(loop_lag.stalled_wall_s)
        health = PadHealth(
            definition=self.definition,
            plant=plant,
            alarms=alarms,
            supervisor=supervisor,
            loop_lag=loop_lag,
            clock=clock,
            loop_lag_limit_wall_s=self.definition.station.loop_lag_alarm_ms / 1000,
        )
        self._health = health
        journal.add_failure_listener(health.journal_failed)
        loop_lag.add_listener(lambda monitor: plant.pace.note_lag(wire_lag_wall_s(monitor, clock)))
        stack.callback(plant.pace.add_listener(self._rate_changed))
        supervisor.spawn("loop-lag", loop_lag.run, deadline_wall_s=2.0)
        await stack.enter_async_context(plant)
        if not await plant.wait_connected(self._connect_timeout_wall_s):
            silent = [hub_id for hub_id in plant.hubs if not health.plc_freshness(hub_id).fresh]
            raise StationError(
                f"not every PLC answered within {self._connect_timeout_wall_s:g} s: "
                + ", ".join(silent)
            )
        # A PLC whose watchdog still holds its outputs safe would overwrite padctl's first
        # commands: give every PLC the time to take the heartbeat up (the count's start
        # checks it again, and the health alarms show any that did not).
        await plant.wait_watchdogs_clear(WATCHDOG_CLEAR_WALL_S)
        self.subsystems = build_subsystems(
            plant=plant,
            clock=clock,
            alarms=alarms,
            context=self.context,
            specs=self._specs,
        )
        self._subsystem_tags = {
            name: subsystem_tags_of(subsystem.compiled)
            for name, subsystem in self.subsystems.items()
        }
        rules = AutomaticRules(self.subsystems, plant=plant, clock=clock)
        self.automatic = rules
        if not rules.empty:
            supervisor.spawn("automatic-rules", rules.run, deadline_wall_s=5.0)
        supervisor.spawn("alarms", alarms.run, deadline_wall_s=2.0)
        stack.push_async_callback(alarms.drain)
        supervisor.spawn("health", health.run, deadline_wall_s=2.0)
        for subsystem in self.subsystems.values():
            await subsystem.start()
            stack.push_async_callback(subsystem.stop)
        # The rules command the subsystems, so they stop first: a rule acting after its
        # subsystem stopped left that command's confirmation running past the station.
        stack.push_async_callback(supervisor.stop_task, "automatic-rules")
        countdown = Countdown(
            sequence=self.sequence,
            subsystems=self.subsystems,
            plant=plant,
            clock=clock,
            context=self.context,
            lcc=self._lcc,
            on_event=self._count_event,
            alarms=alarms,
            start_check=self.start_problems,
        )
        self._countdown = countdown
        stack.push_async_callback(countdown.stop)
        entries = await journal.entries(kinds=COUNTDOWN_KINDS)
        if await countdown.recover(entries, actor="padctl"):
            log.warning("countdown_recovered", t_s=countdown.t_now())

    async def crash(self, error: BaseException, *, timeout_wall_s: float = 30.0) -> bool:
        """The program running this station failed (an unhandled exception, a signal): journal
        `station_crashed` with the error and safe every subsystem where it still can. True if
        the pad was proven safe. The PLC watchdogs stay the last line."""
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        log.error("station_crashed", error=detail)
        journal = self._journal
        if journal is not None:
            with contextlib.suppress(Exception):
                await journal.append("station_crashed", {"error": detail}, actor="padctl")
        if not self.subsystems:
            return False
        results = await asyncio.gather(
            *(
                asyncio.wait_for(
                    subsystem.safe(actor="padctl", reason=f"station crashed: {detail}"),
                    timeout_wall_s,
                )
                for subsystem in self.subsystems.values()
            ),
            return_exceptions=True,
        )
        return all(result is True for result in results)

    def start_problems(self) -> list[str]:
        """What keeps a count from starting now: stale data, a PLC's watchdog not clear."""
        problems = [f"PLC {plc_id}: data STALE" for plc_id in self.stale_plcs()]
        return problems + self.plant.watchdog_problems()

    def _rate_changed(self, change: RateChange) -> None:
        record_soon(
            self._journal,
            "rate_in_effect",
            {"rate": change.rate, "requested": change.requested, "reason": change.reason},
            actor="padctl",
        )

    async def stop(self) -> None:
        stack, self._stack = self._stack, None
        self.running = False
        if stack is not None:
            await stack.aclose()
            log.info("station_stopped")

    async def __aenter__(self) -> Station:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _count_event(self, event: CountEvent) -> None:
        for listener in list(self._event_listeners):
            listener(event)

    # ---- data freshness -----------------------------------------------------------------------
    @property
    def health(self) -> PadHealth:
        return _started(self._health, "health")

    def plc_freshness(self, plc_id: str) -> PlcFreshness:
        """Whether one PLC's data is fresh: none of its tags STALE, the newest young enough."""
        return self.health.plc_freshness(plc_id)

    def freshness(self) -> dict[str, PlcFreshness]:
        """Every PLC's freshness, by PLC id."""
        return self.health.freshness()

    def stale_plcs(self) -> list[str]:
        """The PLCs whose data is older than their `stale_after_s` now."""
        return [plc_id for plc_id, state in self.freshness().items() if not state.fresh]

    def not_good(self, names: Iterable[str]) -> list[Sample]:
        """The samples among `names` that are not GOOD now (stale, bad or uncertain)."""
        return [s for s in self.plant.table.snapshot(names).values() if not s.is_good]

    def subsystem_tags(self, name: str) -> tuple[str, ...]:
        """The plant tags a subsystem reads or writes (interlocks, feedback, outputs)."""
        return self._subsystem_tags[name]


def _started(part: _Part | None, name: str) -> _Part:
    if part is None:
        raise StationError(f"the station's {name} is not started")
    return part


def subsystem_tags_of(compiled: CompiledSubsystem) -> tuple[str, ...]:
    """The plant tags a compiled subsystem reads or writes (interlocks, feedback, outputs)."""
    names: list[str] = []
    conditions = list(compiled.safe_feedback)
    for command in compiled.commands.values():
        conditions += [condition for _, condition in command.permissives]
        conditions += command.feedback
        names += [tag for tag, _ in (*command.spec.writes, *command.spec.after)]
    for _, rules in compiled.recognise:
        conditions += rules
    names += [tag for tag, _ in compiled.spec.safe_writes]
    names += [c.tag for c in conditions if not c.tag.startswith("@")]
    for actuator in compiled.actuators:
        names += [actuator.command, actuator.on_feedback]
        if actuator.off_feedback:
            names.append(actuator.off_feedback)
    return tuple(sorted(set(names)))


def wire_lag_wall_s(monitor: LoopLagMonitor, clock: object) -> float:
    """The lag the rate governor slows a scaled clock by: padctl's own loop's, or that of a
    simulator in its own process on the same clock (`FollowerClock.report_lag`), whichever
    is worse. Either one starved of CPU would let the pad's time outrun its wire."""
    follower_lag = getattr(clock, "follower_lag_wall_s", None)
    follower_s = float(follower_lag()) if callable(follower_lag) else 0.0
    return max(monitor.recent_max_wall_s, follower_s)
