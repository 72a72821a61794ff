"""The pad's health: every loss is an alarm, and health tells the truth per PLC.

Losses that padctl can suffer without any value going out of range are ISA-18.2 alarms like any
other, with a priority and a state in the alarm list:

- a PLC link lost (its data STALE or BAD as a whole);
- a PLC heartbeat that stops advancing (its logic stopped: its data cannot be trusted);
- padctl's heartbeat not taken up by a PLC, or its watchdog tripped (outputs held safe);
- the control loop lagging over the pad's limit;
- a supervised task that crashed, ended or hung (and was restarted);
- a journal write that failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from padctl.alarms import AlarmDefinition, AlarmKind, AlarmManager, AlarmPriority
from padctl.clock import Clock
from padctl.definition import PadDefinition
from padctl.loop_lag import LoopLagMonitor
from padctl.plant import Plant, WatchdogState, record_soon
from padctl.supervisor import Pulse, Supervisor, TaskReport, TaskTrouble

log = structlog.get_logger()

EVALUATE_PERIOD_WALL_S = 0.05
LOOP_LAG_ALARM_ID = "LOOP-LAG"
JOURNAL_ALARM_ID = "JOURNAL-WRITE"


@dataclass(frozen=True)
class PlcFreshness:
    """How fresh one PLC's data is now: the age of its newest sample against its limit."""

    plc: str
    age_s: float  # wall seconds since the newest sample of any of its tags
    stale_after_s: float
    stale_tags: tuple[str, ...]  # its tags whose quality is STALE now
    # of `age_s`, the wall seconds padctl's own loop stood still (not the PLC's silence)
    stalled_s: float = 0.0

    @property
    def fresh(self) -> bool:
        return self.age_s - self.stalled_s <= self.stale_after_s and not self.stale_tags


def plc_alarm_id(plc_id: str, what: str) -> str:
    return f"PLC-{plc_id}-{what}"


def task_alarm_id(task: str) -> str:
    return "TASK-" + task.upper().replace("_", "-")


