"""Is the control loop isolated from the console? A served console, a watch on the loop, and
the client program (tests/console_load.py) driven from here.

The console server runs as `padctl serve` runs it: uvicorn on 127.0.0.1 (an ephemeral port),
on the loop of the station it serves. The clients run in a process of their own, so their
work never counts against the server's loop. `LoopWatch` records, between `start` and
`stop`, what the pad would suffer: the station's loop lag (every sample), the gaps between
padctl's heartbeat writes to each PLC, and every PLC watchdog alarm that became active.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from padctl.alarms import AlarmView
from padctl.console import Console, ConsoleConfig, ConsoleSettings, StationSource, create_app
from padctl.loop_lag import WINDOW, LoopLagMonitor
from padctl.plant import WatchdogState
from padctl.station import Station

REPO = Path(__file__).resolve().parents[1]


@dataclass
class ServedConsole:
    url: str
    console: Console

    @property
    def station(self) -> Station:
        return self.console.station


@contextlib.asynccontextmanager
async def served_console(
    config: ConsoleConfig, source: StationSource, *, start_timeout_s: float = 90.0
) -> AsyncIterator[ServedConsole]:
    """The console app under uvicorn on this loop, at 127.0.0.1 and an ephemeral port."""
    ready = asyncio.Event()
    app = create_app(config, source, on_ready=ready.set)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_level="warning", ws="websockets-sansio")
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]), name="uvicorn")
    try:
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait(
            [serving, waiter], timeout=start_timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()
        if not ready.is_set():
            raise AssertionError(f"the console did not start within {start_timeout_s:g} s")
        while not server.started:  # noqa: ASYNC110 (uvicorn has no event for it)
            await asyncio.sleep(0.01)
        yield ServedConsole(f"http://127.0.0.1:{port}", app.state.console)
    finally:
        server.should_exit = True
        await serving
        listener.close()


def console_config(users: Any, *, update_period_wall_s: float) -> ConsoleConfig:
    return ConsoleConfig(
        users=users,
        settings=ConsoleSettings(update_period_wall_s=update_period_wall_s, simulated=True),
    )


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * (len(ordered) - 1) + 0.5))]


@dataclass
class LoopFigures:
    """What the loop and the pad's heartbeats went through while the watch was on."""

    loop_lag_ms_p99: float  # over every sample taken (one every 20 ms)
    loop_lag_ms_p99_worst: float  # the station's rolling p99 (last 2 s), at its worst
    loop_lag_ms_max: float
    loop_lag_max_at_s: float  # when the worst sample came, seconds after `start`
    loop_lag_samples: int
    heartbeat_gap_max_s: dict[str, float]  # per PLC: the longest time without a write
    half_watchdog_s: dict[str, float]
    watchdog_alarms: list[str]  # PLC-<ID>-WATCHDOG alarms that became active
    watchdog_tripped: list[str]  # PLCs whose keeper saw its watchdog TRIPPED

    def describe(self) -> dict[str, Any]:
        return {
            "loop_lag_ms_p99": round(self.loop_lag_ms_p99, 2),
            "loop_lag_ms_p99_worst": round(self.loop_lag_ms_p99_worst, 2),
            "loop_lag_ms_max": round(self.loop_lag_ms_max, 2),
            "loop_lag_max_at_s": round(self.loop_lag_max_at_s, 2),
            "loop_lag_samples": self.loop_lag_samples,
            "heartbeat_gap_max_s": {k: round(v, 3) for k, v in self.heartbeat_gap_max_s.items()},
            "half_watchdog_s": self.half_watchdog_s,
            "watchdog_alarms": self.watchdog_alarms,
            "watchdog_tripped": self.watchdog_tripped,
        }


