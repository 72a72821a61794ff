"""Clock and wall seconds, the shared clock, and the rate governor that keeps a scaled clock
from outrunning its wire."""

from __future__ import annotations

import asyncio
import gc
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
import structlog

from padctl import clock as clock_module
from padctl.cli._simulated import simulated_pad
from padctl.clock import (
    Deadline,
    FollowerClock,
    ManualClock,
    ScaledClock,
    real_clock,
)
from padctl.definition import load_pad_definition
from padctl.loop_lag import RECENT, WINDOW, LoopLagMonitor
from padctl.pace import EVENT_TOLERANCE_S, Pace, Window, ladder_floor
from padctl.plant import Quality, TagTable
from padctl.station import wire_lag_wall_s
from padctl.supervisor import Pulse
from padctl.tasks import cancel_and_wait
from padctl.timeouts import within_wall
from simulators.remote import SIMULATOR_NICE_STEPS, favour_the_plcs
from tests.e2e_fixtures import wait_until


async def test_a_rate_change_wakes_every_sleeper_at_once() -> None:
    clock = ScaledClock(1.0)
    deadline_s = clock.now() + 50.0  # 50 s at rate 1
    sleeper = asyncio.create_task(clock.sleep_until(deadline_s))
    await asyncio.sleep(0.02)
    assert not sleeper.done()
    started = time.monotonic()
    clock.set_rate(1000.0)  # now 50 ms of wall time
    await asyncio.wait_for(sleeper, 2.0)
    assert time.monotonic() - started < 1.0
    assert clock.now() >= deadline_s


async def test_a_paused_clock_sleeps_until_it_runs_again() -> None:
    clock = ScaledClock(0.0)
    sleeper = asyncio.create_task(clock.sleep(0.01))
    await asyncio.sleep(0.05)
    assert not sleeper.done()  # paused: no clock time passes
    clock.set_rate(1.0)
    await asyncio.wait_for(sleeper, 2.0)


async def test_wall_sleeps_ignore_the_rate() -> None:
    clock = ScaledClock(1000.0)
    started = time.monotonic()
    await clock.wall_sleep(0.05)
    assert time.monotonic() - started >= 0.049
    assert clock.wall_now() == pytest.approx(time.time(), abs=0.5)  # real UTC, not scaled


def test_a_follower_clock_in_another_process_reads_the_same_time(tmp_path: Path) -> None:
    clock = ScaledClock(100.0, share_path=tmp_path / "clock")
    follower = FollowerClock(tmp_path / "clock")
    try:
        assert follower.rate == 100.0
        assert follower.now() == pytest.approx(clock.now(), abs=0.05)
        clock.set_rate(3.0)
        assert follower.rate == 3.0
        assert follower.now() == pytest.approx(clock.now(), abs=0.05)
    finally:
        follower.close()
        clock.close()
    assert not (tmp_path / "clock").exists()


def test_a_follower_waits_off_the_cpu_for_an_owner_stopped_between_its_writes(
    tmp_path: Path,
) -> None:
    """Found in a fresh-clone suite run: the simulator's loop stood still 434 ms (no garbage
    collection in it) as the rate governor changed the rate, and all four Modbus PLCs went
    unanswered. The owner writes the shared anchor twice (odd sequence, then even); when it
    was descheduled between the writes, the follower spun on the CPU until it came back, and
    at the simulator's better priority that spin kept the owner off the CPU. The follower
    now waits for the owner off the CPU, and still never reads a half-written anchor."""
    owner = ScaledClock(200.0, share_path=tmp_path / "clock")
    follower = FollowerClock(tmp_path / "clock")
    view = owner._share._view  # type: ignore[union-attr]  # the owner stopped mid-write:
    sequence, *_ = clock_module._SHARED.unpack_from(view, 0)
    clock_module._SHARED.pack_into(view, 0, sequence + 1, 0.0, 0.0, 5.0)
    read: list[float] = []
    cpu_s: list[float] = []

    def reader() -> None:
        started_cpu_s = time.thread_time()
        read.append(follower.rate)
        cpu_s.append(time.thread_time() - started_cpu_s)

    thread = threading.Thread(target=reader, daemon=True)
    try:
        thread.start()
        thread.join(0.3)  # the owner stays off the CPU this long (wall time, on purpose)
        assert thread.is_alive() and not read  # nothing half-written was read
    finally:  # the owner comes back and finishes its write
        clock_module._SHARED.pack_into(view, 0, sequence + 2, 0.0, 0.0, 5.0)
        thread.join(5.0)
        follower.close()
        owner.close()
    assert read == [5.0]  # the anchor as the owner finished it
    assert cpu_s[0] < 0.1, cpu_s  # waiting, not spinning through the owner's 0.3 s


