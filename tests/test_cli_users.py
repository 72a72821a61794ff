"""`padctl users`: the users file from the command line.

Kept apart from the console tests: those share a live station (a module-scoped console rig
on TestClient's thread) whose diagnostics would land in the output this test parses (seen:
`users list --json` output with a station's `rate_in_effect` line before it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from padctl.cli import app
from padctl.console import UsersFile

pytestmark = pytest.mark.timeout(120)


def test_users_command_adds_lists_and_removes(tmp_path: Path) -> None:
    runner = CliRunner()
    path = str(tmp_path / "users.yaml")
    added = runner.invoke(
        app,
        [
            "users",
            "add",
            "bob",
            "--role",
            "subsystem_operator",
            "--subsystems",
            "lox_loading,gas_supply",
            "--password-stdin",
            "--users",
            path,
        ],
        input="a-long-password\n",
    )
    assert added.exit_code == 0, added.output
    assert "bob: subsystem_operator" in added.output
    unknown = runner.invoke(
        app,
        [
            "users",
            "add",
            "ann",
            "--role",
            "subsystem_operator",
            "--subsystems",
            "rocket",
            "--password-stdin",
            "--users",
            path,
        ],
        input="a-long-password\n",
    )
    assert unknown.exit_code == 2 and "unknown subsystem(s) rocket" in unknown.output
    listed = runner.invoke(app, ["users", "list", "--json", "--users", path])
    assert json.loads(listed.output) == [
        {
            "name": "bob",
            "role": "subsystem_operator",
            "subsystems": ["lox_loading", "gas_supply"],
            "positions": ["propellants"],
        }
    ]
    assert UsersFile.load(Path(path)).verify("bob", "a-long-password") is not None
    removed = runner.invoke(app, ["users", "remove", "bob", "--users", path])
    assert removed.exit_code == 0
    again = runner.invoke(app, ["users", "remove", "bob", "--users", path])
    assert again.exit_code == 2 and "no user 'bob'" in again.output
