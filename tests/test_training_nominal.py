"""A nominal run from each shipped checkpoint raises no alarm at all: the restore included
(the uncommanded-change watch knows the outputs the checkpoint put back)."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.cli._scenarios import CHECKPOINTS_DIR, load_scenario
from padctl.cli._train import TEAM, train
from padctl.training import Autopilot, TrainingSession, TrainOptions

pytestmark = [pytest.mark.slow, pytest.mark.whole_count, pytest.mark.timeout(300)]

DATA = Path(__file__).resolve().parent / "data" / "training"
# LOOP-LAG judges the machine, not the pad or the restore: beside the rest of the suite on two
# cores the loop is truly late at times (the alarm itself: tests/test_safety_functions.py).
HOST_ALARMS = {"LOOP-LAG"}


@pytest.mark.parametrize("checkpoint", ["T-02-50-00", "T-00-36-00", "T-00-12-00"])
async def test_a_nominal_run_from_a_checkpoint_raises_no_alarm(
    checkpoint: str, tmp_path: Path
) -> None:
    scenario = load_scenario(DATA / f"nominal-{checkpoint[:7]}.yaml")
    sequence = scenario.sequence
    assert (CHECKPOINTS_DIR / sequence.name / sequence.profile / f"{checkpoint}.json").exists()
    seen: dict[str, object] = {}

    async def team(session: TrainingSession) -> None:
        await Autopilot(trainer=session.trainer, send=session.send, team=TEAM).run()
        journal = session.station.journal
        seen["alarms"] = [
            (e.payload.get("alarm"), e.payload.get("detail"))
            for e in await journal.entries(kinds=["alarm_activated"])
            if e.payload.get("alarm") not in HOST_ALARMS
        ]
        seen["count"] = session.station.countdown.state.name

    outcome = await train(
        scenario, TrainOptions(headless=True, history=None, report=None), trainee=team
    )
    assert seen["alarms"] == [], seen["alarms"]
    if checkpoint == "T-00-12-00":
        assert seen["count"] == "SECURED", outcome.end_reason  # on to liftoff