@dataclass
class LoopWatch:
    """Watches a running station's loop lag, heartbeat writes and watchdog alarms.

    It rides on the loop-lag monitor's samples (every 20 ms): no task of its own. The heartbeat
    gaps come from the keepers' own write times, so the sampling period does not blur them.
    """

    station: Station
    lags_s: list[float] = field(default_factory=list)
    lag_times_s: list[float] = field(default_factory=list)
    started_s: float = 0.0
    rolling_worst_s: float = 0.0
    gaps_s: dict[str, float] = field(default_factory=dict)
    last_write_s: dict[str, float] = field(default_factory=dict)
    alarms: list[str] = field(default_factory=list)
    tripped: set[str] = field(default_factory=set)
    on: bool = False
    _hooked: bool = False

    def start(self) -> None:
        if not self._hooked:
            monitor = self.station.loop_lag
            assert monitor is not None, "the station is not started"
            monitor.add_listener(self._sample)
            self.station.alarms.add_listener(self._alarm)
            self._hooked = True
        self.lags_s.clear()
        self.lag_times_s.clear()
        self.started_s = self.station.clock.monotonic()
        self.rolling_worst_s = 0.0
        self.gaps_s = {plc_id: 0.0 for plc_id in self.station.plant.heartbeats}
        self.last_write_s = {}
        self.alarms.clear()
        self.tripped.clear()
        self._heartbeats()
        self.on = True

    def stop(self) -> LoopFigures:
        self._heartbeats(closing=True)
        self.on = False
        keepers = self.station.plant.heartbeats
        worst = max(range(len(self.lags_s)), key=self.lags_s.__getitem__, default=None)
        return LoopFigures(
            loop_lag_ms_p99=p99(self.lags_s) * 1000,
            loop_lag_ms_p99_worst=self.rolling_worst_s * 1000,
            loop_lag_ms_max=max(self.lags_s, default=0.0) * 1000,
            loop_lag_max_at_s=0.0 if worst is None else self.lag_times_s[worst] - self.started_s,
            loop_lag_samples=len(self.lags_s),
            heartbeat_gap_max_s=dict(self.gaps_s),
            half_watchdog_s={k: keeper.heartbeat.watchdog_s / 2 for k, keeper in keepers.items()},
            watchdog_alarms=list(self.alarms),
            watchdog_tripped=sorted(self.tripped),
        )

    def _sample(self, monitor: LoopLagMonitor) -> None:
        if not self.on:
            return
        self.lags_s.append(monitor.last_wall_s)
        self.lag_times_s.append(self.station.clock.monotonic())
        # The station's own figure, over this watch's samples only (not what came before).
        window = sorted(self.lags_s[-WINDOW:])
        rolling_s = window[min(len(window) - 1, int(len(window) * 0.99))]
        self.rolling_worst_s = max(self.rolling_worst_s, rolling_s)
        self._heartbeats()

    def _heartbeats(self, *, closing: bool = False) -> None:
        now_s = self.station.clock.monotonic()
        for plc_id, keeper in self.station.plant.heartbeats.items():
            age_s = keeper.last_write_age_wall_s
            if keeper.watchdog is WatchdogState.TRIPPED:
                self.tripped.add(plc_id)
            if age_s is None:
                continue
            written_s = now_s - age_s
            before_s = self.last_write_s.get(plc_id)
            if before_s is not None and written_s - before_s > 1e-6:
                self.gaps_s[plc_id] = max(self.gaps_s[plc_id], written_s - before_s)
            self.last_write_s[plc_id] = written_s
            if closing:  # the gap still open counts too
                self.gaps_s[plc_id] = max(self.gaps_s[plc_id], age_s)

    def _alarm(self, view: AlarmView) -> None:
        if self.on and view.id.endswith("-WATCHDOG") and view.condition_active:
            self.alarms.append(view.id)


async def settle(station: Station, *, below_ms: float, timeout_s: float) -> float:
    """Wait until the station's loop lag p99 (last 2 s) is below `below_ms`: start-up is over."""
    monitor = station.loop_lag
    assert monitor is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while monitor.samples < 100 or monitor.p99_wall_s * 1000 >= below_ms:
        if loop.time() > deadline:
            break
        await asyncio.sleep(0.1)
    return monitor.p99_wall_s * 1000


async def run_clients(
    url: str, options: list[str], watch: LoopWatch, *, timeout_s: float
) -> tuple[dict[str, Any], LoopFigures]:
    """tests/console_load.py against `url`; the watch is on during its load phase."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.console_load",
        "--url",
        url,
        *options,
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    assert process.stdout is not None
    figures: LoopFigures | None = None
    last = ""
    try:
        async with asyncio.timeout(timeout_s):
            while line := (await process.stdout.readline()).decode():
                last = line.strip() or last
                if last == '{"phase": "start"}':
                    watch.start()
                elif last == '{"phase": "end"}':
                    figures = watch.stop()
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, f"the clients failed (exit {process.returncode})"
    assert figures is not None, "the clients never ended their load phase"
    result: dict[str, Any] = json.loads(last)
    return result, figures
