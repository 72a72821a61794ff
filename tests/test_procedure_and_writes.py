"""Guarded writes and procedures: permissives, journal before send, feedback within a timeout."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from padctl.clock import ScaledClock
from padctl.journal import AsyncJournal, verify_journal
from padctl.plant import Plant, WriteRefused
from padctl.procedure import ProcedureError, ProcedureRunner, StepFailed, load_procedure
from simulators.pad import SimulatedPad
from tests.plc_fixtures import modbus_test_pad, write_definition


@pytest.fixture
async def plant_rig(tmp_path: Path) -> AsyncIterator[tuple[SimulatedPad, Plant, AsyncJournal]]:
    clock = ScaledClock(1.0)
    sim = SimulatedPad(modbus_test_pad(tmp_path), clock, scan_wall_s=0.01)
    definition = await sim.start()
    try:
        async with AsyncJournal(tmp_path / "journal.sqlite", clock=clock) as journal:
            async with Plant(definition=definition, clock=clock, journal=journal) as plant:
                assert await plant.wait_connected(5.0)
                await sim.set_values("TST", {"TST-PT-101": 3.25})
                assert await plant.table.wait_for(
                    lambda t: t.get("TST-PT-101").value == 3.25, timeout_s=5.0
                )
                yield sim, plant, journal
    finally:
        await sim.stop()


async def _kinds(journal: AsyncJournal) -> list[str]:
    return [entry.kind for entry in await journal.entries()]


@pytest.mark.parametrize(
    ("tag", "value", "reason"),
    [
        ("TST-PT-101", 1.0, "not on the writable allow-list"),
        ("TST-XX-999", 1.0, "no such tag"),
        ("TST-CV-101-SP", 100.5, "outside range [0.0, 100.0]"),
        ("TST-CV-101-SP", float("nan"), "not a finite number"),
        ("TST-FV-101-CMD", 1, "expected true or false"),
        ("TST-CV-101-SP", True, "expected a number"),
        ("TST-HB-PADCTL", 2.5, "not a whole number"),
    ],
)
async def test_refused_write_never_reaches_the_wire_and_is_journaled(
    plant_rig: tuple[SimulatedPad, Plant, AsyncJournal], tag: str, value: object, reason: str
) -> None:
    sim, plant, journal = plant_rig
    before = await sim.plcs["TST"].server.commands()
    with pytest.raises(WriteRefused, match=reason.replace("[", r"\[").replace("]", r"\]")):
        await plant.write(tag, value, actor="test", reason="refusal test")  # type: ignore[arg-type]
    assert await sim.plcs["TST"].server.commands() == before
    entries = await journal.entries(kinds=["write_refused", "command_sent"])
    assert [e.kind for e in entries] == ["write_refused"]
    assert json.loads(entries[0].payload_json)["tag"] == tag


async def test_accepted_write_is_journaled_before_and_after(
    plant_rig: tuple[SimulatedPad, Plant, AsyncJournal],
) -> None:
    sim, plant, journal = plant_rig
    await plant.write("TST-CV-101-SP", 42.0, actor="propellant-1", reason="test")
    assert (await sim.plcs["TST"].server.commands())["TST-CV-101-SP"] == pytest.approx(42.0)
    entries = await journal.entries(kinds=["command_sent", "command_outcome"])
    assert [e.kind for e in entries] == ["command_sent", "command_outcome"]
    assert entries[0].actor == "propellant-1"
    assert json.loads(entries[1].payload_json)["outcome"] == "sent"
    assert entries[0].id < entries[1].id


async def test_write_to_a_lost_plc_fails_and_the_failure_is_journaled(
    plant_rig: tuple[SimulatedPad, Plant, AsyncJournal],
) -> None:
    sim, plant, journal = plant_rig
    await sim.drop_link("TST")
    assert await plant.table.wait_for(lambda t: not t.get("TST-PT-101").is_good, timeout_s=3.0)
    with pytest.raises(Exception, match="PLC TST"):
        await plant.write("TST-CV-101-SP", 10.0, actor="test")
    entries = await journal.entries(kinds=["command_outcome"])
    assert json.loads(entries[-1].payload_json)["outcome"] == "failed"


PROCEDURE = """\
procedure: test-procedure
steps:
  - step: Open the fill valve
    require: ["TST-PT-101 <= 5", "TST-FV-101-CMD == false"]
    write: {TST-FV-101-CMD: true}
    expect: ["TST-FV-101-CMD == true"]
    within_s: 3
  - step: Set the control valve
    write: {TST-CV-101-SP: 55.5}
    expect: ["TST-CV-101-SP >= 55"]
    within_s: 3
