"""The countdown: sequences as data, T and L clocks, LCC, holds, recycle, scrub, cutoff."""

from padctl.countdown._engine import Countdown
from padctl.countdown._lcc import Criterion, LccAction, LccError, LccMonitor, Violation, load_lcc
from padctl.countdown._sequence import CountdownSequence, SequenceError, load_sequence
from padctl.countdown._tclock import format_t_time, parse_duration, parse_t_time
from padctl.countdown._timeline import (
    CountdownRefused,
    CountEvent,
    CountState,
    Poll,
    describe_plan,
)

__all__ = [
    "CountEvent",
    "CountState",
    "Countdown",
    "CountdownRefused",
    "CountdownSequence",
    "Criterion",
    "LccAction",
    "LccError",
    "LccMonitor",
    "Poll",
    "SequenceError",
    "Violation",
    "describe_plan",
    "format_t_time",
    "load_lcc",
    "load_sequence",
    "parse_duration",
    "parse_t_time",
]
