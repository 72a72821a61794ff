"""Training scenario files: the shipped ones load and validate; malformed ones are refused
with every problem as file:line: field: problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from padctl.cli._scenarios import (
    CHECKPOINTS_DIR,
    SCENARIOS_DIR,
    ScenarioError,
    checkpoint_path,
    load_scenario,
)
from padctl.countdown import parse_t_time
from padctl.training import EndWhen, ResponseKind
from tests.processes import run_padctl

SHIPPED = sorted(SCENARIOS_DIR.glob("*.yaml"))
REQUIRED = (
    "slow-lox-fast-fill",
    "frozen-lox-level",
    "hold-down-no-release",
    "lost-mechanisms-plc",
    "deluge-shortfall",
    "pad-fire",
    "weather-window",
    "lox-vent-stuck-in-replenish",
)
GOOD = """\
scenario: a-test
title: A test scenario
rate: 100
start: T-00:36:00
faults:
  - {id: valve, at: T-00:34:00, fault: stuck LOX-FV-101}
  - {id: level, when: "LOX-LT-101 > 60", fault: freeze LOX-LT-101, lasts_s: 60}
expect:
  - {hold: true, within_s: 60}
  - {acknowledge: LOX_LOADING-FAULT, within_s: 60, after: valve}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as refused:
        load_scenario(_write(tmp_path, text))
    return refused.value.problems


def test_every_required_scenario_is_shipped_and_loads_with_its_start_checkpoint() -> None:
    names = {path.stem for path in SHIPPED}
    assert set(REQUIRED) <= names
    kinds_seen: set[ResponseKind] = set()
    for path in SHIPPED:
        scenario = load_scenario(path)
        plan = scenario.plan
        assert plan.name == path.stem and plan.faults and plan.expect
        assert all(r.after in {f.id for f in plan.faults} for r in plan.expect)
        kinds_seen |= {r.kind for r in plan.expect}
        assert plan.start_t_s is not None  # every shipped scenario starts late, to run short
        assert checkpoint_path(CHECKPOINTS_DIR, scenario.sequence, plan.start_t_s).is_file()
    assert {ResponseKind.HOLD, ResponseKind.CUTOFF, ResponseKind.RECYCLE} <= kinds_seen
    assert {ResponseKind.ACKNOWLEDGE, ResponseKind.SAFE, ResponseKind.SCRUB} <= kinds_seen
    weather = load_scenario(SCENARIOS_DIR / "weather-window.yaml")
    assert weather.plan.faults[0].hold_reason.startswith("weather")
    assert weather.sequence.window_close_l_s == parse_t_time("T+06:45:00")
    frozen = load_scenario(SCENARIOS_DIR / "frozen-lox-level.yaml")
    assert frozen.plan.faults[0].when is not None and frozen.plan.faults[0].at_t_s is None


def test_a_good_scenario_becomes_a_plan(tmp_path: Path) -> None:
    plan = load_scenario(_write(tmp_path, GOOD)).plan
    assert (plan.name, plan.rate, plan.start_t_s) == ("a-test", 100.0, -2160.0)
    valve, level = plan.faults
    assert (valve.text, valve.at_t_s, valve.undo) == (
        "stuck LOX-FV-101",
        -2040.0,
        "unstick LOX-FV-101",
    )
    assert level.when is not None and level.when.tag == "LOX-LT-101" and level.lasts_s == 60
    assert level.undo == "unfreeze LOX-LT-101"
    hold, ack = plan.expect
    assert (hold.kind, hold.after, hold.within_s) == (ResponseKind.HOLD, "valve", 60)
    assert (ack.kind, ack.target, ack.after) == (
        ResponseKind.ACKNOWLEDGE,
        "LOX_LOADING-FAULT",
        "valve",
    )
    assert plan.end_when is EndWhen.RESPONSES and plan.reaction_s == 10


