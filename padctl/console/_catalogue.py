"""The console's commands as data: each declared once, and read by every check and by the desk.

A `ConsoleCommand` says who may give a command (roles), whose authority it needs, its
arguments, whether it is armed first and who confirms it, what data must be fresh, and what
carries it out. The role check, the argument check, the arming rules, the dispatch, the
consoles' permission table and the protocol document's command table all read it.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from padctl.console._users import Role, User
from padctl.off_loop import OffLoopWorker
from padctl.station import Station

MAX_TEXT = 500
CREW = frozenset({Role.SUBSYSTEM_OPERATOR, Role.TEST_CONDUCTOR, Role.SAFETY_OFFICER})


class BadRequest(Exception):
    """A message or argument that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Refusal:
    """Why a command is not carried out: a code for programs and a reason for people."""

    code: str
    reason: str


class Refused(Exception):
    """Raised by an executor: the command is refused with this code and reason."""

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
        super().__init__(refusal.reason)


class Authority(enum.Enum):
    """Whose authority over the command's `subsystem` it needs."""

    NONE = "none"
    HOLDER = "holder"  # the user must hold it
    HOLDER_IF_OPERATOR = "holder if operator"  # a subsystem operator must hold it


class Arming(enum.Enum):
    """Whether the command is armed first, and who confirms it."""

    ONE_STEP = "one step"
    TWO_STEP = "two steps"  # armed, then confirmed by the same user
    SECOND_PERSON = "second person"  # armed, then confirmed by a different, qualified user
    SUBSYSTEM_SPEC = "as the subsystem command's spec says"  # hazardous, second_person


class Fresh(enum.Enum):
    """What data must be fresh before the command is carried out (and again at confirmation)."""

    NONE = "none"
    SUBSYSTEM = "the subsystem's tags"
    ALL_PLCS = "every PLC"


class Desk(Protocol):
    """What an executor may use: the command desk's station and boards."""

    @property
    def station(self) -> Station: ...
    @property
    def authority(self) -> Any: ...  # padctl.console._authority.AuthorityBoard
    @property
    def injector(self) -> Any: ...  # a fault injector, or a training run; None on a real pad
    @property
    def offload(self) -> OffLoopWorker: ...
    @property
    def background(self) -> set[asyncio.Task[Any]]: ...


Executor = Callable[[Desk, User, str, dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]
ArgCheck = Callable[[dict[str, Any], tuple[str, ...]], Any]  # (args, subsystems) -> value


@dataclass(frozen=True)
class Arg:
    """One argument: its name, its check (BadRequest naming what is wrong) and its words."""

    name: str
    check: ArgCheck
    doc: str


@dataclass(frozen=True)
class ConsoleCommand:
    name: str
    roles: frozenset[Role]
    execute: Executor
    args: tuple[Arg, ...] = ()
    authority: Authority = Authority.NONE
    arming: Arming = Arming.ONE_STEP
    fresh: Fresh = Fresh.NONE
    journaled: bool = True  # False: it changes nothing, so its acceptance is not journaled
    who: str = ""  # the rule in words, where the roles alone do not say it all
    answer: str = ""  # what an accepted answer carries, in words
    own_position: bool = False  # a poll answer: only for the user's own positions

    def check_args(self, args: dict[str, Any], subsystems: tuple[str, ...]) -> dict[str, Any]:
        """The arguments, checked and normalised; BadRequest naming the bad one."""
        return {arg.name: arg.check(args, subsystems) for arg in self.args}

    # ---- the protocol document's words -------------------------------------------------------
    def args_words(self) -> str:
        return ", ".join(arg.doc for arg in self.args) or "—"

    def who_words(self) -> str:
        return self.who or ", ".join(sorted(role.value for role in self.roles))

    def steps_words(self) -> str:
        steps = {
            Arming.ONE_STEP: "1",
            Arming.TWO_STEP: "arm + confirm (same user)",
            Arming.SECOND_PERSON: "arm + confirm by a **second person**",
            Arming.SUBSYSTEM_SPEC: "1; arm + confirm when the command is `hazardous`, by a "
            "**second person** when it is `second_person` (docs/subsystems.md)",
        }[self.arming]
        return f"{steps}; {self.answer}" if self.answer else steps


class Catalogue:
    """The commands a console may send, by name."""

    def __init__(self, commands: tuple[ConsoleCommand, ...]) -> None:
        self.commands = commands
        self._by_name: dict[str, ConsoleCommand] = {}
        for command in commands:
            if command.name in self._by_name:
                raise ValueError(f"console command {command.name!r} is declared twice")
            self._by_name[command.name] = command

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> ConsoleCommand:
        return self._by_name[name]

    def __iter__(self) -> Iterator[ConsoleCommand]:
        return iter(self.commands)

    def names(self) -> list[str]:
        return [command.name for command in self.commands]

    def plus(self, *commands: ConsoleCommand) -> Catalogue:
        """This catalogue with more commands (a server with extra controls, a test)."""
        return Catalogue((*self.commands, *commands))

    def permissions(self) -> dict[str, list[str]]:
        """Who may give what, as JSON data, for consoles to grey out what a user may not do."""
        return {c.name: sorted(role.value for role in c.roles) for c in self.commands}

    def second_person_commands(self) -> list[str]:
        """The console-level commands confirmed by a second person (subsystem commands say
        so in their spec)."""
        return [c.name for c in self.commands if c.arming is Arming.SECOND_PERSON]

    def two_step_commands(self) -> list[str]:
        return [
            c.name for c in self.commands if c.arming in (Arming.TWO_STEP, Arming.SECOND_PERSON)
        ]

    def markdown_table(self) -> str:
        """The command table of docs/console-protocol.md."""
        lines = ["| command | args | who may | steps |", "| --- | --- | --- | --- |"]
        for c in self.commands:
            lines.append(f"| `{c.name}` | {c.args_words()} | {c.who_words()} | {c.steps_words()} |")
        return "\n".join(lines) + "\n"


# ---- argument checks ------------------------------------------------------------------------
def text_value(args: dict[str, Any], key: str, *, required: bool = False, default: str = "") -> str:
    value = args.get(key, None)
    if value is None:
        if required:
            raise BadRequest(f"argument {key!r} is required")
        return default
    if not isinstance(value, str):
        raise BadRequest(f"argument {key!r} must be a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise BadRequest(f"argument {key!r} is longer than {MAX_TEXT} characters")
    if required and not value.strip():
        raise BadRequest(f"argument {key!r} must not be empty")
    return value.strip()


def text(name: str, doc: str = "", *, required: bool = False, default: str = "") -> Arg:
    """A text argument (at most MAX_TEXT characters, trimmed)."""

    def check(args: dict[str, Any], _subsystems: tuple[str, ...]) -> str:
        return text_value(args, name, required=required, default=default)

    words = doc or (f"`{name}`" if required else f"`{name}` (optional)")
    return Arg(name, check, words)
