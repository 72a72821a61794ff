"""Subsystem tables: checked against the pad, introspectable, diagrams generated from them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from padctl.cli import app
from padctl.definition import load_pad_definition
from padctl.subsystems import ALL_SPECS, FAULT, compile_all, subsystems_markdown

REPO = Path(__file__).resolve().parents[1]

EXPECTED = {
    "ground_power",
    "erector",
    "cable_mast",
    "hold_downs",
    "lox_loading",
    "kerosene_loading",
    "gas_supply",
    "thermal_conditioning",
    "water_deluge",
    "fire_suppression",
    "vehicle_interface",
}


def test_every_pad_system_has_a_subsystem_that_fits_the_reference_pad() -> None:
    compiled = compile_all(load_pad_definition())
    assert set(compiled) == EXPECTED
    for item in compiled.values():
        assert item.spec.safe_state.name != FAULT
        for command in item.commands.values():
            if command.spec.feedback:
                assert command.timeout_s > 0, (item.spec.name, command.spec.name)


def test_transition_tables_reach_every_state_and_leave_fault_only_by_reset() -> None:
    for spec in ALL_SPECS:
        table = spec.transition_table()
        states = {state.name for state in spec.states}
        reached = {spec.initial.name} | {row["dest"] for row in table}
        assert reached == states, (spec.name, states - reached)
        assert {row["trigger"] for row in table if row["source"] == FAULT} == {"reset"}
        assert all(
            any(r["source"] == s and r["dest"] == FAULT for r in table) for s in states - {FAULT}
        )


def test_subsystems_json_lists_states_transitions_safe_state_and_mode() -> None:
    result = CliRunner().invoke(app, ["subsystems", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert {item["name"] for item in listed} == EXPECTED
    for item in listed:
        assert {"name", "states", "transitions", "safe_state", "mode"} <= set(item)
        assert item["safe_state"] in item["states"]
        assert all(set(row) == {"source", "trigger", "dest"} for row in item["transitions"])


def test_diagram_prints_mermaid_and_refuses_unknown_names() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["diagram", "ground_power"])
    assert result.exit_code == 0
    assert result.output.startswith("stateDiagram-v2\n    [*] --> DE_ENERGIZED\n")
    assert "DE_ENERGIZED --> ENERGIZING: energize" in result.output
    result = runner.invoke(app, ["diagram", "nope"])
    assert result.exit_code == 2 and "no subsystem 'nope'" in result.output


def test_docs_page_is_generated_from_the_current_tables() -> None:
    page = (REPO / "docs" / "subsystems.md").read_text(encoding="utf-8")
    assert page == subsystems_markdown(), (
        "regenerate: padctl diagram --markdown > docs/subsystems.md"
    )