async def test_a_deadline_gives_the_wire_its_wall_time_after_the_clock_time() -> None:
    clock = ScaledClock(1000.0)
    deadline = Deadline(clock, duration_s=1.0, grace_wall_s=0.1)  # 1 ms, then 100 ms of wall
    await clock.sleep(1.0)
    assert not deadline.passed()
    assert 0.0 < deadline.wall_left() <= 0.1
    await clock.wall_sleep(0.11)
    assert deadline.passed()


def test_staleness_is_judged_in_wall_seconds_whatever_the_rate() -> None:
    definition = load_pad_definition()
    clock = ManualClock()
    table = TagTable(definition, clock)
    group = table.group(["LOX-PT-001"])
    table.update_group(group, (0.5,), t_source_s=clock.now(), t_received_s=clock.now())
    assert table.get("LOX-PT-001").quality is Quality.GOOD
    went = table.sweep_staleness()
    assert went == []
    clock.advance(definition.plc("PROP").stale_after_s + 0.01)
    assert table.get("LOX-PT-001").quality is Quality.STALE
    # The sweep tells the listeners once: a quality change is a change.
    seen: list[str] = []
    table.add_listener(seen.extend)
    assert table.sweep_staleness() == ["LOX-PT-001"] and seen == ["LOX-PT-001"]
    assert table.sweep_staleness() == []
    table.update_group(group, (0.5,), t_source_s=clock.now(), t_received_s=clock.now())
    assert seen[-1] == "LOX-PT-001" and len(seen) == 2  # GOOD again, same value: notified


def test_the_ladder_steps_down_to_round_numbers() -> None:
    assert [ladder_floor(x) for x in (1.0, 1.3, 7.9, 12.0, 199.0, 200.0, 0.5)] == [
        1.0,
        1.25,
        6.0,
        10.0,
        150.0,
        200.0,
        0.5,
    ]


def test_a_window_caps_the_rate_and_real_time_is_never_changed() -> None:
    clock = ScaledClock(200.0)
    pace = Pace(clock, poll_wall_s=0.02, scan_wall_s=0.02)
    assert pace.rate == 200.0
    # A 0.5 s persistence judged on samples 22 ms apart: at most 0.5 / (2 x 0.022) = 11.
    pace.open_window("lcc", 0.5, "LCC persistence", Window.OBSERVE)
    assert pace.rate == 10.0 and "LCC persistence" in pace.reason
    assert pace.lowest_rate == 10.0
    cap, _ = pace.cap()
    assert cap == pytest.approx(0.5 / (2 * pace.sample_wall_s))
    pace.close_window("lcc")
    pace.refresh(now=True)
    assert pace.rate == 200.0
    real = ScaledClock(1.0)
    real_pace = Pace(real, poll_wall_s=0.02)
    real_pace.open_window("tight", 0.001, "a tiny window")
    assert real.rate == 1.0  # real time is never slowed


def test_loop_lag_caps_the_rate_as_a_deadline_nears_and_loosely_between() -> None:
    clock = ScaledClock(500.0)
    pace = Pace(clock, poll_wall_s=0.02)
    pace.note_lag(0.005)  # 5 ms late timers: between deadlines at most 5 s / 5 ms = 1,000
    assert pace.rate == 500.0
    pace.open_window("deadline", EVENT_TOLERANCE_S, "event E", Window.DEADLINE)
    assert pace.rate == 200.0 and "event E (loop lag 5.0 ms)" in pace.reason  # 1 s / 5 ms
    pace.close_window("deadline")
    assert pace.rate == 500.0  # a window's end gives the rate back at once
    pace.note_lag(0.050)  # a 50 ms stall: no more than 5 s of the pad hidden by one
    assert pace.rate == 100.0 and "loop lag" in pace.reason
    assert pace.request(0.0) == 0.0  # pausing is always obeyed
    assert pace.request(50.0) == 50.0


