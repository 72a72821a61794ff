"""The instructor's controls of a training run, over the console protocol: checkpoints and
jumps (the pad and the clocks come back exactly), pause, rate, faults, end, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from padctl.cli._scenarios import load_scenario
from padctl.cli._serve import simulated_station
from padctl.cli._train import train
from padctl.console import Console, ConsoleConfig, Role, StationHandle, User, UsersFile
from padctl.countdown import CountState, parse_t_time
from padctl.training import (
    CheckpointError,
    StationCheckpoint,
    TrainingSession,
    TrainOptions,
    load_checkpoint,
    stale_sources,
)
from tests.console_fixtures import reference_test_flight

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]
JUMP = Path(__file__).parent / "data" / "training" / "jump.yaml"
WAIT_WALL_S = 30.0


async def _until(predicate: Callable[[], bool], what: str) -> None:
    """Wait (wall time, bounded) until `predicate()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_WALL_S
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_a_jump_brings_back_the_pad_and_the_clocks_exactly(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    async def instructor(session: TrainingSession) -> None:
        trainer, countdown = session.trainer, session.station.countdown
        await _until(lambda: countdown.t_now() >= -2100, "T-00:35:00")
        seen["mid"] = mid = await trainer.capture("mid")
        await _until(lambda: countdown.t_now() >= -1980, "T-00:33:00, past the fault")
        seen["faults_before"] = await trainer.simulator.active_faults()
        seen["jump"] = await session.send("instructor", "train.jump", {"checkpoint": "mid"})
        seen["pad"] = await trainer.simulator.capture()
        seen["t_s"], seen["l_s"] = countdown.t_now(), countdown.l_now()
        seen["rate"] = trainer.clock.rate
        seen["faults_after"] = await trainer.simulator.active_faults()
        seen["subsystems"] = {
            name: (s.machine_state, s.mode.value) for name, s in session.station.subsystems.items()
        }
        seen["resume"] = await session.send("instructor", "train.resume", {})
        await _until(lambda: countdown.t_now() >= mid.count.t_s + 90, "the count going on")
        seen["onset_after_jump"] = trainer.onsets.get("stuck-bleed")
        seen["state_later"] = countdown.state
        await session.send("instructor", "train.end", {"reason": "checked"})

    scenario = load_scenario(JUMP)
    outcome = await train(
        scenario, TrainOptions(headless=True, history=None, report=tmp_path / "report"),
        trainee=instructor,
    )  # fmt: skip
    mid = seen["mid"]
    assert seen["jump"]["type"] == "accepted", seen["jump"]
    assert seen["jump"]["result"]["differences"] == []
    assert seen["jump"]["result"]["status"]["paused"] is True
    assert seen["faults_before"]["stuck"] == ["LOX-FV-103"]
    assert seen["faults_after"]["stuck"] == []  # taken before the fault: the valve is free
    assert seen["pad"]["model"] == mid.pad["model"]  # physics, sensor faults, model time
    assert seen["pad"]["outputs"] == mid.pad["outputs"]  # the PLCs' outputs
    assert seen["t_s"] == mid.count.t_s  # the T clock, to the bit (paused after the jump)
    assert seen["l_s"] == pytest.approx(mid.count.l_s, abs=1e-6)
    assert seen["rate"] == 0.0
    assert seen["subsystems"] == {
        name: (record.state, record.mode) for name, record in mid.subsystems.items()
    }
    resumed = seen["resume"]["result"]["status"]
    assert resumed["requested_rate"] == 200.0  # the rate in effect may be capped below it
    assert 0 < resumed["rate"] <= 200.0
    assert seen["state_later"] is CountState.COUNTING
    assert seen["onset_after_jump"] is not None  # the fault came again after the jump
    assert outcome.end_reason == "checked"
    assert {"start", "mid"} <= set(outcome.checkpoints)
    assert outcome.score.attempts == 2
    assert (tmp_path / "report" / "timeline.png").stat().st_size > 10_000


async def test_instructor_controls_and_their_refusals(tmp_path: Path) -> None:
    answers: dict[str, dict[str, Any]] = {}

    async def instructor(session: TrainingSession) -> None:
        trainer = session.trainer

        async def ask(label: str, command: str, user: str = "instructor", **args: Any) -> None:
            answers[label] = await session.send(user, command, args)

        await ask("status", "train.status")
        await ask("too fast", "train.rate", rate=400)
        await ask("slower", "train.rate", rate=50)
        answers["rate"] = {"value": trainer.pace.requested_rate}
        await ask("pause", "train.pause")
        answers["paused"] = {"value": trainer.clock.rate}
        await ask("resume", "train.resume")
        await ask("bad fault", "train.inject", fault="stuk LOX-FV-101")
        await ask("fire", "train.inject", fault="fire 2")
        await ask("admin fault", "sim.inject", user="conductor", fault="fire 2")
        await ask("by conductor", "train.pause", user="conductor")
        await ask("no checkpoint", "train.jump", checkpoint="BIH-9")
        await ask("end", "train.end", reason="enough")
        await ask("after end", "train.pause")

    outcome = await train(
        load_scenario(JUMP), TrainOptions(headless=True, history=None), trainee=instructor
    )
    status = answers["status"]["result"]["status"]
    assert status["scenario"] == "jump-test" and status["max_rate"] == 200.0
    assert [c["label"] for c in status["checkpoints"]] == ["start"]
    assert status["faults"][0]["id"] == "stuck-bleed" and status["faults"][0]["state"] == "armed"
    refused = answers["too fast"]
    assert (refused["type"], refused["code"]) == ("refused", "training")
    assert "allowed from 0 to 200" in refused["reason"]
    assert answers["slower"]["type"] == "accepted" and answers["rate"]["value"] == 50.0
    assert answers["paused"]["value"] == 0.0
    resumed = answers["resume"]["result"]["status"]
    assert resumed["requested_rate"] == 50.0  # back to the rate it had
    assert 0 < resumed["rate"] <= 50.0  # in effect: that, or less while the wire is slower
    assert (
        answers["bad fault"]["code"] == "training"
        and "unknown fault" in answers["bad fault"]["reason"]
    )
    assert answers["fire"]["result"]["fault"] == "fire 2"
    assert answers["admin fault"]["code"] == "forbidden"
    assert answers["by conductor"]["code"] == "forbidden"
    assert "instructor" in answers["by conductor"]["reason"]
    assert (
        answers["no checkpoint"]["code"] == "training"
        and "BIH-9" in answers["no checkpoint"]["reason"]
    )
    assert answers["end"]["result"]["status"]["ended"] is True
    assert (
        answers["after end"]["code"] == "training" and "has ended" in answers["after end"]["reason"]
    )
    assert outcome.end_reason == "enough"
    assert outcome.score.onsets.keys() == {"unscripted-1"}  # T-00:34:00 never came


async def test_instructor_commands_need_a_training_run(tmp_path: Path) -> None:
    definition, sequence, criteria = reference_test_flight()
    async with simulated_station(
        definition, rate=10.0, sequence=sequence, lcc=criteria, journal_path=tmp_path / "j.sqlite"
    ) as handle:
        console = Console(ConsoleConfig(users=UsersFile(path=tmp_path / "users.yaml")), handle)
        instructor = User("teacher", Role.INSTRUCTOR)
        message = {"type": "command", "request_id": "r1", "command": "train.pause", "args": {}}
        answer = await console.desk.handle(instructor, message)
        assert (answer["type"], answer["code"]) == ("refused", "unavailable")
        assert "padctl train" in answer["reason"]
        message = {
            "type": "command",
            "request_id": "r2",
            "command": "train.rate",
            "args": {"rate": "fast"},
        }
        answer = await console.desk.handle(instructor, message)
        assert answer["code"] == "bad_request" and "rate" in answer["reason"]
        assert isinstance(handle, StationHandle)
        await console.desk.stop()


async def test_checkpoints_are_made_by_a_nominal_count_and_kept_as_files(tmp_path: Path) -> None:
    from padctl.cli._train import make_checkpoints, start_checkpoint

    base = load_scenario(JUMP)
    (path,) = await make_checkpoints(base, [parse_t_time("T-05:55:00")], tmp_path)
    assert path == tmp_path / "zenit-site45-reference" / "test-flight" / "T-05-55-00.json"
    checkpoint = load_checkpoint(path)
    assert checkpoint.label == "T-05:55:00" and checkpoint.count.state == "COUNTING"
    assert parse_t_time("T-05:55:00") <= checkpoint.count.t_s < parse_t_time("T-05:54:30")
    assert checkpoint.subsystems["erector"].state == "VERTICAL_LOCKED"
    assert stale_sources(checkpoint, base.source_files()) == []  # made from these very files
    assert StationCheckpoint.from_json(checkpoint.to_json()) == checkpoint
    late = tmp_path / "late.yaml"
    late.write_text(
        JUMP.read_text().replace("T-00:36:00", "T-05:55:00").replace("T-00:34:00", "T-05:50:00")
    )
    assert await start_checkpoint(load_scenario(late), tmp_path) == checkpoint  # not made again
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": 7}')
    with pytest.raises(CheckpointError, match=f"{broken}: checkpoint format 7 is not 1"):
        load_checkpoint(broken)
