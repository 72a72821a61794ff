"""Supervised tasks: a crash or a hang is reported and restarted; the data it served goes BAD."""

from __future__ import annotations

import asyncio

from padctl.clock import ScaledClock
from padctl.supervisor import Pulse, Supervisor, TaskReport, TaskTrouble


async def _until(predicate, timeout_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_a_crashed_task_is_reported_marked_down_and_restarted() -> None:
    supervisor = Supervisor(clock=ScaledClock(1.0))
    reports: list[TaskReport] = []
    supervisor.add_listener(reports.append)
    downs: list[str] = []
    ups: list[bool] = []
    runs = 0

    async def flaky(pulse: Pulse) -> None:
        nonlocal runs
        runs += 1
        pulse.beat()
        if runs == 1:
            raise RuntimeError("scan blew up")
        while True:
            await asyncio.sleep(0.01)
            pulse.beat()

    task = supervisor.spawn(
        "flaky", flaky, deadline_wall_s=1.0, on_down=downs.append, on_up=lambda: ups.append(True)
    )
    try:
        await _until(lambda: ups == [True])
        assert downs == ["crashed: RuntimeError: scan blew up"]
        troubles = [r.trouble for r in reports]
        assert troubles == [TaskTrouble.CRASHED, TaskTrouble.RESTARTED, TaskTrouble.RECOVERED]
        assert task.restarts == 1 and task.healthy and runs == 2
    finally:
        await supervisor.stop()


async def test_a_hung_task_is_cancelled_and_restarted() -> None:
    supervisor = Supervisor(clock=ScaledClock(1.0))
    reports: list[TaskReport] = []
    supervisor.add_listener(reports.append)
    runs = 0

    async def hangs_once(pulse: Pulse) -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            await asyncio.Event().wait()  # never beats again: hung
        while True:
            pulse.beat()
            await asyncio.sleep(0.01)

    supervisor.spawn("hangs", hangs_once, deadline_wall_s=0.2)
    try:
        await _until(lambda: any(r.trouble is TaskTrouble.RECOVERED for r in reports))
        hung = [r for r in reports if r.trouble is TaskTrouble.HUNG]
        assert len(hung) == 1 and "no progress for 0.2 s" in hung[0].detail
        assert runs == 2
    finally:
        await supervisor.stop()


async def test_a_task_that_returns_is_restarted_too() -> None:
    supervisor = Supervisor(clock=ScaledClock(1.0))
    reports: list[TaskReport] = []
    supervisor.add_listener(reports.append)

    async def returns(pulse: Pulse) -> None:
        pulse.beat()

    supervisor.spawn("returns", returns)
    try:
        await _until(lambda: sum(r.trouble is TaskTrouble.ENDED for r in reports) >= 2)
    finally:
        await supervisor.stop()
    assert supervisor.tasks == {}