async def test_a_higher_rate_comes_back_only_after_the_lag_has_settled() -> None:
    clock = ScaledClock(200.0)
    pace = Pace(clock, poll_wall_s=0.02)
    pace.note_lag(0.100)  # one 100 ms stall: 5 s / 100 ms = 50
    low = pace.rate
    assert low == 50.0
    pace.note_lag(0.001)
    assert pace.rate == low  # not at once: lag is noisy
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 3.0
    while pace.rate == low:
        assert loop.time() < deadline, "the rate never came back"
        await asyncio.sleep(0.02)
    assert pace.rate == 200.0


def test_the_pace_rejects_a_nonsense_rate() -> None:
    pace = Pace(ScaledClock(10.0), poll_wall_s=0.02)
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="finite number"):
            pace.request(bad)
    assert pace.requested_rate == 10.0


def test_one_late_wake_up_slows_the_clock_but_only_sustained_lag_alarms() -> None:
    monitor = LoopLagMonitor(ManualClock())
    for _ in range(WINDOW):
        monitor.record(0.001)
    monitor.record(0.200)  # one 200 ms stall (a GC pass, a busy neighbour)
    assert monitor.recent_max_wall_s == pytest.approx(0.200)  # the governor reacts at once
    assert monitor.p99_wall_s == pytest.approx(0.001)  # but it is not sustained lag
    for _ in range(5):
        monitor.record(0.080)
    assert monitor.p99_wall_s == pytest.approx(0.080)  # six in ten seconds: the alarm's figure
    for _ in range(RECENT):
        monitor.record(0.001)
    assert monitor.recent_max_wall_s == pytest.approx(0.001)


async def test_a_stalled_loop_is_logged_with_the_collectors_part_in_it() -> None:
    """One late wake-up does not move a p99, so a stall is logged on its own, with the time
    the garbage collector paused Python meanwhile (a full collection in a big heap stops the
    control loop: the likely cause of one-second data gaps seen in full test runs)."""
    clock = real_clock()
    monitor = LoopLagMonitor(clock)
    callbacks_before = list(gc.callbacks)
    task = asyncio.create_task(monitor.run(Pulse(clock)))
    with structlog.testing.capture_logs() as logs:
        await asyncio.sleep(0.05)  # the monitor is waiting for its next wake-up
        started = time.monotonic()
        while time.monotonic() - started < 0.3:  # the loop is stalled, partly by collecting
            gc.collect()
        await asyncio.sleep(0.05)
    await cancel_and_wait(task)
    stalls = [entry for entry in logs if entry["event"] == "loop_stalled"]
    assert stalls and stalls[0]["lag_ms"] >= 250, logs
    assert stalls[0]["gc_ms_meanwhile"] > 0
    assert monitor.max_wall_s >= 0.25
    assert gc.callbacks == callbacks_before  # the monitor's watch went with it


async def test_a_wait_on_silence_times_out_and_names_what_it_waited_for() -> None:
    silence: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    started_s = time.monotonic()
    with pytest.raises(TimeoutError, match=r"read of X: no answer within 0\.1 s"):
        await within_wall(silence, 0.1, "read of X")
    assert 0.09 <= time.monotonic() - started_s < 1.0
    assert silence.cancelled()  # nothing is left waiting


async def test_a_loop_stall_past_the_timeout_does_not_spend_it() -> None:
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def stall_then_answer() -> None:
        time.sleep(0.3)  # the loop itself stalls past the timeout of 0.1 s
        loop.call_later(0.02, answer.set_result, "reply")  # the answer comes just after

    loop.call_soon(stall_then_answer)
    assert await within_wall(answer, 0.1, "read of X") == "reply"


