"""Shipped training scenarios pass with the autopilot (their own acceptance test), part 2:
the terminal count, recycles and scrubs."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.training import ResponseScore
from tests.autopilot import autopilot_run

# At rate 200 a second of wall time is 200 s of count time: like the whole counts, these
# runs (terminal counts among them) go apart from the browser tests (see Makefile).
pytestmark = [pytest.mark.slow, pytest.mark.whole_count, pytest.mark.timeout(300)]


async def test_hold_down_does_not_release(tmp_path: Path) -> None:
    outcome = await autopilot_run("hold-down-no-release", tmp_path)
    cutoff, scrub = outcome.score.responses
    assert cutoff.by == "countdown"
    assert scrub.by == "conductor+safety"  # the scrub's second person
    cutoff_at_s, scrub_at_s = (_done_at_s(response) for response in (cutoff, scrub))
    assert cutoff_at_s < scrub_at_s  # the team scrubbed after the cutoff
    # The run ends with the responses scored: the count is on its scrub path (draining the
    # propellants takes far longer than the scenario's grace), never lifted off or counting.
    assert outcome.count_state == "scrubbed", outcome.count_state


def _done_at_s(response: ResponseScore) -> float:
    assert response.onset_s is not None and response.took_s is not None, response
    return response.onset_s + response.took_s


async def test_deluge_shortfall(tmp_path: Path) -> None:
    outcome = await autopilot_run("deluge-shortfall", tmp_path)
    cutoff, recycle = outcome.score.responses
    assert "DLG-FT-802" in cutoff.detail
    assert recycle.by == "conductor"


async def test_weather_hold_into_the_window(tmp_path: Path) -> None:
    outcome = await autopilot_run("weather-window", tmp_path)
    (scrub,) = outcome.score.responses
    assert scrub.by == "conductor+safety"


async def test_lox_vent_stuck_in_replenish(tmp_path: Path) -> None:
    outcome = await autopilot_run("lox-vent-stuck-in-replenish", tmp_path)
    cutoff, recycle, resume = outcome.score.responses
    assert "LOX-VV-101" in cutoff.detail
    assert recycle.by == resume.by == "conductor"
    assert recycle.took_s is not None and resume.took_s is not None
    assert resume.took_s > recycle.took_s  # resumed from RP-1, after the recycle
