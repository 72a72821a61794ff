"""Scoring, report and history of training runs: a trainee who misses a response has the
miss scored, with what else they did; the report's plots are drawn; runs are kept."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from padctl.cli._scenarios import SCENARIOS_DIR, load_scenario
from padctl.cli._train import TEAM, train
from padctl.training import Autopilot, ResponseKind, Status, TrainingSession, TrainOptions, runs
from padctl.training._traces import traces_html
from tests.processes import run_padctl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    return width, height


async def test_a_missed_response_is_scored_reported_and_kept(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS_DIR / "slow-lox-fast-fill.yaml")
    ack = next(i for i, r in enumerate(scenario.plan.expect) if r.kind is ResponseKind.ACKNOWLEDGE)

    async def trainee(session: TrainingSession) -> None:
        """A team that never acknowledges the LOX fault, tries a command without authority,
        and switches the erector to MANUAL for no reason."""
        await session.send(
            "propellants", "subsystem.command", {"subsystem": "lox_loading", "name": "stop_fill"}
        )
        await session.send("padsystems", "authority.take", {"subsystem": "erector"})
        await session.send(
            "padsystems", "subsystem.mode", {"subsystem": "erector", "mode": "MANUAL"}
        )
        pilot = Autopilot(
            trainer=session.trainer, send=session.send, team=TEAM, skip=frozenset({ack})
        )
        await pilot.run()

    history = tmp_path / "history.sqlite"
    outcome = await train(
        scenario,
        TrainOptions(
            headless=True,
            trainee="dana",
            history=history,
            report=tmp_path / "report",
            tag_history=tmp_path / "tags.sqlite",
        ),
        trainee=trainee,
    )
    score = outcome.score
    statuses = [s.status for s in score.responses]
    assert statuses[ack] is Status.MISSED
    assert [s for i, s in enumerate(statuses) if i != ack] == [Status.DONE] * (len(statuses) - 1)
    missed = score.responses[ack]
    assert missed.onset_s is not None and missed.took_s is None  # timed from the alarm
    assert [n.text for n in score.ignored_alarms] == ["LOX_LOADING-FAULT (HIGH) never acknowledged"]
    assert len(score.wrong_authority) == 1
    wrong = score.wrong_authority[0]
    assert wrong.actor == "propellants" and "no authority over lox_loading" in wrong.text
    assert [(n.actor, n.text) for n in score.extra] == [
        ("padsystems", "subsystem.mode erector MANUAL")
    ]

    report = outcome.report
    assert report is not None and report.name == "report.html"
    page = report.read_text(encoding="utf-8")
    for name in ("timeline.png", "tags.png", "events.png"):
        path = report.parent / name
        assert f"src='{name}'" in page
        assert path.stat().st_size > 10_000
        width, height = _png_size(path)
        assert width >= 1000 and height >= 300
    assert "3 of 4 responses done in time" in page
    assert (
        "missed" in page and "LOX_LOADING-FAULT" in page and "no authority over lox_loading" in page
    )

    # Each scored response's involved tags, read back from the tag history the run kept.
    traces = page.split("Tag traces over each response window", 1)[1].split("<h2>", 1)[0]
    assert traces.count("<table class='trace'>") == len(score.responses), traces
    assert "<tr><td>LOX-" in traces and "GOOD" in traces, traces
    assert "No tag history was kept" in traces_html(scenario.plan, score, None, ())

    (kept,) = runs(history, trainee="dana")
    assert (kept.scenario, kept.done, kept.expected) == ("slow-lox-fast-fill", 3, 4)
    assert (kept.wrong_authority, kept.extra, kept.ignored_alarms) == (1, 1, 1)
    assert kept.missed == ("acknowledge LOX_LOADING-FAULT",)
    assert kept.report == str(report)
    assert runs(history, trainee="someone else") == []


async def test_padctl_train_headless_autopilot_exits_0_and_keeps_history(tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite"
    tags, report = tmp_path / "tags.sqlite", tmp_path / "report"
    scenario = str(SCENARIOS_DIR / "weather-window.yaml")
    code, out, err = await run_padctl(
        "train",
        scenario,
        "--headless",
        "--autopilot",
        "--history",
        str(history),
        "--tag-history",
        str(tags),
        "--report",
        str(report),
        timeout_s=90,
    )
    assert code == 0, out + err[-2000:]
    assert "done        scrub (by the team)" in out and "score: 1 of 1 done in time" in out
    page = (report / "report.html").read_text()
    assert tags.stat().st_size > 0 and "Tag traces" in page and "No tag history" not in page
    code, out, _ = await run_padctl("train", "history", "--history", str(history))
    assert code == 0
    (line,) = [x for x in out.splitlines() if "weather-window" in x]
    assert "autopilot" in line and "1/1" in line