@pytest.mark.parametrize(
    ("change", "line", "expected"),
    [
        (("rate: 100", "rate: 0"), 3, "rate: Input should be greater than 0"),
        (("title:", "tilte:"), 1, "title: Field required"),
        (("faults:", "faultz:"), 5, "faultz: Extra inputs are not permitted"),
        (
            ("at: T-00:34:00, fault", 'at: T-00:34:00, when: "LOX-LT-101 > 5", fault'),
            6,
            "exactly one of 'at'",
        ),
        (("stuck LOX-FV-101", "stuk LOX-FV-101"), 6, "faults.0.fault: unknown fault 'stuk'"),
        (("stuck LOX-FV-101", "stuck LOX-FV-999"), 6, "no actuator 'LOX-FV-999'"),
        (("stuck LOX-FV-101", "bias LOX-LSH-101 1"), 6, "is a bool: override it instead"),
        (
            ("LOX-LT-101 > 60", "LOX-LT-999 > 60"),
            7,
            "faults.1.when: condition 'LOX-LT-999 > 60': no tag",
        ),
        (("at: T-00:34:00", "at: T-09:00:00"), 6, "faults.0.at: before the scenario's start"),
        (("at: T-00:34:00", "at: T-00:34:75"), 6, "faults.0.at: 'T-00:34:75': minutes and"),
        (("{hold: true,", "{hold: true, scrub: true,"), 9, "give exactly one response of"),
        (("LOX_LOADING-FAULT", "LOX_LOADING-BROKEN"), 10, "no alarm 'LOX_LOADING-BROKEN'"),
        (("after: valve", "after: nothing"), 10, "expect.1.after: no fault 'nothing'"),
        (
            ("start: T-00:36:00", "start: T-09:00:00"),
            4,
            "start: T-09:00:00 is not within the count",
        ),
        (("within_s: 60}\n", "within_s: -1}\n"), 9, "within_s: Input should be greater than 0"),
    ],
)
def test_malformed_scenarios_are_refused_with_the_line(
    tmp_path: Path, change: tuple[str, str], line: int, expected: str
) -> None:
    old, new = change
    assert old in GOOD
    problems = _problems(tmp_path, GOOD.replace(old, new, 1))
    path = tmp_path / "scenario.yaml"
    assert any(p.startswith(f"{path}:{line}: ") and expected in p for p in problems), problems


def test_cross_reference_problems_name_their_field_and_line(tmp_path: Path) -> None:
    text = GOOD + textwrap.dedent(
        """\
          - {recycle: RP-9, within_s: 60}
          - {command: lox_loading.fly, within_s: 60}
          - {safe: lox_pumping, within_s: 60}
        plot: [LOX-LT-101, NO-SUCH-TAG]
        """
    )
    text = text.replace(
        "{id: valve, at: T-00:34:00, fault: stuck LOX-FV-101}",
        "{id: valve, at: T-00:05:00, hold: storm}",
    )
    problems = _problems(tmp_path, text)
    path = tmp_path / "scenario.yaml"
    expected = {
        6: "faults.0.hold: a declared hold in the terminal count",
        11: "expect.2.recycle: no recycle point 'RP-9' (known: RP-1)",
        12: "expect.3.command: subsystem lox_loading has no command 'fly'",
        13: "expect.4.safe: no subsystem 'lox_pumping'",
        14: "plot.1: no tag 'NO-SUCH-TAG' on the pad",
    }
    for line, text_part in expected.items():
        assert any(p.startswith(f"{path}:{line}: ") and text_part in p for p in problems), (
            line,
            problems,
        )


def test_yaml_errors_and_duplicate_keys_have_their_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, GOOD.replace("rate: 100", "rate: [100"))
    assert problems[0].startswith(f"{tmp_path / 'scenario.yaml'}:") and "yaml:" in problems[0]
    problems = _problems(tmp_path, GOOD + "rate: 50\n")
    assert problems == [
        f"{tmp_path / 'scenario.yaml'}:11: yaml: duplicate key 'rate' (a later value would silently win)"
    ]


async def test_padctl_validate_takes_scenario_files(tmp_path: Path) -> None:
    bad = _write(tmp_path, GOOD.replace("stuck LOX-FV-101", "stuck LOX-FV-999"))
    code, out, err = await run_padctl("validate", str(SHIPPED[0]), str(bad))
    assert code == 1
    assert f"{SHIPPED[0]}: OK" in out
    assert f"{bad}:6: faults.0.fault: 'stuck LOX-FV-999': no actuator 'LOX-FV-999'" in err
    assert "1 of 2 file(s) have problems" in err
