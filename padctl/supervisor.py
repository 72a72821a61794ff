"""Supervised tasks: a long-running task that crashes or hangs is reported and restarted.

Every long-running part of the control loop (hub scans, heartbeat keepers, LCC and alarm
evaluation, the console broadcast, automatic rules) runs under a `Supervisor`. A task that
raises, returns, or makes no progress within its own deadline (wall seconds) is reported to
the supervisor's listener (the station journals and alarms it), cancelled if it hung, and
started again after a backoff. While it is down, its `on_down` hook runs (a hub marks the data
it served BAD); `on_up` runs once it has made progress again.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from padctl.clock import Clock
from padctl.tasks import cancel_and_wait

log = structlog.get_logger()

BACKOFF_MIN_WALL_S = 0.1
BACKOFF_MAX_WALL_S = 5.0
HEALTHY_AFTER_WALL_S = 10.0  # running this long without trouble resets the backoff
CHECK_PERIOD_WALL_S = 0.05


class Pulse:
    """What a supervised task calls to show it is making progress."""

    __slots__ = ("_clock", "beats", "last_wall_s")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.last_wall_s = clock.monotonic()
        self.beats = 0

    def beat(self) -> None:
        self.last_wall_s = self._clock.monotonic()
        self.beats += 1


Runnable = Callable[[Pulse], Awaitable[object]]


class TaskTrouble(enum.StrEnum):
    CRASHED = "crashed"  # raised an exception
    ENDED = "ended"  # returned: a long-running task must not
    HUNG = "hung"  # no progress within its deadline
    RESTARTED = "restarted"  # running again after trouble
    RECOVERED = "recovered"  # made progress again after a restart


@dataclass(frozen=True)
class TaskReport:
    """One thing that happened to a supervised task."""

    task: str
    trouble: TaskTrouble
    detail: str
    restarts: int


class SupervisedTask:
    """One task under supervision (see `Supervisor.spawn`)."""

    def __init__(
        self,
        *,
        name: str,
        run: Runnable,
        deadline_wall_s: float | None,
        on_down: Callable[[str], None] | None,
        on_up: Callable[[], None] | None,
        supervisor: Supervisor,
    ) -> None:
        self.name = name
        self._run = run
        self.deadline_wall_s = deadline_wall_s
        self._on_down = on_down
        self._on_up = on_up
        self._supervisor = supervisor
        self._clock = supervisor.clock
        self.pulse = Pulse(self._clock)
        self.restarts = 0
        self.down_since_wall_s: float | None = None
        self.last_trouble = ""
        self._task: asyncio.Task[None] | None = None
        self._current: asyncio.Task[object] | None = None
        self._hung = asyncio.Event()
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._current is not None and not self._current.done()

    @property
    def healthy(self) -> bool:
        return self.down_since_wall_s is None

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep(), name=f"supervise-{self.name}")

    async def stop(self) -> None:
        """Stop the run first (its own cleanup is not interrupted), then the keeper."""
        self._stopping = True
        task, self._task = self._task, None
        current = self._current
        if current is not None:
            await cancel_and_wait(current)  # type: ignore[arg-type]
        await cancel_and_wait(task)

    def check(self) -> None:
        """Called by the supervisor's watch: a task past its deadline has hung."""
        if self.deadline_wall_s is None or not self.running or self._hung.is_set():
            return
        silent_s = self._clock.monotonic() - self.pulse.last_wall_s
        if silent_s > self.deadline_wall_s:
            self._hung.set()

    async def _keep(self) -> None:
        backoff_s = BACKOFF_MIN_WALL_S
        while True:
            self.pulse.beat()
            self._hung.clear()
            started_s = self._clock.monotonic()
            current = asyncio.ensure_future(self._run(self.pulse))
            self._current = current
            hung = asyncio.ensure_future(self._hung.wait())
            recovered = asyncio.ensure_future(self._recovered())
            try:
                await asyncio.wait([current, hung], return_when=asyncio.FIRST_COMPLETED)
            finally:
                recovered.cancel()
                hung.cancel()
                if not current.done():
                    await cancel_and_wait(current)  # type: ignore[arg-type]
                await asyncio.gather(recovered, hung, return_exceptions=True)
            if current.cancelled() and self._hung.is_set():
                trouble, detail = (
                    TaskTrouble.HUNG,
                    (f"no progress for {self.deadline_wall_s:g} s; cancelled"),
                )
            elif current.cancelled() and self._stopping:
                raise asyncio.CancelledError  # the supervisor is stopping
            elif current.cancelled():  # killed by something else: a loss like any other
                trouble, detail = TaskTrouble.CRASHED, "cancelled from outside its supervisor"
                log.error("task_crashed", task=self.name, error=detail)
            elif current.exception() is not None:
                error = current.exception()
                trouble, detail = TaskTrouble.CRASHED, f"{type(error).__name__}: {error}"
                log.error("task_crashed", task=self.name, error=detail, exc_info=error)
            else:
                trouble, detail = TaskTrouble.ENDED, "returned"
            self._down(trouble, detail)
            if self._clock.monotonic() - started_s > HEALTHY_AFTER_WALL_S:
                backoff_s = BACKOFF_MIN_WALL_S
            await self._clock.wall_sleep(backoff_s)
            backoff_s = min(backoff_s * 2, BACKOFF_MAX_WALL_S)
            self.restarts += 1
            self._supervisor.report(
                TaskReport(self.name, TaskTrouble.RESTARTED, self.last_trouble, self.restarts)
            )

    async def _recovered(self) -> None:
        """After a restart: once the task makes progress, it is up again."""
        if self.down_since_wall_s is None:
            return
        beats = self.pulse.beats
        while self.pulse.beats == beats:
            await self._clock.wall_sleep(CHECK_PERIOD_WALL_S)
        self.down_since_wall_s = None
        if self._on_up is not None:
            self._on_up()
        self._supervisor.report(
            TaskReport(self.name, TaskTrouble.RECOVERED, self.last_trouble, self.restarts)
        )

    def _down(self, trouble: TaskTrouble, detail: str) -> None:
        self.last_trouble = f"{trouble.value}: {detail}"
        if self.down_since_wall_s is None:
            self.down_since_wall_s = self._clock.monotonic()
        if self._on_down is not None:
            try:
                self._on_down(self.last_trouble)
            except Exception:  # a broken hook must not stop the restart
                log.exception("task_down_hook_failed", task=self.name)
        self._supervisor.report(TaskReport(self.name, trouble, detail, self.restarts))


