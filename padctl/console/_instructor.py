"""An instructor's controls of a training run, as console commands (`train.*`).

Only a server started by `padctl train` has them: its station handle's injector is the
training run's controls (padctl.training.InstructorControls), which answer the
`InstructorControls` protocol below. Refusals come back with code `training` (or
`unavailable` on any other server); every accepted control is journaled like any console
command.

The controls are console commands declared in INSTRUCTOR_COMMANDS (the catalogue; the table
in docs/console-protocol.md is generated from it): `train.status` (the run: scenario, rate,
checkpoints, faults, responses scored so far), `train.pause` (clock rate 0: physics, count,
alarms), `train.resume` (the rate it had), `train.rate`, `train.inject` (an unscripted fault,
now), `train.jump` (back to a checkpoint, paused there) and `train.end` (the run is scored
and reported).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from padctl.console._catalogue import (
    Arg,
    BadRequest,
    ConsoleCommand,
    Desk,
    Executor,
    Refusal,
    Refused,
    text,
)
from padctl.console._users import Role, User


@runtime_checkable
class InstructorControls(Protocol):
    """A training run as the console drives it; refusals raise ValueError with the reason."""

    async def status(self) -> dict[str, Any]: ...
    async def pause(self, *, actor: str) -> None: ...
    async def resume(self, *, actor: str) -> None: ...
    async def set_rate(self, rate: float, *, actor: str) -> None: ...
    async def inject(self, text: str, *, actor: str) -> str: ...
    async def jump(self, label: str, *, actor: str) -> list[str]: ...
    async def end(self, *, actor: str, reason: str = ...) -> None: ...


INSTRUCTOR = frozenset({Role.INSTRUCTOR})
Control = Callable[[InstructorControls, dict[str, Any], str], Awaitable[dict[str, Any]]]


def _controls(desk: Desk) -> InstructorControls:
    controls = desk.injector
    if not isinstance(controls, InstructorControls):
        raise Refused(
            Refusal("unavailable", "instructor controls need a training run (padctl train)")
        )
    return controls


def _instructor(control: Control) -> Executor:
    """An executor of one control: refusals as the desk's, and the run's status after it."""

    async def execute(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
        controls = _controls(desk)
        try:
            result = await control(controls, args, actor)
        except ValueError as error:
            raise Refused(Refusal("training", str(error))) from None
        return {**result, "status": await controls.status()}

    return execute


async def _status(controls: InstructorControls, args: dict[str, Any], actor: str) -> dict[str, Any]:
    return {}


async def _pause(controls: InstructorControls, args: dict[str, Any], actor: str) -> dict[str, Any]:
    await controls.pause(actor=actor)
    return {}


async def _resume(controls: InstructorControls, args: dict[str, Any], actor: str) -> dict[str, Any]:
    await controls.resume(actor=actor)
    return {}


async def _rate(controls: InstructorControls, args: dict[str, Any], actor: str) -> dict[str, Any]:
    await controls.set_rate(args["rate"], actor=actor)
    return {}


async def _inject(controls: InstructorControls, args: dict[str, Any], actor: str) -> dict[str, Any]:
    return {"fault": await controls.inject(args["fault"], actor=actor)}


async def _end(controls: InstructorControls, args: dict[str, Any], actor: str) -> dict[str, Any]:
    await controls.end(actor=actor, reason=args["reason"])
    return {}


async def _jump(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    """A jump interrupts count commands still running (a recycle, a scrub): they are moot."""
    controls = _controls(desk)
    await _stop_count_commands(desk.background)
    try:
        differences = await controls.jump(args["checkpoint"], actor=actor)
    except ValueError as error:
        raise Refused(Refusal("training", str(error))) from None
    result = {"checkpoint": args["checkpoint"], "differences": differences}
    return {**result, "status": await controls.status()}


def _rate_arg(args: dict[str, Any], _subsystems: tuple[str, ...]) -> float:
    rate = args.get("rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate >= 0:
        raise BadRequest("argument 'rate' must be a number of 0 or more (0 pauses)")
    return float(rate)


INSTRUCTOR_COMMANDS = (
    ConsoleCommand("train.status", INSTRUCTOR, _instructor(_status), journaled=False),
    ConsoleCommand("train.pause", INSTRUCTOR, _instructor(_pause)),
    ConsoleCommand("train.resume", INSTRUCTOR, _instructor(_resume)),
    ConsoleCommand(
        "train.rate",
        INSTRUCTOR,
        _instructor(_rate),
        (Arg("rate", _rate_arg, "`rate` (0 up to the run's starting rate)"),),
    ),
    ConsoleCommand(
        "train.inject",
        INSTRUCTOR,
        _instructor(_inject),
        (text("fault", "`fault` (padctl sim words, or `fire ZONE`)", required=True),),
    ),
    ConsoleCommand(
        "train.jump",
        INSTRUCTOR,
        _jump,
        (text("checkpoint", "`checkpoint` (a label from `train.status`)", required=True),),
    ),
    ConsoleCommand(
        "train.end",
        INSTRUCTOR,
        _instructor(_end),
        (text("reason", "`reason` (optional)", default="ended by the instructor"),),
    ),
)


async def _stop_count_commands(background: set[asyncio.Task[Any]]) -> None:
    """A jump interrupts count commands still running (a recycle, a scrub): they are moot."""
    running = [
        task
        for task in background
        if task.get_name().startswith("console-count.") and not task.done()
    ]
    for task in running:
        task.cancel()
    if running:
        await asyncio.gather(*running, return_exceptions=True)
