"""The padctl command line, run as an operator runs it: real processes, real sockets."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from padctl.cli import app
from padctl.clock import ScaledClock
from padctl.journal import Journal
from tests.plc_fixtures import MODBUS_TEST_PAD, write_definition
from tests.processes import PADCTL, run_padctl

PAD_FIRE = Path(__file__).resolve().parents[1] / "simulators" / "scenarios" / "pad-fire.yaml"


class _Sim:
    """`padctl sim` in its own process, as an operator would start it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def line(self, timeout_s: float = 20.0) -> str:
        assert self.process.stdout is not None
        return (await asyncio.wait_for(self.process.stdout.readline(), timeout_s)).decode()

    async def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()

    async def terminate(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise


async def _start_sim(pad_file: Path) -> tuple[_Sim, dict[str, object]]:
    process = await asyncio.create_subprocess_exec(
        PADCTL,
        "sim",
        "--pad",
        str(pad_file),
        "--json",
        "--ephemeral-ports",
        "--no-physics",
        "--log-level",
        "warning",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    sim = _Sim(process)
    try:
        endpoint = json.loads(await sim.line())
    except BaseException:
        await sim.terminate()
        raise
    return sim, endpoint


async def test_sim_serves_and_read_reads_every_tag_then_a_stall_shows(tmp_path: Path) -> None:
    pad_file = write_definition(tmp_path, MODBUS_TEST_PAD)
    sim, endpoint = await _start_sim(pad_file)
    try:
        assert endpoint["id"] == "TST" and endpoint["protocol"] == "modbus"
        assert endpoint["unit_id"] == 3 and isinstance(endpoint["port"], int)
        live = write_definition(
            tmp_path,
            MODBUS_TEST_PAD.replace("    port: 1\n", f"    port: {endpoint['port']}\n"),
            "live.yaml",
        )
        status, out, err = await run_padctl("read", "--pad", str(live), "--json")
        assert status == 0, err
        records = [json.loads(line) for line in out.splitlines()]
        assert len(records) == MODBUS_TEST_PAD.count("- {name:")
        assert {r["quality"] for r in records} == {"GOOD"}
        assert {"tag", "value", "unit", "quality", "timestamp"} <= set(records[0])

        status, out, _ = await run_padctl(
            "read", "TST-PT-101", "TST-FV-101-CMD", "--pad", str(live)
        )
        assert status == 0
        assert out.splitlines()[0].split()[:4] == ["TST-PT-101", "0", "bar", "GOOD"]

        await sim.send("stall TST")
        assert (await sim.line()).strip() == "fault applied: stall TST"
        status, out, _ = await run_padctl(
            "read", "TST-PT-101", "--pad", str(live), "--timeout", "1"
        )
        assert status == 1
        assert "BAD" in out and "never" in out

        await sim.send("restore TST")
        assert (await sim.line()).strip() == "fault applied: restore TST"
        status, _, _ = await run_padctl("read", "TST-PT-101", "--pad", str(live))
        assert status == 0
    finally:
        assert await sim.terminate() == 0


async def test_read_refuses_unknown_tags_and_bad_definitions(tmp_path: Path) -> None:
    pad_file = write_definition(tmp_path, MODBUS_TEST_PAD)
    status, _, err = await run_padctl("read", "NOPE-PT-1", "--pad", str(pad_file))
    assert status == 2 and "unknown tag(s): NOPE-PT-1" in err
    bad = write_definition(
        tmp_path, MODBUS_TEST_PAD.replace('address: "ir:2"', 'address: "ir:1"'), "bad.yaml"
    )
    status, _, err = await run_padctl("read", "--pad", str(bad))
    assert status == 2
    assert f"{bad}:" in err and "overlaps tag TST-PT-101" in err and "nothing was started" in err


async def test_sim_refuses_a_malformed_fault(tmp_path: Path) -> None:
    status, _, err = await run_padctl(
        "sim", "--pad", str(write_definition(tmp_path, MODBUS_TEST_PAD)), "--fault", "5 melt TST"
    )
    assert status == 2 and "unknown fault 'melt'" in err


def test_journal_verify_names_the_first_broken_row(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal(path, clock=ScaledClock(1.0)) as journal:
        for n in range(5):
            journal.append("command_sent", {"n": n}, actor="test")
    runner = CliRunner()
    result = runner.invoke(app, ["journal", "verify", str(path)])
    assert result.exit_code == 0 and "OK, 5 rows" in result.output
    with sqlite3.connect(path) as connection:
        triggers = [
            r[0] for r in connection.execute("select name from sqlite_master where type='trigger'")
        ]
        for trigger in triggers:
            connection.execute(f"drop trigger {trigger}")
        connection.execute("update journal set payload = '{\"n\":99}' where id = 3")
    result = runner.invoke(app, ["journal", "verify", str(path)])
    assert result.exit_code == 1
    assert "BROKEN at row 3" in result.output


@pytest.mark.parametrize("args", [["--help"], ["sim", "--help"], ["read", "--help"]])
def test_help_texts(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and "Usage" in result.output


def test_a_training_run_stopped_by_a_signal_ends_in_one_line(tmp_path: Path) -> None:
    """SIGTERM to `padctl train` (an instructor's terminal closed, a test harness stopping
    it): the station stops cleanly and the command says so in one line, no traceback."""
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(PADCTL), "train", str(PAD_FIRE), "--headless", "--autopilot",
             "--history", str(tmp_path / "history.sqlite"), "--log-level", "info"],
            stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    try:
        deadline_s = time.monotonic() + 60
        while b"station_started" not in log.read_bytes():
            assert time.monotonic() < deadline_s and process.poll() is None, log.read_text()
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    err = log.read_text()
    assert returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "padctl: stopped by a signal (cleanup done)"
