"""The reference countdown's cutoff and recycle, whole, on the simulated pad.

A file of its own, sorted after the training autopilot files, so that `pytest -n 2` starts
it beside the nominal count in tests/test_countdown_reference.py rather than after it (each
takes about two minutes).
"""

from __future__ import annotations

import pytest

from tests.whole_counts import output_lines, run_count


@pytest.mark.whole_count
@pytest.mark.timeout(900)
def test_full_count_cuts_off_on_ullage_bias_then_recycles_to_liftoff() -> None:
    """A +2.5 bar bias on LOX-PT-101 in the terminal count cuts off before engine start;
    the pad is safed; the recycle to RP-1 restores it and the second terminal count lifts off."""
    done = run_count(
        "--profile", "full", "--inject", "T-00:00:20 LOX-PT-101 bias +2.5", "--recycle", "RP-1"
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "LIFTOFF"
    cutoffs = output_lines(done, "CUTOFF")
    assert len(cutoffs) == 1 and "LCC-LOX-005" in cutoffs[0] and "LOX-PT-101" in cutoffs[0]
    order = done.stdout.index
    assert order("  CUTOFF ") < order("  SAFED ") < order("  RECYCLE ") < order("  LIFTOFF ")
    starts = [x for x in output_lines(done, "COMMAND") if "vehicle_interface.engine_start" in x]
    assert len(starts) == 1 and order(starts[0]) > order("  RECYCLE ")  # no start before cutoff
    assert "SAFED      pad safe" in done.stdout
    assert any("thermal_conditioning.start" in x for x in output_lines(done, "COMMAND"))
    terminal_counts = output_lines(done, "TERMINAL")
    assert len(terminal_counts) == 2
