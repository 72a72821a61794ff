"""A shipped training scenario run headless with the autopilot as the team."""

from __future__ import annotations

from pathlib import Path

from padctl.cli._scenarios import SCENARIOS_DIR, load_scenario
from padctl.cli._train import train
from padctl.training import Status, TrainingOutcome, TrainOptions


async def autopilot_run(name: str, folder: Path) -> TrainingOutcome:
    """One shipped scenario, headless, the autopilot as the team; asserts it passed."""
    scenario = load_scenario(SCENARIOS_DIR / f"{name}.yaml")
    outcome = await train(
        scenario,
        TrainOptions(headless=True, autopilot=True, history=folder / "history.sqlite"),
    )
    score = outcome.score
    missed = [
        f"{s.status.value}: {s.response.label} ({s.detail})"
        for s in score.responses
        if s.status is not Status.DONE
    ]
    assert score.all_done, missed
    assert outcome.end_reason == "every expected response scored", outcome.end_reason
    assert not score.wrong_authority, score.wrong_authority
    assert outcome.run_id is not None
    return outcome
