"""`padctl demo --headless`: the whole house on real loopback sockets, end to end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from padctl.journal import verify_journal
from tests.plc_fixtures import write_definition
from tests.processes import run_padctl


@pytest.mark.slow
async def test_demo_slice_runs_to_completion_on_the_simulated_pad(tmp_path: Path) -> None:
    journal = tmp_path / "demo.sqlite"
    status, out, err = await run_padctl(
        "demo", "--headless", "--rate", "100", "--journal", str(journal), timeout_s=240
    )
    assert status == 0, out[-2000:] + err[-2000:]
    lines = out.splitlines()
    assert lines[-1].endswith("DONE       procedure demo-slice complete")
    steps = [line.split("STEP", 1)[1].strip() for line in lines if "  STEP  " in line]
    assert steps == [
        "Vehicle ground power on",
        "Erector hydraulic power unit on",
        "Vertical locks released for the raise",
        "Erector raised to vertical",
        "Drive stopped, vertical locks engaged",
        "LOX line chilldown",
        "Slow fill of the vehicle LOX tank to 10 %",
        "Fill stopped at 10 %, line secured",
    ]
    level = next(line for line in lines if "FEEDBACK   LOX-LT-101" in line)
    assert float(re.search(r"= ([\d.]+)", level).group(1)) >= 10  # type: ignore[union-attr]
    result = verify_journal(journal)
    assert result.ok and result.rows_checked >= 2 * out.count("COMMAND")


async def test_demo_fails_with_the_reason_when_feedback_never_comes(tmp_path: Path) -> None:
    procedure = write_definition(
        tmp_path,
        """\
procedure: impossible
steps:
  - step: Erector to vertical without hydraulic pressure
    write: {ERC-M-501-RAISE-CMD: true}
    expect: ["ERC-ZS-501-VERTICAL == true"]
    within_s: 20
""",
        "impossible.yaml",
    )
    status, out, err = await run_padctl(
        "demo", "--headless", "--rate", "20", "--procedure", str(procedure), timeout_s=120
    )
    assert status == 1
    assert "DEMO FAILED: step 'Erector to vertical without hydraulic pressure' failed" in err
    assert "no feedback within 20 s: ERC-ZS-501-VERTICAL = false" in err
    assert "FAILED" in out


async def test_demo_refuses_a_procedure_that_writes_a_read_only_tag(tmp_path: Path) -> None:
    procedure = write_definition(
        tmp_path,
        "procedure: bad\nsteps:\n  - step: Write a sensor\n    write: {LOX-PT-101: 1.0}\n",
        "bad.yaml",
    )
    status, _out, err = await run_padctl("demo", "--headless", "--procedure", str(procedure))
    assert status == 2
    assert f"{procedure}:4: step 'Write a sensor': write:" in err
    assert "not on the writable allow-list" in err
