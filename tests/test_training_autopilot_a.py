"""Shipped training scenarios pass with the autopilot (their own acceptance test), part 1:
faults before the terminal count."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.training import ResponseKind
from tests.autopilot import autopilot_run

# At rate 200 a second of wall time is 200 s of count time: like the whole counts, these
# runs (terminal counts among them) go apart from the browser tests (see Makefile).
pytestmark = [pytest.mark.slow, pytest.mark.whole_count, pytest.mark.timeout(300)]


async def test_slow_lox_fill_valve(tmp_path: Path) -> None:
    outcome = await autopilot_run("slow-lox-fast-fill", tmp_path)
    by_kind = {s.response.kind: s for s in outcome.score.responses}
    assert by_kind[ResponseKind.ACKNOWLEDGE].by == "propellants"
    assert by_kind[ResponseKind.RESET].by == "propellants"


async def test_frozen_lox_level(tmp_path: Path) -> None:
    outcome = await autopilot_run("frozen-lox-level", tmp_path)
    stop, hold = outcome.score.responses
    assert stop.by == "propellants" and hold.by == "conductor"
    assert stop.took_s is not None and stop.took_s < hold.response.within_s


async def test_lost_mechanisms_plc(tmp_path: Path) -> None:
    outcome = await autopilot_run("lost-mechanisms-plc", tmp_path)
    hold, resume = outcome.score.responses
    assert "STALE" in hold.detail and hold.by == "countdown"
    assert resume.by == "conductor"
    assert resume.took_s is not None and resume.took_s > 240  # not before MECH came back


async def test_pad_fire(tmp_path: Path) -> None:
    outcome = await autopilot_run("pad-fire", tmp_path)
    commands = [s for s in outcome.score.responses if s.response.kind is ResponseKind.COMMAND]
    # alarm and suppress are fire suppression's own (AUTO); closing and resetting are people's
    assert [(s.response.target, s.by) for s in commands] == [
        ("fire_suppression.stop_suppression", "padsystems"),
        ("fire_suppression.reset_alarm", "padsystems"),
    ]
    assert not outcome.score.ignored_alarms
