"""Benchmark: the reference countdown (sequences/countdown.yaml), nominal, as shipped.

Runs `padctl countdown --sim --rate N --auto --profile P --journal J` as a user would: the
simulated PLCs in a process of their own, the rate governor and the loop monitor in play,
every GO/NO-GO poll answered GO. From the journal it then reports the simulated seconds
counted, the wall time, the lowest rate in effect, and the largest gap (count seconds)
between a timed event's scheduled T-time and the T-time it ran at (`countdown_event` rows:
the event's index in the sequence and the T-time it ran). Prints one JSON object as its
last line.

    .venv/bin/python tests/bench/countdown_speed.py [--rate N] [--profile full|test-flight]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
PADCTL = Path(sys.executable).with_name("padctl")

from padctl.clock import real_clock  # noqa: E402
from padctl.countdown import CountdownSequence, load_sequence  # noqa: E402
from padctl.definition import load_pad_definition  # noqa: E402
from padctl.journal import Journal, JournalEntry  # noqa: E402
from padctl.subsystems import ALL_SPECS  # noqa: E402

SEQUENCES = REPO / "sequences"


def event_errors_s(
    entries: list[JournalEntry], sequence: CountdownSequence
) -> list[tuple[float, str]]:
    """|run T-time - scheduled T-time| of every timed event the count ran, with its name."""
    errors = []
    for entry in entries:
        if entry.kind != "countdown_event":
            continue
        scheduled = sequence.events[int(entry.payload["index"])]  # type: ignore[call-overload]
        errors.append((abs(float(entry.payload["t_s"]) - scheduled.t_s), scheduled.name))  # type: ignore[arg-type]
    return errors


def measure(rate: float, profile: str, scratch: Path) -> dict[str, object]:
    journal_path = scratch / "journal.sqlite"
    command = [str(PADCTL), "countdown", "--sim", "--rate", f"{rate:g}", "--auto"]
    command += ["--profile", profile, "--journal", str(journal_path)]
    started_s = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=3600, check=False
    )
    wall_s = time.perf_counter() - started_s
    definition = load_pad_definition()
    sequence = load_sequence(
        SEQUENCES / "countdown.yaml", profile=profile, definition=definition, specs=ALL_SPECS
    )
    with Journal(journal_path, clock=real_clock()) as journal:  # read only
        entries = journal.entries(kinds=["countdown_state", "countdown_event", "rate_in_effect"])
    counted = [e for e in entries if e.kind == "countdown_state"]
    rates = [float(e.payload["rate"]) for e in entries if e.kind == "rate_in_effect"]  # type: ignore[arg-type]
    errors = event_errors_s(entries, sequence)
    lines = done.stdout.strip().splitlines()
    sim_s = counted[-1].t_clock_s - counted[0].t_clock_s if counted else 0.0
    return {
        "profile": profile,
        "result": lines[-1] if lines else f"exit {done.returncode}",
        "exit_code": done.returncode,
        "sim_seconds": round(sim_s, 1),
        "wall_seconds": round(wall_s, 2),
        "rate": rate,
        "lowest_rate": min(rates, default=rate),
        "effective_rate": round(sim_s / wall_s, 1) if wall_s > 0 else None,
        "max_event_error_s": round(max(errors)[0], 3) if errors else None,
        "median_event_error_s": round(statistics.median(e for e, _ in errors), 3)
        if errors
        else None,
        "latest_event": max(errors)[1] if errors else None,
        "events_run": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=400.0)
    parser.add_argument("--profile", default="test-flight")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.rate, args.profile, Path(tmp))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