"""


async def test_procedure_runs_with_permissives_commands_and_feedback(
    plant_rig: tuple[SimulatedPad, Plant, AsyncJournal], tmp_path: Path
) -> None:
    _sim, plant, journal = plant_rig
    procedure = load_procedure(write_definition(tmp_path, PROCEDURE, "p.yaml"), plant.definition)
    runner = ProcedureRunner(plant=plant, clock=plant.clock, actor="test")
    await runner.run(procedure)
    kinds = [event.kind for event in runner.timeline]
    assert kinds == [
        "STEP",
        "PERMISSIVE",
        "PERMISSIVE",
        "COMMAND",
        "FEEDBACK",
        "STEP",
        "COMMAND",
        "FEEDBACK",
        "DONE",
    ]
    assert (await _kinds(journal)).count("command_sent") == 2
    assert verify_journal(journal.path).ok


async def test_unmet_permissive_refuses_the_step_and_sends_nothing(
    plant_rig: tuple[SimulatedPad, Plant, AsyncJournal], tmp_path: Path
) -> None:
    sim, plant, journal = plant_rig
    text = PROCEDURE.replace("TST-PT-101 <= 5", "TST-PT-101 >= 5")
    procedure = load_procedure(write_definition(tmp_path, text, "p.yaml"), plant.definition)
    runner = ProcedureRunner(plant=plant, clock=plant.clock, actor="test")
    with pytest.raises(StepFailed, match=r"permissive not met: TST-PT-101 = 3.25 \(needs >= 5\)"):
        await runner.run(procedure)
    assert "command_sent" not in await _kinds(journal)
    assert (await sim.plcs["TST"].server.commands())["TST-FV-101-CMD"] is False


async def test_permissive_on_stale_data_is_no_go(
    plant_rig: tuple[SimulatedPad, Plant, AsyncJournal], tmp_path: Path
) -> None:
    sim, plant, _journal = plant_rig
    procedure = load_procedure(write_definition(tmp_path, PROCEDURE, "p.yaml"), plant.definition)
    await sim.stall("TST")
    assert await plant.table.wait_for(
        lambda t: t.get("TST-PT-101").quality.value == "STALE", timeout_s=3.0
    )
    runner = ProcedureRunner(plant=plant, clock=plant.clock, actor="test")
    with pytest.raises(StepFailed, match="STALE"):
        await runner.run(procedure)


async def test_missing_feedback_fails_the_step_after_its_timeout(
    plant_rig: tuple[SimulatedPad, Plant, AsyncJournal], tmp_path: Path
) -> None:
    _sim, plant, _journal = plant_rig
    text = PROCEDURE.replace('expect: ["TST-FV-101-CMD == true"]', 'expect: ["TST-PT-101 >= 9"]')
    text = text.replace("within_s: 3\n  - step: Set", "within_s: 0.3\n  - step: Set")
    procedure = load_procedure(write_definition(tmp_path, text, "p.yaml"), plant.definition)
    runner = ProcedureRunner(plant=plant, clock=plant.clock, actor="test")
    with pytest.raises(StepFailed, match=r"no feedback within 0.3 s: TST-PT-101 = 3.25"):
        await runner.run(procedure)
    assert runner.timeline[-1].kind == "FAILED"


def test_malformed_procedure_names_every_problem_with_its_line(tmp_path: Path) -> None:
    definition = modbus_test_pad(tmp_path)
    text = (
        PROCEDURE.replace("TST-PT-101 <= 5", "TST-PT-999 <= 5")
        .replace("TST-CV-101-SP: 55.5", "TST-CV-101-SP: 155.5")
        .replace('"TST-CV-101-SP >= 55"', '"TST-CV-101-SP about 55"')
    )
    path = write_definition(tmp_path, text, "bad.yaml")
    with pytest.raises(ProcedureError) as caught:
        load_procedure(path, definition)
    problems = caught.value.problems
    lines = text.splitlines()
    assert len(problems) == 3, problems
    for needle, problem in zip(("TST-PT-999", "155.5", "about"), problems, strict=True):
        line = next(n for n, text_line in enumerate(lines, 1) if needle in text_line)
        assert problem.startswith(f"{path}:{line}: "), (needle, problem)
    unknown_key = PROCEDURE.replace("    within_s: 3\n", "    within_s: 3\n    wait: 5\n", 1)
    with pytest.raises(ProcedureError, match="Extra inputs"):
        load_procedure(write_definition(tmp_path, unknown_key, "bad2.yaml"), definition)
