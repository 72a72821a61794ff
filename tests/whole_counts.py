"""Whole counts through the CLI: `padctl countdown --sim --auto` as a subprocess at a fast
clock rate (PADCTL_COUNT_RATE), and the lines of its output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PADCTL = Path(sys.executable).with_name("padctl")
# Asked for at rate 400, a six-hour count runs where nothing is timed at up to 400 and slows
# itself (the rate governor) wherever a timing window is in play, to about 10 in the
# terminal count: the PLC polls stay 20 ms of wall time at any rate.
RATE = os.environ.get("PADCTL_COUNT_RATE", "400")
# LOOP-LAG judges the machine, not the pad: beside the rest of the suite on two cores the
# loop is truly late at times, and saying so is right (tests/test_safety_functions.py).
HOST_ALARMS = {"LOOP-LAG"}
NOMINAL_FLIGHT_PRESSURE_BAR = 2.8  # the pressurization regulator (simulators/physics/_gas.py)


def run_count(*args: str, timeout_s: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PADCTL), "countdown", "--sim", "--rate", RATE, "--auto", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def output_lines(done: subprocess.CompletedProcess[str], kind: str) -> list[str]:
    return [line for line in done.stdout.splitlines() if f"  {kind} " in line]
