"""Benchmark: whole counts to liftoff, again and again, quiet and with the machine busy.

Runs `padctl countdown --sim --rate 200 --auto` for both profiles, `--runs` times each, one
after another, optionally with `--busy N` processes spinning beside them (`python -c "while
True: pass"`). A count asked for at rate 200 slows itself wherever the wire or the loop needs
it (the rate governor); it must never fail because the simulation outran its PLCs. Prints
one JSON object as its last line: `liftoffs`, `runs`, `wall_s_p50`, `lowest_rate` (the lowest
rate in effect in any run), and the same per profile.

    .venv/bin/python tests/bench/count_reliability.py [--runs 10] [--busy 2] [--rate 200]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PADCTL = Path(sys.executable).with_name("padctl")
LOWEST = re.compile(r"lowest in effect ([0-9.]+)")


def one_count(profile: str, rate: float) -> tuple[bool, float, float | None, str]:
    started = time.monotonic()
    done = subprocess.run(
        [str(PADCTL), "countdown", "--sim", "--profile", profile, "--rate", f"{rate:g}", "--auto"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    wall_s = time.monotonic() - started
    lines = done.stdout.strip().splitlines()
    result = lines[-1] if lines else f"exit {done.returncode}"
    lowest = LOWEST.search(done.stderr)
    return result == "LIFTOFF", wall_s, float(lowest.group(1)) if lowest else None, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="counts per profile")
    parser.add_argument("--busy", type=int, default=0, help="busy processes beside the counts")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--profiles", nargs="+", default=["test-flight", "full"])
    args = parser.parse_args()
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)
    ]
    per_profile: dict[str, dict[str, object]] = {}
    walls: list[float] = []
    lowest: list[float] = []
    liftoffs = 0
    try:
        for profile in args.profiles:
            results = [one_count(profile, args.rate) for _ in range(args.runs)]
            ok = sum(result[0] for result in results)
            liftoffs += ok
            profile_walls = [result[1] for result in results]
            walls += profile_walls
            profile_lowest = [result[2] for result in results if result[2] is not None]
            lowest += profile_lowest
            per_profile[profile] = {
                "liftoffs": ok,
                "runs": len(results),
                "wall_s_p50": round(statistics.median(profile_walls), 1),
                "lowest_rate": min(profile_lowest, default=None),
                "failures": [result[3] for result in results if not result[0]],
            }
            print(json.dumps({profile: per_profile[profile]}), flush=True)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    print(
        json.dumps(
            {
                "liftoffs": liftoffs,
                "runs": len(walls),
                "wall_s_p50": round(statistics.median(walls), 1),
                "lowest_rate": min(lowest, default=None),
                "requested_rate": args.rate,
                "busy_processes": args.busy,
                "profiles": per_profile,
            }
        )
    )


if __name__ == "__main__":
    main()
