"""The countdown block every console message carries: clocks, state, hold, the GO/NO-GO
board (who answered, what and when), the faulted steps waiting for a decision, the window."""

from __future__ import annotations

from typing import Any

from padctl.console._view import ConsoleView
from padctl.countdown import Poll, format_l_time, format_t_time


def countdown_block(
    station: ConsoleView, plcs: dict[str, dict[str, Any]], *, at: float, offset_s: float
) -> dict[str, Any]:
    """The count at wall time `at`; `offset_s` turns pad clock times into epoch seconds."""
    countdown = station.countdown
    sequence = countdown.sequence
    state = countdown.state
    t_s, l_s = countdown.t_now(), countdown.l_now()
    running = state.name in ("COUNTING", "TERMINAL_COUNT")
    upcoming = [e for e in sequence.events if e.t_s > t_s or (state.name == "IDLE")]
    next_event = upcoming[0] if upcoming else None
    stale = [plc_id for plc_id, plc in plcs.items() if not plc["fresh"]]
    return {
        "loaded": True,
        "sequence": sequence.name,
        "profile": sequence.profile,
        "state": state.name,
        "state_text": state.value,
        "t_s": round(t_s, 3),
        "t_text": format_t_time(t_s),
        "t_running": running,
        "l_s": round(l_s, 3),
        "l_text": format_l_time(l_s),
        "l_running": state.name not in ("IDLE", "SECURED"),
        "rate": station.clock.rate,
        "requested_rate": station.plant.pace.requested_rate,
        "rate_limited_by": station.plant.pace.reason,
        "at": at,
        "hold_reason": countdown.status.hold_reason,
        "resumable": countdown.status.resumable,
        "faulted_steps": [
            {"event": step.name, "reason": step.reason, "not_done": step.not_done}
            for step in countdown.faulted_steps
        ],
        "next_event": None
        if next_event is None
        else {
            "t_s": next_event.t_s,
            "t_text": format_t_time(next_event.t_s),
            "name": next_event.name,
        },
        "terminal_count_t_s": sequence.terminal_count_t_s,
        "window": {
            "open_l_s": sequence.window_open_l_s,
            "close_l_s": sequence.window_close_l_s,
            "open_text": format_l_time(sequence.window_open_l_s),
            "close_text": format_l_time(sequence.window_close_l_s),
            # built-in holds still to come: T-0 falls at L - T + this (the scrub rule)
            "holds_ahead_s": sequence.planned_hold_s(t_s),
        },
        "poll": _poll(countdown.status.poll, offset_s),
        "recycle_points": [
            {"id": p.id, "t_s": p.t_s, "t_text": format_t_time(p.t_s)}
            for p in sequence.recycle_points
        ],
        "result": countdown.status.result,
        "data_fresh": not stale,
        "stale_plcs": stale,
        "start_blocked": station.start_problems() if state.name == "IDLE" else [],
    }


def _poll(poll: Poll | None, offset_s: float) -> dict[str, Any] | None:
    """The whole GO/NO-GO board, the same for every position."""
    if poll is None:
        return None
    return {
        "positions": list(poll.positions),
        "answers": {p: poll.answers.get(p) for p in poll.positions},
        "answered": {
            p: {"by": by, "at": at_s + offset_s} for p, (by, at_s) in poll.answered_by.items()
        },
        "all_go": poll.all_go,
    }