async def test_a_cancel_from_outside_stays_a_cancel_not_a_timeout() -> None:
    silence: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiter = asyncio.create_task(within_wall(silence, 5.0, "read of X"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


def test_a_follower_reports_its_lag_to_the_clocks_owner(tmp_path: Path) -> None:
    owner = ScaledClock(10.0, share_path=tmp_path / "clock")
    follower = FollowerClock(tmp_path / "clock")
    try:
        assert owner.follower_lag_wall_s() == 0.0
        follower.report_lag(0.3)
        assert owner.follower_lag_wall_s() == 0.3
        assert follower.now() == pytest.approx(owner.now(), abs=0.5)  # the anchor is unharmed
        assert follower.rate == 10.0
    finally:
        follower.close()
        owner.close()
    assert ScaledClock(1.0).follower_lag_wall_s() == 0.0  # not shared: no follower


async def test_a_starved_simulator_slows_the_clock_as_padctls_own_lag_would() -> None:
    """Found in a loaded suite run: the simulator's process was starved while an erector lock
    stroked, the pad's time ran on, and the lock's feedback window (17 s at rate 30-50, half
    a second of wall time) closed before the simulator had scanned: a false fault. The
    simulator now reports its loop's lag on the shared clock, and the station's rate
    governor takes the worse of the two."""
    async with simulated_pad(load_pad_definition(), rate=50.0) as simulated:
        clock, pid = simulated.clock, simulated.simulator.pid
        assert pid is not None
        monitor = LoopLagMonitor(clock)
        os.kill(pid, signal.SIGSTOP)  # the simulator starved of CPU for 0.4 s
        await asyncio.sleep(0.4)  # the stall itself, not a wait for a condition
        os.kill(pid, signal.SIGCONT)

        async def reported() -> bool:
            return clock.follower_lag_wall_s() >= 0.3

        await wait_until(reported, 5, "the simulator reports the stall it came out of")
        assert wire_lag_wall_s(monitor, clock) >= 0.3  # what the governor is handed
        pace = Pace(clock, poll_wall_s=0.02, requested_rate=50.0)
        pace.note_lag(wire_lag_wall_s(monitor, clock))
        assert pace.rate <= 20.0, pace.reason  # 5 clock s per 0.3 s stall at most


async def test_the_simulated_plcs_run_ahead_of_padctl_where_the_system_allows() -> None:
    """Found in a fresh-clone suite run: beside four test workers on two cores the simulator's
    process went unanswered past the heartbeat's timeouts (a PLC-WATCHDOG alarm in a nominal
    run), while a real PLC has a CPU of its own. Where padctl may raise a priority, the
    simulator's process runs SIMULATOR_NICE_STEPS ahead of padctl's; elsewhere it is unchanged."""
    own_nice = os.getpriority(os.PRIO_PROCESS, 0)
    probe = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; sys.stdin.read()", stdin=asyncio.subprocess.PIPE
    )
    try:  # may this process raise a priority (root with CAP_SYS_NICE)? Asked of a bystander.
        allowed = favour_the_plcs(probe.pid) < own_nice
    finally:
        assert probe.stdin is not None
        probe.stdin.close()
        await probe.wait()
    async with simulated_pad(load_pad_definition(), rate=10.0) as simulated:
        pid = simulated.simulator.pid
        assert pid is not None
        simulator_nice = os.getpriority(os.PRIO_PROCESS, pid)
    if allowed:
        assert simulator_nice == max(-20, own_nice - SIMULATOR_NICE_STEPS)
    else:
        assert simulator_nice == own_nice


async def test_the_monitor_tells_how_long_the_loop_stood_still() -> None:
    """What a judge of data age subtracts: the time padctl's own loop could not have read
    anything. Known while the loop is still waking (the monitor's wake-up is overdue) and
    after it has recorded the stall; a time after the stall has none of it."""
    clock = real_clock()
    monitor = LoopLagMonitor(clock)
    woke = asyncio.Event()
    monitor.add_listener(lambda _monitor: woke.set())
    task = asyncio.create_task(monitor.run(Pulse(clock)))
    try:
        await asyncio.wait_for(woke.wait(), 5.0)  # it runs: now it waits for its next wake-up
        woke.clear()
        before_s = clock.monotonic()
        time.sleep(0.3)  # noqa: ASYNC251 - the point: the loop stands still
        waking = monitor.stalled_wall_s(before_s)  # the same turn: the wake-up is overdue
        assert 0.2 <= waking <= 0.31, waking
        await asyncio.wait_for(woke.wait(), 5.0)
        after_s = clock.monotonic()
        recorded = monitor.stalled_wall_s(before_s)
        assert 0.2 <= recorded <= 0.31, recorded
        assert monitor.stalled_wall_s(before_s + 0.1) == pytest.approx(recorded - 0.1, abs=0.02)
        assert monitor.stalled_wall_s(after_s) == 0.0
    finally:
        await cancel_and_wait(task)
