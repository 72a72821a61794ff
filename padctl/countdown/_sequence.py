"""Countdown sequence files: the timeline, holds, recycle points and scrub, as reviewable data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from padctl.countdown._tclock import format_l_time, parse_duration, parse_t_time
from padctl.definition import PadDefinition
from padctl.procedure import Condition, ConditionError, parse_condition
from padctl.subsystems import SubsystemSpec
from padctl.yaml_lines import FileProblems, load_validated


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _EventFile(_Strict):
    at: str
    name: str = Field(min_length=1)
    wait_for: list[str] = Field(default_factory=list)  # conditions to hold before `do`
    do: list[str] = Field(default_factory=list)  # "subsystem.command", each once the last is proven
    expect: list[str] = Field(default_factory=list)  # conditions proven once `do` is confirmed
    within_s: float = Field(default=0.0, ge=0)  # T-seconds `wait_for`/`expect` may take
    hold: str | None = None  # a built-in hold's id
    duration: str | float | None = None  # of the built-in hold
    poll: bool = False  # the hold ends only when every position answers GO
    profiles: list[str] | None = None  # default: every profile


class _StepFile(_Strict):
    name: str = Field(min_length=1)
    wait_for: list[str] = Field(default_factory=list)  # conditions to hold before `do`
    do: list[str] = Field(default_factory=list)  # each once the one before it is confirmed
    expect: list[str] = Field(default_factory=list)
    within_s: float = Field(default=60.0, gt=0)
    profiles: list[str] | None = None  # default: every profile


class _RecycleFile(_Strict):
    id: str
    at: str
    restore: list[_StepFile] = Field(default_factory=list)  # run by the recycle, in order
    require: list[str] = Field(default_factory=list)  # re-entry: must hold after `restore`


class _WindowFile(_Strict):
    open: str | float  # L-time (since the count started) when the window opens
    close: str | float


class _SequenceFile(_Strict):
    countdown: str
    description: str = ""
    profiles: list[str] = Field(min_length=1)
    positions: list[str] = Field(min_length=1)
    start: str
    terminal_count: str
    window: _WindowFile
    recycle_points: list[_RecycleFile] = Field(default_factory=list)
    events: list[_EventFile] = Field(min_length=1)
    liftoff_within_s: float = Field(default=10.0, gt=0)
    post_launch: list[_StepFile] = Field(default_factory=list)
    cutoff: list[_StepFile] = Field(default_factory=list)
    scrub: list[_StepFile] = Field(default_factory=list)


@dataclass(frozen=True)
class Action:
    subsystem: str
    command: str


@dataclass(frozen=True)
class Event:
    t_s: float
    name: str
    actions: tuple[Action, ...]
    expect: tuple[Condition, ...]
    hold_id: str | None
    hold_s: float
    poll: bool
    line: int
    within_s: float = 0.0
    wait_for: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Step:
    name: str
    actions: tuple[Action, ...]
    expect: tuple[Condition, ...]
    within_s: float
    wait_for: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class RecyclePoint:
    id: str
    t_s: float
    require: tuple[Condition, ...]
    restore: tuple[Step, ...] = ()


@dataclass(frozen=True)
class CountdownSequence:
    """One profile's countdown, checked against the pad and its subsystems."""

    name: str
    profile: str
    positions: tuple[str, ...]
    start_t_s: float
    terminal_count_t_s: float
    window_open_l_s: float
    window_close_l_s: float
    events: tuple[Event, ...]
    recycle_points: tuple[RecyclePoint, ...]
    liftoff_within_s: float
    post_launch: tuple[Step, ...]
    cutoff: tuple[Step, ...]
    scrub: tuple[Step, ...]
    path: Path

    def planned_hold_s(self, after_t_s: float) -> float:
        """Built-in hold time still ahead of T-time `after_t_s`."""
        return sum(event.hold_s for event in self.events if event.t_s > after_t_s)

    def window_missed(self, *, t_s: float, l_s: float) -> str:
        """Why T-0 would fall after the launch window closes, counting from T-time `t_s` at
        L-time `l_s` with the built-in holds still ahead; "" while it would not."""
        projected_l_s = l_s - t_s + self.planned_hold_s(t_s)
        over_s = projected_l_s - self.window_close_l_s
        if over_s <= 0:
            return ""
        return (
            f"launch window: T-0 would fall at {format_l_time(projected_l_s, decimals=2)}, "
            f"{_duration_words(over_s)} after the window closes at "
            f"{format_l_time(self.window_close_l_s)}"
        )


def _duration_words(seconds: float) -> str:
    """`0.13 s`, `42.00 s`, `12 min 05 s`, `1 h 02 min 05 s`."""
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours} h {minutes:02d} min" if hours else f"{minutes} min") + f" {secs:02d} s"


class SequenceError(FileProblems):
    """A sequence file that cannot run; `problems` lists each as 'file:line: problem'."""


