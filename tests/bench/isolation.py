"""Benchmark: is the control loop isolated from the console when the console is abused?

This process runs what `padctl serve --sim` runs: the reference pad at rate 1 on its
simulators (a child process), the station and the console server under uvicorn on 127.0.0.1
(an ephemeral port), all on one uvloop loop, logging at warning. The clients run in a process
of their own (tests/console_load.py):

- 10 idle consoles: WebSockets logged in as a viewer, only listening;
- 64 failed logins from 8 parallel clients, each from two loopback addresses of its own, so
  that every guess reaches argon2 (the lockout allows 5 per name and per address);
- one more console sending 2,000 refused commands a second (a viewer taking authority).

First a baseline (the 10 consoles only) for `--baseline-s`, then the load for `--duration-s`.
Measured in this process during each phase: the station's loop lag (every 20 ms sample), the
longest gap between padctl's heartbeat writes to any PLC, and the PLC watchdog alarms that
became active; at the idle consoles: the gaps between updates. What else ran on the machine
(CPU by process, load average) is measured over the load phase. Prints one JSON object as its
last line.

    .venv/bin/python tests/bench/isolation.py [--duration-s 20] [--baseline-s 10]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402

from padctl.cli._app import setup_logging  # noqa: E402
from padctl.cli._runtime import run  # noqa: E402
from padctl.cli._serve import simulated_station  # noqa: E402
from padctl.console import Role, UsersFile  # noqa: E402
from tests.console_fixtures import reference_test_flight  # noqa: E402
from tests.isolation_rig import (  # noqa: E402
    LoopFigures,
    LoopWatch,
    console_config,
    run_clients,
    served_console,
    settle,
)

PASSWORD = "bench-Password-42"
CONSOLES = 10
GUESSERS = 8
GUESSES_EACH = 8  # 64 in all
REFUSALS_PER_S = 2000
UPDATE_PERIOD_S = 0.15  # padctl serve's default
TARGETS = {
    "loop_lag_ms_p99": 20,
    "heartbeat_gap_max_s": "below half the shortest watchdog",
    "watchdog_trips": 0,
    "update_gap_ms_p99": 300,
}


class MachineWatch(LoopWatch):
    """The loop watch, plus the CPU each process on the machine used during the phase."""

    cpu: dict[str, Any]

    def start(self) -> None:
        self._processes = {p.pid: p for p in psutil.process_iter(["cmdline"])}
        for process in self._processes.values():
            try:
                process.cpu_percent(None)
            except psutil.Error:
                pass
        psutil.cpu_percent(None)
        self._load_before = os.getloadavg()
        self._threads_before = _thread_cpu_s()
        self._started_wall_s = time.monotonic()
        self._gc_pauses_s: list[tuple[int, float]] = []
        gc.callbacks.append(self._gc)
        super().start()

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started_s = time.perf_counter()
        else:
            self._gc_pauses_s.append((info["generation"], time.perf_counter() - self._gc_started_s))

    def stop(self) -> LoopFigures:
        figures = super().stop()
        gc.callbacks.remove(self._gc)
        full = [pause for generation, pause in self._gc_pauses_s if generation == 2]
        elapsed_s = time.monotonic() - self._started_wall_s
        threads_after = _thread_cpu_s()
        server_threads = {
            name: round(
                100 * (threads_after[name] - self._threads_before.get(name, 0.0)) / elapsed_s, 1
            )
            for name in threads_after
        }
        named = sum(share for name, share in server_threads.items() if name != "all")
        server_threads["other threads (password hashing, offload)"] = round(
            server_threads["all"] - named, 1
        )
        me = psutil.Process()
        ours = {me.pid, *(child.pid for child in me.children(recursive=True))}
        by_process = []
        for pid, process in self._processes.items():
            try:
                share = process.cpu_percent(None)
                words = process.info["cmdline"] or [process.name()]
            except psutil.Error:
                continue
            if share > 0.5:
                where = "this benchmark" if pid in ours else "other"
                if pid == me.pid:
                    where = "server (station + console)"
                command = " ".join(
                    Path(words[0]).name if i == 0 else w for i, w in enumerate(words)
                )
                by_process.append({"pid": pid, "cpu_pct": share, "who": where, "cmd": command[:90]})
        by_process.sort(key=lambda entry: -float(entry["cpu_pct"]))
        self.cpu = {
            "cpus": psutil.cpu_count(),
            "cpu_pct_of_machine": psutil.cpu_percent(None),
            "loadavg_before": [round(x, 2) for x in self._load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            # garbage collections in the server during the phase: a full one stops the loop
            "gc_collections": len(self._gc_pauses_s),
            "gc_full_collections": len(full),
            "gc_pause_ms_max": round(1000 * max((p for _, p in self._gc_pauses_s), default=0), 1),
            "gc_full_pause_ms_max": round(1000 * max(full, default=0), 1),
            # % of one core, per thread of the server (workers: argon2, encodes, searches)
            "server_threads_cpu_pct": server_threads,
            "processes": by_process[:10],
        }
        return figures


def _thread_cpu_s() -> dict[str, float]:
    """CPU seconds so far of this process's loop thread, journal threads, and the rest."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    process = psutil.Process()
    times = process.cpu_times()
    seconds = {"all": times.user + times.system}
    for thread in process.threads():
        name = names.get(thread.id, "")
        if thread.id == threading.main_thread().native_id:
            name = "loop (main thread)"
        elif not name.startswith("padctl-journal"):
            continue
        seconds[name] = seconds.get(name, 0.0) + thread.user_time + thread.system_time
    return seconds


