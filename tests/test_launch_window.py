"""A count that would reach T-0 after the launch window closes is scrubbed, and the reason
says by how much, even when it is a fraction of a second (a console finding: the reason read
"T-0 would fall at L+28800 s, after the close at L+28800 s")."""

from __future__ import annotations

from tests.console_fixtures import reference_test_flight


def test_the_window_reason_says_how_far_past_the_close_t0_would_fall() -> None:
    _definition, sequence, _lcc = reference_test_flight()
    close_l_s = sequence.window_close_l_s
    t_s = -60.0  # T-60 s: no built-in hold still ahead
    assert sequence.planned_hold_s(t_s) == 0.0
    on_the_close = close_l_s + t_s  # L when T-0 falls exactly at the close: still in it
    assert sequence.window_missed(t_s=t_s, l_s=on_the_close) == ""

    reason = sequence.window_missed(t_s=t_s, l_s=on_the_close + 0.13)
    assert reason.startswith("launch window: ")
    assert "T-0 would fall at L+08:00:00.13, 0.13 s after the window closes at L+08:00:00" in (
        reason
    )

    t_s = -1800.0  # a built-in hold still ahead counts
    held_s = sequence.planned_hold_s(t_s)
    assert held_s > 0
    late = sequence.window_missed(t_s=t_s, l_s=close_l_s + t_s - held_s + 3725.0)
    assert "1 h 02 min 05 s after the window closes at L+08:00:00" in late
