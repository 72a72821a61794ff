"""Scoring rules on journal rows made by hand: the windows the scenario files promise."""

from __future__ import annotations

import json
from typing import Any

from padctl.journal import JournalEntry
from padctl.training import (
    ExpectedResponse,
    PlannedFault,
    ResponseKind,
    Status,
    TrainingPlan,
    score_run,
)

ALARM = "LOX_LOADING-FAULT"


def _plan(within_s: float) -> TrainingPlan:
    return TrainingPlan(
        name="slow-valve",
        title="slow valve",
        profile="test-flight",
        rate=200.0,
        faults=(PlannedFault(id="slow-cv", text="slow LOX-CV-101 4", at_t_s=-10080.0),),
        expect=(ExpectedResponse(ResponseKind.ACKNOWLEDGE, ALARM, "slow-cv", within_s),),
    )


def _rows(*rows: tuple[float, str, str, dict[str, Any]]) -> list[JournalEntry]:
    return [
        JournalEntry(number, "", t_s, kind, actor, json.dumps(payload), "", "")
        for number, (t_s, kind, actor, payload) in enumerate(rows, start=1)
    ]


def _run_with_alarm_at(alarm_s: float, acknowledged_s: float | None) -> list[JournalEntry]:
    rows = [
        (0.0, "training_started", "instructor", {"scenario": "slow-valve"}),
        (1.0, "console_accepted", "propellants", {"command": "login"}),
        (10.0, "training_fault", "instructor", {"id": "slow-cv"}),
        (alarm_s, "alarm_activated", "padctl", {"alarm": ALARM}),
    ]
    if acknowledged_s is not None:
        rows.append((acknowledged_s, "alarm_acknowledged", "propellants", {"alarm": ALARM}))
    rows.append((alarm_s + 200.0, "training_ended", "instructor", {}))
    return _rows(*rows)


def test_an_acknowledgement_window_counts_from_the_alarm_however_late_it_came() -> None:
    """The scenario promises `within_s` from the alarm's activation. An alarm that came
    later than `within_s` after the fault (at rate 200 a loaded machine adds tens of count
    seconds to a feedback timeout) was scored 'the alarm never came' while it came and was
    acknowledged at once."""
    plan = _plan(within_s=120.0)
    score = score_run(plan, _run_with_alarm_at(alarm_s=10.0 + 125.0, acknowledged_s=140.0))
    (acknowledged,) = score.responses
    assert acknowledged.status is Status.DONE, acknowledged.detail
    assert acknowledged.took_s == 5.0
    assert acknowledged.by == "propellants"


def test_an_alarm_acknowledged_too_late_is_late_and_one_that_never_came_is_not_reached() -> None:
    plan = _plan(within_s=30.0)
    (late,) = score_run(plan, _run_with_alarm_at(alarm_s=50.0, acknowledged_s=90.0)).responses
    assert late.status is Status.LATE and late.took_s == 40.0
    never = _rows(
        (0.0, "training_started", "instructor", {"scenario": "slow-valve"}),
        (10.0, "training_fault", "instructor", {"id": "slow-cv"}),
        (500.0, "training_ended", "instructor", {}),
    )
    (missing,) = score_run(plan, never).responses
    assert missing.status is Status.NOT_REACHED
    assert missing.detail == "the alarm never came"
    (waiting,) = score_run(plan, never[:2], now_clock_s=400.0).responses
    assert waiting.status is Status.PENDING
