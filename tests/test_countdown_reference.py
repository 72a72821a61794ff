"""The reference countdown (sequences/countdown.yaml + lcc.yaml) on the simulated pad.

Whole counts from T-06:00:00 run through the CLI as a subprocess at a fast clock rate
(PADCTL_COUNT_RATE, default 200): here a nominal test-flight count to liftoff; the full
profile's cutoff, recycle and liftoff are in tests/test_whole_count_recycle.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.clock import real_clock
from padctl.countdown import load_lcc, load_sequence
from padctl.definition import load_pad_definition
from padctl.journal import Journal
from padctl.subsystems import ALL_SPECS
from tests.whole_counts import (
    HOST_ALARMS,
    NOMINAL_FLIGHT_PRESSURE_BAR,
    RATE,
    REPO,
    output_lines,
    run_count,
)

pytestmark = pytest.mark.slow


def test_reference_files_load_for_both_profiles() -> None:
    definition = load_pad_definition()
    criteria = load_lcc(REPO / "sequences" / "lcc.yaml", definition)
    assert len(criteria) >= 60
    for profile in ("test-flight", "full"):
        sequence = load_sequence(
            REPO / "sequences" / "countdown.yaml",
            profile=profile,
            definition=definition,
            specs=ALL_SPECS,
        )
        commands = {f"{a.subsystem}.{a.command}" for e in sequence.events for a in e.actions}
        fairing = "thermal_conditioning.start" in commands
        assert fairing is (profile == "full")
        assert ("thermal_conditioning.start_without_fairing" in commands) is (profile != "full")
        assert any(e.poll for e in sequence.events if e.t_s < sequence.terminal_count_t_s)
        restore = [step.name for step in sequence.recycle_points[0].restore]
        assert ("Thermal conditioning on (stages and fairing)" in restore) is (profile == "full")
    ullage = next(c for c in criteria if c.id == "LCC-LOX-005")
    assert ullage.active_at(-20) and ullage.high is not None
    assert ullage.low is not None and ullage.low < NOMINAL_FLIGHT_PRESSURE_BAR < ullage.high
    assert NOMINAL_FLIGHT_PRESSURE_BAR + 2.5 > ullage.high  # the +2.5 bar bias must violate


@pytest.mark.whole_count
@pytest.mark.timeout(900)
def test_nominal_test_flight_count_lifts_off(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    done = run_count("--profile", "test-flight", "--journal", str(journal))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "LIFTOFF"
    holds = [line.split("HOLD", 1)[1].strip() for line in output_lines(done, "HOLD")]
    assert holds == ["built-in hold BIH-1", "built-in hold BIH-2 - GO/NO-GO poll open"]
    assert not output_lines(done, "CUTOFF") and not output_lines(done, "FAILED")
    assert any(
        "thermal_conditioning.start_without_fairing" in x for x in output_lines(done, "COMMAND")
    )
    # A nominal count raises no pad alarm at all (nuisance alarms teach a team to ignore
    # alarms), and the rate governor slowed it where the wire needed it, journaled.
    entries = Journal(journal, clock=real_clock()).entries()
    alarms = [
        (e.payload["alarm"], e.payload["note"])
        for e in entries
        if e.kind == "alarm_activated" and e.payload["alarm"] not in HOST_ALARMS
    ]
    assert alarms == []
    rates = [e.payload["rate"] for e in entries if e.kind == "rate_in_effect"]
    assert rates and min(rates) < float(RATE)
    assert "lowest in effect" in done.stderr