def _write_users(path: Path) -> None:
    users = UsersFile(path=path, hasher=PasswordHasher())  # argon2's defaults, as in service
    users.add("viewer", role=Role.VIEWER, password=PASSWORD)
    for i in range(GUESSERS):
        users.add(f"op{i}", role=Role.VIEWER, password=PASSWORD)
    users.save()


def _source(folder: Path) -> Any:
    definition, sequence, criteria = reference_test_flight()

    def source() -> Any:
        return simulated_station(
            definition,
            rate=1.0,
            sequence=sequence,
            lcc=criteria,
            journal_path=folder / "journal.sqlite",
        )

    return source


def _phase(figures: LoopFigures, clients: dict[str, Any]) -> dict[str, Any]:
    return {
        "loop_lag_ms_p99": round(figures.loop_lag_ms_p99, 2),
        "loop_lag_ms_max": round(figures.loop_lag_ms_max, 2),
        "loop_lag_max_at_s": round(figures.loop_lag_max_at_s, 2),
        "loop_lag_ms_p99_station_worst": round(figures.loop_lag_ms_p99_worst, 2),
        "heartbeat_gap_max_s": round(max(figures.heartbeat_gap_max_s.values()), 3),
        "watchdog_trips": len(figures.watchdog_alarms) + len(figures.watchdog_tripped),
        "update_gap_ms_p99": clients["update_gap_ms_p99"],
        "update_gap_ms_max": clients["update_gap_ms_max"],
        "loop_lag_samples": figures.loop_lag_samples,
        "clients": clients,
    }


async def measure(
    folder: Path, duration_s: float, baseline_s: float, *, gc_freeze: bool
) -> dict[str, Any]:
    # The users file was written before the loop started (hashing is ~0.1 s a user).
    users = UsersFile.load(folder / "users.yaml")
    config = console_config(users, update_period_wall_s=UPDATE_PERIOD_S)
    consoles = ["--password", PASSWORD, "--user", "viewer", "--sockets", str(CONSOLES)]
    async with served_console(config, _source(folder)) as served:
        settled_ms = await settle(served.station, below_ms=10, timeout_s=30)
        if gc_freeze:  # what start-up built is never garbage: full collections skip it
            gc.collect()
            gc.freeze()
        base_watch = MachineWatch(served.station)
        baseline, base_figures = await run_clients(
            served.url,
            [*consoles, "--duration-s", str(baseline_s), "--settle-s", "2"],
            base_watch,
            timeout_s=baseline_s + 120,
        )
        watch = MachineWatch(served.station)
        loaded, figures = await run_clients(
            served.url,
            [
                *consoles,
                "--settle-s",
                "2",
                "--login-clients",
                str(GUESSERS),
                "--logins-per-client",
                str(GUESSES_EACH),
                "--addresses-per-client",
                "2",
                "--guess-users",
                ",".join(f"op{i}" for i in range(GUESSERS)),
                "--refusals-per-s",
                str(REFUSALS_PER_S),
                "--duration-s",
                str(duration_s),
            ],
            watch,
            timeout_s=duration_s + 300,
        )
        health = served.station.health.report()
    half_watchdog_min_s = min(figures.half_watchdog_s.values())
    return {
        **_phase(figures, loaded),
        "half_watchdog_min_s": half_watchdog_min_s,
        "baseline_idle_consoles": {
            **_phase(base_figures, baseline),
            "server_threads_cpu_pct": base_watch.cpu["server_threads_cpu_pct"],
            "gc_full_pause_ms_max": base_watch.cpu["gc_full_pause_ms_max"],
        },
        "settled_loop_lag_ms_p99_before": round(settled_ms, 2),
        "station_rate_after": health["rate"],
        "journal_failures": health["journal_failures"],
        "machine": watch.cpu,
        "setup": {
            "rate": 1.0,
            "update_period_wall_s": UPDATE_PERIOD_S,
            "consoles": CONSOLES,
            "failed_logins": GUESSERS * GUESSES_EACH,
            "login_clients": GUESSERS,
            "refusals_per_s_offered": REFUSALS_PER_S,
            "load_s": duration_s,
            "loop": "uvloop",
            "gc_freeze": gc_freeze,
        },
        "targets": TARGETS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration-s", type=float, default=20.0)
    parser.add_argument("--baseline-s", type=float, default=10.0)
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() once the station has started"
    )
    args = parser.parse_args()
    setup_logging("warning", None)
    with tempfile.TemporaryDirectory(prefix="padctl-bench-isolation-") as tmp:
        _write_users(Path(tmp) / "users.yaml")
        result = run(measure(Path(tmp), args.duration_s, args.baseline_s, gc_freeze=args.gc_freeze))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
