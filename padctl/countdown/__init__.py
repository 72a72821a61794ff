"""The countdown: T-times, launch commit criteria (the engine and sequences come next)."""

from padctl.countdown._lcc import Criterion, LccAction, LccError, LccMonitor, Violation, load_lcc
from padctl.countdown._tclock import format_t_time, parse_duration, parse_t_time

__all__ = [
    "Criterion",
    "LccAction",
    "LccError",
    "LccMonitor",
    "Violation",
    "format_t_time",
    "load_lcc",
    "parse_duration",
    "parse_t_time",
]
