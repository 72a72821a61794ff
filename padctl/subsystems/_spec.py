"""Subsystem specifications: states, commands, interlocks and safing, as tables of data."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from padctl.plant import TagValue


class Mode(enum.StrEnum):
    AUTO = "AUTO"  # driven by a sequence; operators may only make it safe
    MANUAL = "MANUAL"  # operators command it one step at a time
    OUT_OF_SERVICE = "OUT_OF_SERVICE"  # locked out for maintenance; refuses all but safing


class Origin(enum.StrEnum):
    """Who is asking: an operator at a console, or a sequence the engine runs."""

    OPERATOR = "operator"
    SEQUENCE = "sequence"


def refused_by_mode(mode: Mode, origin: Origin) -> str:
    """Why a subsystem in `mode` refuses a command from `origin`, or '' when it does not."""
    if mode is Mode.OUT_OF_SERVICE:
        return "subsystem is OUT OF SERVICE"
    if mode is Mode.AUTO and origin is not Origin.SEQUENCE:
        return "subsystem is in AUTO: the sequence commands it"
    if mode is Mode.MANUAL and origin is Origin.SEQUENCE:
        return "subsystem is in MANUAL: a sequence may not command it"
    return ""


FAULT = "FAULT"  # every subsystem's States enum has a FAULT member


@dataclass(frozen=True)
class Interlock:
    """A permissive: a named condition (`TAG OP VALUE`) that must hold on fresh GOOD data."""

    name: str
    condition: str


Writes = tuple[tuple[str, TagValue], ...]


@dataclass(frozen=True)
class CommandSpec:
    """One command: where it may be given, what it checks, writes and waits for."""

    name: str
    source: tuple[enum.Enum, ...]
    dest: enum.Enum
    via: enum.Enum | None = None  # the state while the command is in progress
    permissives: tuple[Interlock, ...] = ()
    writes: Writes = ()
    feedback: tuple[str, ...] = ()  # conditions that prove the command
    timeout: str = ""  # an actuator name or a key of the definition's timeouts_s
    after: Writes = ()  # written once feedback has proven the command (stop a held drive)
    hazardous: bool = False  # arm-and-confirm at a console
    # ... confirmed by a second, different, qualified person (the most hazardous only)
    second_person: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if self.second_person and not self.hazardous:
            raise ValueError(f"command {self.name}: a second person is only for a hazardous one")


@dataclass(frozen=True)
class Vote:
    """At least `count` of `conditions` hold, each on a GOOD sample."""

    conditions: tuple[str, ...]
    count: int = 1


@dataclass(frozen=True)
class AutomaticRule:
    """A command a subsystem gives by itself when its trigger holds (subsystems._automatic)."""

    name: str  # what it is, for people: "fire alarm on the PLC's latched alarm"
    command: str
    when: tuple[Vote, ...]
    in_states: tuple[enum.Enum, ...] = ()  # empty: the command's own source states
    retry_s: float = 10.0  # clock seconds between attempts while the trigger lasts


@dataclass(frozen=True)
class SubsystemSpec:
    """A whole pad system: its state machine as data, its safe state and its actuators."""

    name: str  # snake_case, e.g. "lox_loading"
    title: str
    states: type[enum.Enum]
    initial: enum.Enum
    safe_state: enum.Enum
    commands: tuple[CommandSpec, ...]
    safe_writes: Writes
    safe_feedback: tuple[str, ...]
    safe_timeout: str
    actuators: tuple[str, ...] = ()  # actuator names: watched for uncommanded moves, checkout
    description: str = ""
    # Conditions that define the initial state when padctl starts (first match wins);
    # otherwise a restarted padctl comes up in the initial state (or FAULT if nothing holds).
    recognise: tuple[tuple[enum.Enum, tuple[str, ...]], ...] = field(default=())
    # States the plant may leave by itself (e.g. a vehicle that boots when power comes on):
    # recognised at start-up, but not watched at rest for uncommanded changes.
    unwatched_at_rest: tuple[enum.Enum, ...] = field(default=())
    # Commands the subsystem gives by itself in AUTO when a trigger holds (see _automatic).
    automatic: tuple[AutomaticRule, ...] = field(default=())

    def transition_table(self) -> list[dict[str, str]]:
        """Every transition as {source, trigger, dest}, commands first, then the generic ones."""
        table: list[dict[str, str]] = []
        for command in self.commands:
            first = command.via or command.dest
            for source in command.source:
                table.append({"source": source.name, "trigger": command.name, "dest": first.name})
            if command.via is not None:
                table.append(
                    {
                        "source": command.via.name,
                        "trigger": f"{command.name}_confirmed",
                        "dest": command.dest.name,
                    }
                )
        names = [state.name for state in self.states]
        for name in names:
            if name != FAULT:
                table.append({"source": name, "trigger": "fault", "dest": FAULT})
        for name in names:
            if name not in (FAULT, self.safe_state.name):
                table.append({"source": name, "trigger": "safe", "dest": self.safe_state.name})
        table.append({"source": FAULT, "trigger": "reset", "dest": self.safe_state.name})
        return table

    def command(self, name: str) -> CommandSpec:
        for command in self.commands:
            if command.name == name:
                return command
        raise KeyError(name)