class Supervisor:
    """Runs long-lived tasks, restarts each one that crashes, ends or hangs, and reports it."""

    def __init__(self, *, clock: Clock) -> None:
        self.clock = clock
        self.tasks: dict[str, SupervisedTask] = {}
        self._listeners: list[Callable[[TaskReport], None]] = []
        self._watch: asyncio.Task[None] | None = None
        self.reports: list[TaskReport] = []

    def add_listener(self, listener: Callable[[TaskReport], None]) -> None:
        self._listeners.append(listener)

    def spawn(
        self,
        name: str,
        run: Runnable,
        *,
        deadline_wall_s: float | None = None,
        on_down: Callable[[str], None] | None = None,
        on_up: Callable[[], None] | None = None,
    ) -> SupervisedTask:
        """Start `run(pulse)` under supervision. With `deadline_wall_s`, the task must call
        `pulse.beat()` at least that often or it is taken for hung and restarted."""
        if name in self.tasks:
            raise ValueError(f"a supervised task {name!r} already runs")
        task = SupervisedTask(
            name=name,
            run=run,
            deadline_wall_s=deadline_wall_s,
            on_down=on_down,
            on_up=on_up,
            supervisor=self,
        )
        self.tasks[name] = task
        task.start()
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_deadlines(), name="supervisor-watch")
        return task

    async def stop(self) -> None:
        """Stop every task (in reverse order of spawning) and the deadline watch."""
        watch, self._watch = self._watch, None
        await cancel_and_wait(watch)
        for task in reversed(list(self.tasks.values())):
            await task.stop()
        self.tasks.clear()

    async def stop_task(self, name: str) -> None:
        """Stop one task (it is no longer supervised)."""
        task = self.tasks.pop(name, None)
        if task is not None:
            await task.stop()

    def report(self, report: TaskReport) -> None:
        self.reports.append(report)
        del self.reports[:-100]
        level = "info" if report.trouble is TaskTrouble.RECOVERED else "warning"
        getattr(log, level)(
            "supervised_task", task=report.task, trouble=report.trouble.value, detail=report.detail
        )
        for listener in list(self._listeners):
            try:
                listener(report)
            except Exception:  # reporting must never take the supervisor down
                log.exception("supervisor_listener_failed", task=report.task)

    async def _watch_deadlines(self) -> None:
        clock = self.clock
        while True:
            asleep_s = clock.monotonic()
            await clock.wall_sleep(CHECK_PERIOD_WALL_S)
            late_s = clock.monotonic() - asleep_s - CHECK_PERIOD_WALL_S
            if late_s > CHECK_PERIOD_WALL_S:
                # The whole loop stalled (the loop-lag monitor reports that): no task could make
                # progress meanwhile, so none is judged hung for it.
                for task in self.tasks.values():
                    task.pulse.last_wall_s = max(task.pulse.last_wall_s, asleep_s + late_s)
                continue
            for task in list(self.tasks.values()):
                task.check()
