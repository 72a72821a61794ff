"""The console of a training run: the same command desk the browsers use, served or not.

The trainer's instructor controls are the station handle's injector, so the desk's `train.*`
commands (the instructor's) and `sim.inject` (an admin's) reach them. Programs (the
autopilot, tests, the instructor's terminal) give their commands through
`TrainingConsole.send`, as a named user, down the same path as a browser's: roles,
authority, two steps, journal.
"""

from __future__ import annotations

import asyncio
import itertools
import shlex
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog

from padctl.console import (
    Console,
    ConsoleConfig,
    ConsoleSettings,
    Role,
    StationHandle,
    User,
    UsersFile,
    console_server,
    console_url,
    create_app,
    listening_socket,
    served_hosts,
)
from padctl.training._autopilot import TeamMember
from padctl.training._trainer import Trainer

log = structlog.get_logger()

INSTRUCTOR = User("instructor", Role.INSTRUCTOR)
INSTRUCTOR_HELP = """instructor commands:
  status                  the run: rate, checkpoints, faults, responses so far
  pause | resume          stop and restart the simulation
  rate N                  clock rate N (0 pauses; at most the run's starting rate)
  inject FAULT...         an unscripted fault: 'stall MECH', 'LOX-PT-101 bias 2.5', 'fire 3'
  jump LABEL              back to a checkpoint (see status), paused there
  end [REASON]            end the run (it is scored and reported)"""


class TrainingConsole:
    """The run's command desk, and who may use it from a program."""

    def __init__(self, console: Console, team: tuple[TeamMember, ...], url: str = "") -> None:
        self.console = console
        self.url = url
        self._users = {
            member.name: User(
                member.name, Role(member.role), tuple(member.subsystems), tuple(member.positions)
            )
            for member in team
        }
        self._users[INSTRUCTOR.name] = INSTRUCTOR
        self._ids = itertools.count(1)

    async def send(self, user: str, command: str, args: dict[str, Any]) -> dict[str, Any]:
        """One command as `user` gives it; the desk's answer (accepted, refused, armed)."""
        message = {
            "type": "command",
            "request_id": f"{user}-{next(self._ids)}",
            "command": command,
            "args": args,
        }
        return await self.console.desk.handle(self._users[user], message)

    async def instruct(self, line: str) -> str:
        """One line of the instructor's terminal; what to print back."""
        words = shlex.split(line)
        if not words or words[0] in ("help", "?"):
            return INSTRUCTOR_HELP
        verb, rest = words[0], words[1:]
        commands: dict[str, tuple[str, dict[str, Any]]] = {
            "status": ("train.status", {}),
            "pause": ("train.pause", {}),
            "resume": ("train.resume", {}),
            "rate": ("train.rate", {"rate": _number(rest[0]) if rest else None}),
            "inject": ("train.inject", {"fault": shlex.join(rest)}),
            "jump": ("train.jump", {"checkpoint": " ".join(rest)}),
            "end": ("train.end", {"reason": " ".join(rest) or "ended by the instructor"}),
        }
        if verb not in commands:
            return f"unknown command {verb!r}\n{INSTRUCTOR_HELP}"
        command, args = commands[verb]
        answer = await self.send(INSTRUCTOR.name, command, args)
        if answer.get("type") != "accepted":
            return f"refused: {answer.get('reason')}"
        return describe_status(answer["result"]["status"], brief=verb != "status")


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def describe_status(status: dict[str, Any], *, brief: bool = False) -> str:
    """The run's status in lines, for the instructor's terminal."""
    state = (
        "ended: " + status["end_reason"]
        if status["ended"]
        else ("PAUSED" if status["paused"] else f"running at rate {status['rate']:g}")
    )
    lines = [
        f"{status['scenario']}: {state}; {status['t_text']} {status['count_state']}, "
        f"run {status['run_s']:.0f} s (max rate {status['max_rate']:g})"
    ]
    if brief:
        return lines[0]
    labels = [f"{c['label']} ({c['t_text']})" for c in status["checkpoints"]]
    lines.append("checkpoints: " + (", ".join(labels) or "none yet"))
    for fault in status["faults"]:
        lines.append(f"fault {fault['id']}: {fault['what']} [{fault['state']}]")
    for response in status["responses"]:
        took = "" if response["took_s"] is None else f" in {response['took_s']:g} s"
        lines.append(f"expect {response['response']}: {response['status']}{took}")
    return "\n".join(lines)


@asynccontextmanager
async def open_console(
    trainer: Trainer,
    users: UsersFile | None,
    *,
    team: tuple[TeamMember, ...],
    serve: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[TrainingConsole]:
    """The run's console: in this process only, or also served to browsers (`serve`)."""
    handle = StationHandle(trainer.station, injector=trainer.controls)
    with tempfile.TemporaryDirectory(prefix="padctl-train-users-") as scratch:
        config = ConsoleConfig(
            users=users or UsersFile(path=Path(scratch) / "users.yaml"),
            settings=ConsoleSettings(simulated=True, training=True),
            allowed_hosts=served_hosts(host),
        )
        if not serve:
            console = Console(config, handle)
            try:
                yield TrainingConsole(console, team)
            finally:
                await console.desk.stop()
            return
        async with _served(config, handle, host, port) as (console, url):
            yield TrainingConsole(console, team, url)


@asynccontextmanager
async def _served(
    config: ConsoleConfig, handle: StationHandle, host: str, port: int
) -> AsyncIterator[tuple[Console, str]]:
    @asynccontextmanager
    async def source() -> AsyncIterator[StationHandle]:
        yield handle  # the run owns the station; the server only serves it

    ready = asyncio.Event()
    application = create_app(config, source, on_ready=ready.set)
    listener = listening_socket(host, port)
    server = console_server(application)
    task = asyncio.create_task(server.serve(sockets=[listener]), name="uvicorn")
    waiter = asyncio.ensure_future(ready.wait())
    try:
        await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
        if not ready.is_set():
            raise RuntimeError("the console server did not start")
        yield application.state.console, console_url(listener, tls=False)
    finally:
        waiter.cancel()
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        listener.close()
