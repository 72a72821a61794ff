"""Automatic rules are data the station runs: fire release and the cable mast at liftoff,
end to end through `padctl countdown --sim` (simulators in their own process); and a count
stopped under padctl's feet is journaled and safed."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from padctl.clock import real_clock
from padctl.journal import Journal, JournalEntry
from padctl.subsystems import ALL_SPECS
from tests.processes import PADCTL

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"


def _count(journal: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(PADCTL),
            "countdown",
            "--sim",
            "--rate",
            "100",
            "--auto",
            "--journal",
            str(journal),
            *list(args),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _entries(path: Path) -> list[JournalEntry]:
    journal = Journal(path, clock=real_clock())
    try:
        return journal.entries()
    finally:
        journal.close()


def test_every_automatic_rule_is_data_in_a_subsystem_spec() -> None:
    rules = {spec.name: [rule.command for rule in spec.automatic] for spec in ALL_SPECS}
    assert rules["fire_suppression"] == ["alarm", "alarm", "suppress", "suppress"]
    assert rules["cable_mast"] == ["retract_at_liftoff"]


def test_a_fire_during_a_count_is_released_by_the_station_and_journaled(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    done = _count(journal, "--inject", "T-05:59:40 fire 2")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "LCC-FIR-001" in done.stdout.strip().splitlines()[-1]  # the count holds on it
    assert "Traceback" not in done.stderr
    entries = _entries(journal)
    acted = [(e.actor, e.payload["command"]) for e in entries if e.kind == "automatic_rule"]
    assert acted == [("fire_suppression.auto", "alarm"), ("fire_suppression.auto", "suppress")]
    accepted = [
        e.payload["command"]
        for e in entries
        if e.kind == "command_accepted" and e.actor == "fire_suppression.auto"
    ]
    assert accepted == ["alarm", "suppress"]  # each journaled before it was given
    first_rule = next(e for e in entries if e.kind == "automatic_rule")
    assert first_rule.payload["seen"]["FIR-XA-801"] is True


def test_the_cable_mast_retracts_itself_at_liftoff(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    done = _count(
        journal,
        "--profile",
        "test",
        "--sequence",
        str(DATA / "liftoff_count.yaml"),
        "--lcc",
        str(DATA / "liftoff_lcc.yaml"),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "LIFTOFF"
    assert "cable_mast" not in "".join(
        line for line in done.stdout.splitlines() if "  COMMAND " in line
    )  # the sequence never commands the mast
    entries = _entries(journal)
    rules = [e for e in entries if e.kind == "automatic_rule"]
    assert [(e.actor, e.payload["command"]) for e in rules] == [
        ("cable_mast.auto", "retract_at_liftoff")
    ]
    assert sum(rules[0].payload["seen"].values()) >= 2  # 2 of 3 liftoff contacts
    confirmed = [
        e
        for e in entries
        if e.kind == "command_confirmed" and e.payload.get("command") == "retract_at_liftoff"
    ]
    assert confirmed and confirmed[0].actor == "cable_mast.auto"


async def test_a_count_stopped_by_a_signal_is_journaled_and_the_pad_safed(tmp_path: Path) -> None:
    """SIGTERM in the middle of a count: padctl journals station_crashed and safes every
    subsystem on its way out (no traceback, a non-zero exit)."""
    journal = tmp_path / "journal.sqlite"
    process = await asyncio.create_subprocess_exec(
        str(PADCTL), "countdown", "--sim", "--rate", "50", "--auto", "--journal", str(journal),
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(120):
            async for line in process.stdout:
                if b"COMMAND    ground_power.energize" in line:
                    break
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(120):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 1
    assert out.decode().strip().splitlines()[-1].startswith("STOPPED: interrupted")
    assert b"Traceback" not in err
    entries = _entries(journal)
    kinds = [e.kind for e in entries]
    assert "station_crashed" in kinds
    after = kinds[kinds.index("station_crashed") :]
    safed = [e.payload["subsystem"] for e in entries[-len(after) :] if e.kind == "safing_result"]
    assert sorted(safed) == sorted(spec.name for spec in ALL_SPECS)
