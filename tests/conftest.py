"""Shared test fixtures: leak checks on tasks, threads and child processes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator

import psutil
import pytest
import structlog

from padctl.loop_lag import freeze_start_up


@pytest.fixture(autouse=True)
async def _no_leaked_tasks() -> AsyncIterator[None]:
    """Fail any test that leaves asyncio tasks running on its loop."""
    before = asyncio.all_tasks()
    yield
    current = asyncio.current_task()
    leftover: set[asyncio.Task[object]] = set()
    for _ in range(50):  # give cancelled tasks a few loop turns to finish
        leftover = {t for t in asyncio.all_tasks() - before if t is not current and not t.done()}
        if not leftover:
            break
        await asyncio.sleep(0.01)
    if leftover:
        for task in leftover:
            task.cancel()
        pytest.fail(f"test left {len(leftover)} asyncio task(s) running: {leftover}")


@pytest.fixture(autouse=True)
def _no_leaked_processes() -> Iterator[None]:
    """Fail any test that leaves child processes behind."""
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}
    yield
    leftover = []
    for child in me.children(recursive=True):
        if child.pid in before:
            continue
        try:
            child.wait(timeout=5)
        except psutil.TimeoutExpired:
            leftover.append(child)
            child.kill()
    if leftover:
        pytest.fail(f"test left child process(es) running: {[c.pid for c in leftover]}")


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail any test that leaves non-daemon threads running."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and not t.daemon]
    for thread in leftover:
        thread.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    if still:
        pytest.fail(f"test left thread(s) running: {still}")


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """A command run in-process (`padctl ... --log-level warning`) configures structlog for
    the whole worker: put the configuration back, or a later test that captures info
    events (structlog.testing.capture_logs) sees none of them."""
    saved = structlog.get_config()
    dependencies = {
        name: (logger.handlers[:], logger.propagate, logger.level)
        for name in ("pymodbus", "asyncua")
        for logger in [logging.getLogger(name)]
    }
    yield
    structlog.configure(**saved)
    for name, (handlers, propagate, level) in dependencies.items():
        logger = logging.getLogger(name)
        logger.handlers, logger.propagate = handlers, propagate
        logger.setLevel(level)


# The longest tests start first, so they overlap the many short ones instead of ending the
# run alone: whole counts, then browser tests, then the other slow ones, each dealt beside a
# short one.
_LONG_FIRST = ("whole_count", "e2e", "slow")
_LONGEST = ("tests.test_whole_count_recycle", "tests.test_countdown_reference")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.module.__name__ if item.module is not None else ""
        if module in _LONGEST and item.get_closest_marker("whole_count") is not None:
            return -1
        for index, marker in enumerate(_LONG_FIRST):
            if item.get_closest_marker(marker) is not None:
                return index
        return len(_LONG_FIRST)

    ranked = sorted(items, key=rank)
    longs = [item for item in ranked if rank(item) < len(_LONG_FIRST)]
    shorts = [item for item in ranked if rank(item) == len(_LONG_FIRST)]
    # Alternate long and short: with `--dist load --maxschedchunk 1` each worker is dealt
    # two tests at a time, so no worker starts two long ones back to back.
    interleaved: list[pytest.Item] = []
    while longs or shorts:
        if longs:
            interleaved.append(longs.pop(0))
        if shorts:
            interleaved.append(shorts.pop(0))
    items[:] = interleaved
    for item in items:
        if item.module is not None and item.module.__name__.startswith(_TIMING_MODULES):
            item.add_marker(pytest.mark.timing)


# Modules whose tests run padctl against simulated PLCs on scaled clocks (or a browser):
# their outcome depends on wall-clock timing, so `make test-repeat` runs them over and over.
_TIMING_MODULES = tuple(
    f"tests.{name}"
    for name in (
        "test_automatic_rules",
        "test_cli",
        "test_console_",
        "test_countdown_",
        "test_demo",
        "test_heartbeat",
        "test_hil_",
        "test_modbus",
        "test_netfault",
        "test_opcua",
        "test_redundancy",
        "test_safety_functions",
        "test_subsystem_",
        "test_training_",
        "test_whole_count",
    )
)


_CPU_LOG = os.environ.get("PADCTL_TEST_CPU_LOG")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """With PADCTL_TEST_CPU_LOG=FILE, append each test's CPU seconds (this worker and the
    child processes it waited for) as JSON lines: where the suite's time goes."""
    if not _CPU_LOG:
        return (yield)
    before = psutil.Process().cpu_times()
    started_s = time.monotonic()
    try:
        return (yield)
    finally:
        after = psutil.Process().cpu_times()
        cpu_s = sum(after[:4]) - sum(before[:4])
        with open(_CPU_LOG, "a", encoding="utf-8") as log:
            log.write(
                json.dumps(
                    {
                        "test": item.nodeid,
                        "cpu_s": round(cpu_s, 2),
                        "wall_s": round(time.monotonic() - started_s, 2),
                    }
                )
                + "\n"
            )


def pytest_collection_finish(session: pytest.Session) -> None:
    """What every worker imported and collected lives for the whole run: keep it out of the
    garbage collector's full passes, which stop a test's control loop for as long as they take
    to walk every object (one-second data gaps were seen late in full runs)."""
    freeze_start_up()