class PadHealth:
    """Judges links, heartbeats, watchdogs, loop lag, tasks and the journal, and alarms each
    loss; `report()` is what `/api/health` and the console show."""

    def __init__(
        self,
        *,
        definition: PadDefinition,
        plant: Plant,
        alarms: AlarmManager,
        supervisor: Supervisor,
        loop_lag: LoopLagMonitor,
        clock: Clock,
        loop_lag_limit_wall_s: float,
    ) -> None:
        self._definition = definition
        self._plant = plant
        self._alarms = alarms
        self._supervisor = supervisor
        self._loop_lag = loop_lag
        self._clock = clock
        self.loop_lag_limit_wall_s = loop_lag_limit_wall_s
        self.journal_failures = 0
        self.last_journal_error = ""
        self._tag_names: dict[str, list[str]] = {}  # PLC id -> its tags' names
        for plc in definition.plcs:
            alarms.define(
                AlarmDefinition(
                    id=plc_alarm_id(plc.id, "LINK"),
                    message=f"PLC {plc.id}: link lost, data STALE",
                    priority=AlarmPriority.HIGH,
                    kind=AlarmKind.EVENT,
                )
            )
            if plc.heartbeat is None:
                continue
            alarms.define(
                AlarmDefinition(
                    id=plc_alarm_id(plc.id, "HEARTBEAT"),
                    message=f"PLC {plc.id}: its heartbeat stopped (PLC logic not running)",
                    priority=AlarmPriority.HIGH,
                    kind=AlarmKind.EVENT,
                )
            )
            alarms.define(
                AlarmDefinition(
                    id=plc_alarm_id(plc.id, "WATCHDOG"),
                    message=f"PLC {plc.id}: padctl's heartbeat not taken up, watchdog tripped "
                    "(outputs held safe)",
                    priority=AlarmPriority.URGENT,
                    kind=AlarmKind.EVENT,
                )
            )
        alarms.define(
            AlarmDefinition(
                id=LOOP_LAG_ALARM_ID,
                message=f"Control loop lag over {loop_lag_limit_wall_s * 1000:g} ms",
                priority=AlarmPriority.HIGH,
                kind=AlarmKind.EVENT,
            )
        )
        alarms.define(
            AlarmDefinition(
                id=JOURNAL_ALARM_ID,
                message="Journal write failed: the audit record is incomplete",
                priority=AlarmPriority.URGENT,
                kind=AlarmKind.EVENT,
            )
        )
        supervisor.add_listener(self._task_report)

    # ---- freshness ---------------------------------------------------------------------------
    def plc_freshness(self, plc_id: str) -> PlcFreshness:
        """Whether one PLC's data is fresh: none of its tags STALE, the newest young enough."""
        plc = self._definition.plc(plc_id)
        names = self._tag_names.get(plc_id)
        if names is None:
            names = self._tag_names[plc_id] = [tag.name for tag in self._definition.tags_of(plc_id)]
        table = self._plant.table
        newest_s, stale_tags = table.staleness(names)
        age_s = self._clock.monotonic() - newest_s
        return PlcFreshness(
            plc=plc_id,
            age_s=age_s,
            stale_after_s=plc.stale_after_s,
            stale_tags=stale_tags,
            stalled_s=0.0
            if age_s <= plc.stale_after_s
            else table.excused_wall_s(newest_s, plc.stale_after_s),
        )

    def freshness(self) -> dict[str, PlcFreshness]:
        return {plc.id: self.plc_freshness(plc.id) for plc in self._definition.plcs}

    # ---- judgement -------------------------------------------------------------------------
    async def run(self, pulse: Pulse) -> None:
        """Judge every `EVALUATE_PERIOD_WALL_S` until cancelled (run under a supervisor)."""
        while True:
            self.evaluate()
            pulse.beat()
            await self._clock.wall_sleep(EVALUATE_PERIOD_WALL_S)

    def evaluate(self) -> None:
        alarms = self._alarms
        for plc_id, fresh in self.freshness().items():
            link_ok = fresh.fresh
            alarms.set_condition(
                plc_alarm_id(plc_id, "LINK"),
                not link_ok,
                detail=self._link_detail(plc_id, fresh),
            )
            keeper = self._plant.heartbeats.get(plc_id)
            if keeper is None:
                continue
            # A lost link also stops the PLC's counter: that loss is the LINK alarm's.
            alarms.set_condition(
                plc_alarm_id(plc_id, "HEARTBEAT"),
                link_ok and not keeper.plc_alive,
                detail=f"{keeper.heartbeat.plc_counter_tag} not advancing for "
                f"{keeper.heartbeat.watchdog_s:g} s",
            )
            watchdog = keeper.watchdog
            alarms.set_condition(
                plc_alarm_id(plc_id, "WATCHDOG"),
                watchdog is WatchdogState.TRIPPED or not keeper.taken_up,
                detail=self._watchdog_detail(keeper.taken_up, watchdog, keeper.last_error),
            )
        lag_s = self._loop_lag.p99_wall_s
        alarms.set_condition(
            LOOP_LAG_ALARM_ID,
            lag_s > self.loop_lag_limit_wall_s,
            detail=f"p99 {lag_s * 1000:.1f} ms over the last 10 s",
        )

    def _link_detail(self, plc_id: str, fresh: PlcFreshness) -> str:
        hub = self._plant.hubs[plc_id]
        return (
            f"no fresh data for over {fresh.stale_after_s:g} s; "
            f"{'connected' if hub.connected else 'not connected'}"
        )

    @staticmethod
    def _watchdog_detail(taken_up: bool, watchdog: WatchdogState, error: str) -> str:
        if not taken_up:
            return "padctl's heartbeat writes are not reaching the PLC" + (
                f": {error}" if error else ""
            )
        return f"watchdog {watchdog.value}"

    # ---- tasks and journal --------------------------------------------------------------------
    def _task_report(self, report: TaskReport) -> None:
        alarm_id = task_alarm_id(report.task)
        if report.trouble in (TaskTrouble.CRASHED, TaskTrouble.ENDED, TaskTrouble.HUNG):
            self._ensure_task_alarm(alarm_id, report.task)
            self._alarms.set_condition(alarm_id, True, detail=report.detail)
        elif report.trouble is TaskTrouble.RECOVERED:
            self._ensure_task_alarm(alarm_id, report.task)
            self._alarms.set_condition(alarm_id, False)
        record_soon(
            self._plant.journal,
            "task_" + report.trouble.value,
            {"task": report.task, "detail": report.detail, "restarts": report.restarts},
            actor="padctl",
        )

    def _ensure_task_alarm(self, alarm_id: str, task: str) -> None:
        if alarm_id not in {view.id for view in self._alarms.views()}:
            self._alarms.define(
                AlarmDefinition(
                    id=alarm_id,
                    message=f"Supervised task {task} failed and was restarted",
                    priority=AlarmPriority.HIGH,
                    kind=AlarmKind.EVENT,
                )
            )

    def journal_failed(self, error: BaseException) -> None:
        """A journal row could not be committed."""
        self.journal_failures += 1
        self.last_journal_error = str(error)
        self._alarms.set_condition(JOURNAL_ALARM_ID, True, detail=str(error))

    # ---- the report -------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        """Per PLC: the link, the heartbeat both ways and the watchdog; the loop, the tasks."""
        plcs: dict[str, Mapping[str, Any]] = {}
        for plc_id, fresh in self.freshness().items():
            hub = self._plant.hubs[plc_id]
            entry: dict[str, Any] = {
                "link": "up" if fresh.fresh else "lost",
                "connected": hub.connected,
                "data_fresh": fresh.fresh,
                "age_s": None if fresh.age_s == float("inf") else round(fresh.age_s, 3),
                "stale_after_s": fresh.stale_after_s,
            }
            keeper = self._plant.heartbeats.get(plc_id)
            if keeper is not None:
                age = keeper.last_write_age_wall_s
                entry.update(
                    {
                        "plc_heartbeat": "advancing" if keeper.plc_alive else "stopped",
                        "padctl_heartbeat": "taken up" if keeper.taken_up else "not taken up",
                        "padctl_heartbeat_age_s": None if age is None else round(age, 3),
                        "heartbeat_writes_failed": keeper.writes_failed,
                        "watchdog": keeper.watchdog.value,
                        "watchdog_source": "tag" if keeper.heartbeat.watchdog_tag else "inferred",
                    }
                )
            plcs[plc_id] = entry
        tasks = {
            name: {
                "healthy": task.healthy,
                "restarts": task.restarts,
                "last_trouble": task.last_trouble,
            }
            for name, task in self._supervisor.tasks.items()
        }
        pace = self._plant.pace
        return {
            "plcs": plcs,
            "loop_lag_ms_p99": round(self._loop_lag.p99_wall_s * 1000, 2),
            "loop_lag_ms_max": round(self._loop_lag.max_wall_s * 1000, 2),
            "loop_lag_limit_ms": self.loop_lag_limit_wall_s * 1000,
            "tasks": tasks,
            "journal_failures": self.journal_failures,
            "rate": pace.rate,
            "requested_rate": pace.requested_rate,
            "rate_limited_by": pace.reason,
        }
