"""The count's T clock stands still in holds; its L clock never does."""

from __future__ import annotations

import pytest

from padctl.clock import ManualClock
from padctl.countdown._count_clocks import CountClocks


def test_t_stands_in_holds_and_l_runs_from_the_start() -> None:
    clock = ManualClock()
    clocks = CountClocks(clock, start_t_s=-600.0)
    assert (clocks.t_now(), clocks.l_now()) == (-600.0, 0.0)
    assert not clocks.t_running and not clocks.l_started
    clock.advance(5.0)  # nothing runs before the start
    assert (clocks.t_now(), clocks.l_now()) == (-600.0, 0.0)

    clocks.start_l()
    clocks.start_t()
    clock.advance(10.0)
    assert (clocks.t_now(), clocks.l_now()) == (-590.0, 10.0)
    clocks.start_t()  # already running: T does not jump back
    clock.advance(1.0)
    assert clocks.t_now() == -589.0

    clocks.stop_t()  # a hold
    clock.advance(30.0)
    assert (clocks.t_now(), clocks.l_now()) == (-589.0, 41.0)

    clocks.set_t(-1560.0)  # a recycle: T set back, still standing
    clock.advance(2.0)
    assert (clocks.t_now(), clocks.l_now(), clocks.t_running) == (-1560.0, 43.0, False)
    clocks.set_t(-100.0, running=True)  # a checkpoint taken while counting
    clock.advance(4.0)
    assert clocks.t_now() == pytest.approx(-96.0)

    clocks.start_l(l_s=3600.0)  # a recovery carries L over
    assert clocks.l_now() == 3600.0
    clocks.clear_l()
    assert (clocks.l_now(), clocks.l_started) == (0.0, False)


def test_t_at_reads_t_as_it_was_at_a_past_moment_through_holds() -> None:
    """A journal row or an alarm keeps its clock time; its T-time is read back from the
    count's starts and stops, so a hold since (or a fast clock) does not move it."""
    clock = ManualClock()
    before_s = clock.now() - 1.0
    clocks = CountClocks(clock, start_t_s=-600.0)
    assert clocks.t_at(before_s) is None
    made_s = clock.now()
    clock.advance(5.0)
    clocks.start_t()
    started_s = clock.now()
    clock.advance(30.0)
    clocks.stop_t()  # a hold at T-00:09:30
    held_s = clock.now()
    clock.advance(100.0)
    clocks.set_t(-1200.0, running=True)  # a recycle
    recycled_s = clock.now()
    clock.advance(7.0)
    assert clocks.t_at(made_s + 2.0) == -600.0
    assert clocks.t_at(started_s + 10.0) == -590.0
    assert clocks.t_at(held_s + 50.0) == -570.0
    assert clocks.t_at(recycled_s + 3.0) == -1197.0
    assert clocks.t_at(clock.now()) == clocks.t_now() == -1193.0