def load_sequence(
    path: Path, *, profile: str, definition: PadDefinition, specs: tuple[SubsystemSpec, ...]
) -> CountdownSequence:
    """Load one profile of a countdown file; SequenceError listing every problem."""
    document, parsed = load_validated(path, _SequenceFile, SequenceError)
    problems: list[str] = []
    commands = {spec.name: {c.name for c in spec.commands} for spec in specs}

    def at(*location: str | int) -> str:
        return f"{path}:{document.line_of(tuple(location))}"

    def t_time(text: str, where: str) -> float:
        try:
            return parse_t_time(text)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            return 0.0

    def conditions(texts: list[str], where: str) -> tuple[Condition, ...]:
        parsed_conditions = []
        for text in texts:
            try:
                parsed_conditions.append(parse_condition(text, definition))
            except ConditionError as error:
                problems.append(f"{where}: {error}")
        return tuple(parsed_conditions)

    def actions(texts: list[str], where: str) -> tuple[Action, ...]:
        found = []
        for text in texts:
            subsystem, _, command = text.partition(".")
            if subsystem not in commands:
                problems.append(f"{where}: no subsystem {subsystem!r} in {text!r}")
            elif command not in commands[subsystem]:
                problems.append(f"{where}: subsystem {subsystem} has no command {command!r}")
            found.append(Action(subsystem, command))
        return tuple(found)

    def steps(items: list[_StepFile], *section: str | int) -> tuple[Step, ...]:
        found = []
        for index, item in enumerate(items):
            where = at(*section, index)
            for name in item.profiles or []:
                if name not in parsed.profiles:
                    problems.append(f"{where}: unknown profile {name!r}")
            step = Step(
                name=item.name,
                actions=actions(item.do, where),
                expect=conditions(item.expect, where),
                within_s=item.within_s,
                wait_for=conditions(item.wait_for, where),
            )
            if item.profiles is None or profile in item.profiles:
                found.append(step)
        return tuple(found)

    if profile not in parsed.profiles:
        problems.append(
            f"{at('profiles')}: no profile {profile!r} (known: {', '.join(parsed.profiles)})"
        )
    start_t_s = t_time(parsed.start, at("start"))
    terminal_t_s = t_time(parsed.terminal_count, at("terminal_count"))
    for field, text, t_s in (
        ("start", parsed.start, start_t_s),
        ("terminal_count", parsed.terminal_count, terminal_t_s),
    ):
        if t_s > 0:
            problems.append(f"{at(field)}: {field} {text} is after T-0")
    events: list[Event] = []
    previous_t_s = -float("inf")
    for index, item in enumerate(parsed.events):
        where = at("events", index)
        event_t_s = t_time(item.at, where)
        if event_t_s > 0:
            problems.append(
                f"{where}: {item.name!r} at {item.at} is after T-0: the count ends at liftoff; "
                "post-launch steps belong in post_launch (run once liftoff is confirmed)"
            )
        if event_t_s < previous_t_s:
            problems.append(f"{where}: {item.name!r} at {item.at} is before the event above it")
        previous_t_s = max(previous_t_s, event_t_s)
        if event_t_s < start_t_s:
            problems.append(
                f"{where}: {item.name!r} at {item.at} is before the start {parsed.start}"
            )
        for name in item.profiles or []:
            if name not in parsed.profiles:
                problems.append(f"{where}: unknown profile {name!r}")
        hold_s = 0.0
        if item.hold is not None:
            if item.duration is None:
                problems.append(f"{where}: built-in hold {item.hold} needs a duration")
            else:
                try:
                    hold_s = parse_duration(item.duration)
                except ValueError as error:
                    problems.append(f"{where}: {error}")
            if event_t_s >= terminal_t_s:
                problems.append(f"{where}: built-in hold {item.hold} inside the terminal count")
        elif item.duration is not None or item.poll:
            problems.append(f"{where}: duration and poll belong to a built-in hold")
        event = Event(
            t_s=event_t_s,
            name=item.name,
            actions=actions(item.do, where),
            expect=conditions(item.expect, where),
            hold_id=item.hold,
            hold_s=hold_s,
            poll=item.poll,
            line=document.line_of(("events", index)),
            within_s=item.within_s,
            wait_for=conditions(item.wait_for, where),
        )
        if item.profiles is None or profile in item.profiles:
            events.append(event)
    if not any(event.poll for event in events if event.t_s <= terminal_t_s):
        problems.append(
            f"{at('events')}: no built-in hold with a GO/NO-GO poll before the terminal count"
        )
    recycle = []
    for index, point in enumerate(parsed.recycle_points):
        where = at("recycle_points", index)
        point_t_s = t_time(point.at, where)
        if point_t_s > terminal_t_s:
            problems.append(f"{where}: recycle point {point.id} lies inside the terminal count")
        recycle.append(
            RecyclePoint(
                point.id,
                point_t_s,
                conditions(point.require, where),
                steps(point.restore, "recycle_points", index, "restore"),
            )
        )
    try:
        window_open = parse_duration(parsed.window.open)
        window_close = parse_duration(parsed.window.close)
        if window_open >= window_close:
            problems.append(f"{at('window')}: window opens at or after it closes")
    except ValueError as error:
        problems.append(f"{at('window')}: {error}")
        window_open = window_close = 0.0
    sequence = CountdownSequence(
        name=parsed.countdown,
        profile=profile,
        positions=tuple(parsed.positions),
        start_t_s=start_t_s,
        terminal_count_t_s=terminal_t_s,
        window_open_l_s=window_open,
        window_close_l_s=window_close,
        events=tuple(events),
        recycle_points=tuple(recycle),
        liftoff_within_s=parsed.liftoff_within_s,
        post_launch=steps(parsed.post_launch, "post_launch"),
        cutoff=steps(parsed.cutoff, "cutoff"),
        scrub=steps(parsed.scrub, "scrub"),
        path=path,
    )
    if problems:
        raise SequenceError(path, problems)
    return sequence
