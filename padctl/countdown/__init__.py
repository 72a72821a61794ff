"""The countdown: sequences as data, T and L clocks, LCC, holds, recycle, scrub, cutoff."""

from padctl.countdown._engine import Countdown
from padctl.countdown._events import FaultedStep
from padctl.countdown._faulted_steps import STEP_CHOICES, StepChoice
from padctl.countdown._lcc import (
    Assessment,
    Criterion,
    LccAction,
    LccError,
    LccMonitor,
    Violation,
    load_lcc,
)
from padctl.countdown._lcc_alarms import DisqualificationAlarms, disqualification_alarm_id
from padctl.countdown._sequence import CountdownSequence, SequenceError, load_sequence
from padctl.countdown._tclock import format_l_time, format_t_time, parse_duration, parse_t_time
from padctl.countdown._timeline import (
    CountdownRefused,
    CountEvent,
    CountState,
    CountStatus,
    Poll,
    describe_plan,
)

__all__ = [
    "STEP_CHOICES",
    "Assessment",
    "CountEvent",
    "CountState",
    "CountStatus",
    "Countdown",
    "CountdownRefused",
    "CountdownSequence",
    "Criterion",
    "DisqualificationAlarms",
    "FaultedStep",
    "LccAction",
    "LccError",
    "LccMonitor",
    "Poll",
    "SequenceError",
    "StepChoice",
    "Violation",
    "describe_plan",
    "disqualification_alarm_id",
    "format_l_time",
    "format_t_time",
    "load_lcc",
    "load_sequence",
    "parse_duration",
    "parse_t_time",
]
