"""The countdown's states, its timeline lines, polls and refusals."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from transitions.extensions.asyncio import AsyncMachine

from padctl.countdown._sequence import CountdownSequence
from padctl.countdown._tclock import format_l_time, format_t_time


class CountState(enum.Enum):
    IDLE = "idle"
    COUNTING = "counting"
    HOLDING = "holding"
    TERMINAL_COUNT = "terminal count"
    RECYCLING = "recycling"
    CUTOFF = "cutoff"
    SAFING = "safing"
    SCRUBBED = "scrubbed"
    SECURED = "secured"
    LIFTOFF = "liftoff"


class CountTrigger(enum.Enum):
    """What moves the count from one state to another (COUNT_TRANSITIONS)."""

    START = "start"
    HOLD = "hold"
    RESUME = "resume"
    ENTER_TERMINAL_COUNT = "enter_terminal_count"
    CUTOFF = "cutoff"
    SAFE = "safe"
    RECYCLE = "recycle"
    SCRUB = "scrub"
    SECURE = "secure"
    LIFTOFF = "liftoff"
    RECOVER = "recover"  # after a restart

    @property
    def event_name(self) -> str:
        """The trigger's name in the state machine (`transitions`)."""
        return f"t_{self.value}"


S = CountState
T = CountTrigger
RUNNING = (S.COUNTING, S.TERMINAL_COUNT)
COUNT_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": T.START, "source": S.IDLE, "dest": S.COUNTING},
    {
        "trigger": T.HOLD,
        "source": [S.COUNTING, S.RECYCLING, S.SAFING, S.SCRUBBED],
        "dest": S.HOLDING,
    },
    {"trigger": T.RESUME, "source": S.HOLDING, "dest": S.COUNTING},
    {"trigger": T.ENTER_TERMINAL_COUNT, "source": S.COUNTING, "dest": S.TERMINAL_COUNT},
    {"trigger": T.CUTOFF, "source": [S.COUNTING, S.HOLDING, S.TERMINAL_COUNT], "dest": S.CUTOFF},
    {
        "trigger": T.SAFE,
        "source": [S.CUTOFF, S.COUNTING, S.HOLDING, S.TERMINAL_COUNT],
        "dest": S.SAFING,
    },
    {"trigger": T.RECYCLE, "source": S.HOLDING, "dest": S.RECYCLING},
    {"trigger": T.SCRUB, "source": [S.COUNTING, S.HOLDING, S.SAFING], "dest": S.SCRUBBED},
    {"trigger": T.SECURE, "source": [S.SCRUBBED, S.LIFTOFF], "dest": S.SECURED},
    {"trigger": T.LIFTOFF, "source": S.TERMINAL_COUNT, "dest": S.LIFTOFF},
    {"trigger": T.RECOVER, "source": S.IDLE, "dest": S.HOLDING},  # after a restart
]


def attach_count_machine(model: object) -> None:
    """Give `model` the count's state machine: `machine_state` (a CountState name, IDLE
    first), a `t_<trigger>` coroutine for each transition, and `_state_changed(event)`
    awaited after each one."""
    AsyncMachine(
        model=model,
        states=[state.name for state in CountState],
        transitions=machine_transitions(),
        initial=CountState.IDLE.name,
        auto_transitions=False,
        model_attribute="machine_state",
        after_state_change="_state_changed",
        send_event=True,
    )


def machine_transitions() -> list[dict[str, Any]]:
    """COUNT_TRANSITIONS in the form `transitions` takes (triggers prefixed `t_`)."""
    return [
        {
            **row,
            "trigger": row["trigger"].event_name,
            "source": [s.name for s in row["source"]]
            if isinstance(row["source"], list)
            else row["source"].name,
            "dest": row["dest"].name,
        }
        for row in COUNT_TRANSITIONS
    ]


class CountdownRefused(Exception):
    """An operator command that does not fit the count now; nothing changed."""

    def __init__(self, command: str, reason: str) -> None:
        self.command = command
        self.reason = reason
        super().__init__(f"countdown {command} refused: {reason}")


@dataclass(frozen=True)
class CountEvent:
    """One line of the countdown timeline."""

    t_s: float
    l_s: float
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{format_t_time(self.t_s)}  {format_l_time(self.l_s)}  {self.kind:<10} {self.text}"


@dataclass
class Poll:
    """A GO/NO-GO poll: each position answers for itself."""

    positions: tuple[str, ...]
    answers: dict[str, bool] = field(default_factory=dict)
    answered_by: dict[str, tuple[str, float]] = field(default_factory=dict)  # who, clock time

    @property
    def all_go(self) -> bool:
        return all(self.answers.get(position) is True for position in self.positions)

    @property
    def missing(self) -> list[str]:
        return [p for p in self.positions if self.answers.get(p) is not True]


@dataclass
class CountStatus:
    """What a count says of itself besides its state, kept by the engine and its paths and
    read by consoles, the CLI and checkpoints."""

    hold_reason: str = ""
    hold_id: str | None = None  # the built-in hold the count is in
    hold_until_s: float | None = None  # clock time a built-in hold may end
    poll: Poll | None = None
    resumable: bool = True
    result: str = ""  # LIFTOFF, or why the count ended
    pending_scrub: str = ""  # the launch window is missed: a scrub is on its way
    done: asyncio.Event = field(default_factory=asyncio.Event)


def epoch_of(iso_text: str) -> float:
    """Seconds since the epoch of an ISO-8601 journal time."""
    return dt.datetime.fromisoformat(iso_text).timestamp()


def describe_plan(sequence: CountdownSequence) -> list[str]:
    """The planned timeline, for a dry run: one line per event."""
    lines = []
    for event in sequence.events:
        parts = [format_t_time(event.t_s), event.name]
        if event.wait_for:
            parts.append("wait for " + ", ".join(c.text for c in event.wait_for))
        if event.actions:
            parts.append("do " + ", ".join(f"{a.subsystem}.{a.command}" for a in event.actions))
        if event.expect:
            parts.append("expect " + ", ".join(c.text for c in event.expect))
        if event.within_s:
            parts.append(f"within {event.within_s:g} s")
        if event.hold_id:
            parts.append(
                f"HOLD {event.hold_id} {event.hold_s:g} s" + (" + poll" if event.poll else "")
            )
        lines.append("  ".join(parts))
    return lines
