"""An instructor's controls of a training run, as console commands (`train.*`).

Only a server started by `padctl train` has them: its station handle's injector is the
training run itself (padctl.training.Trainer), which answers the `InstructorControls`
protocol below. Refusals come back with code `training` (or `unavailable` on any other
server); every accepted control is journaled like any console command.

| command | args | what |
| --- | --- | --- |
| `train.status` | none | the run: scenario, rate, checkpoints, faults, responses scored so far |
| `train.pause` | none | the simulation stops (clock rate 0): physics, count, alarms |
| `train.resume` | none | it runs again at the rate it had |
| `train.rate` | `rate` (0 up to the run's starting rate) | a new clock rate (0 pauses) |
| `train.inject` | `fault` (padctl sim words, or `fire ZONE`) | an unscripted fault, now |
| `train.jump` | `checkpoint` (a label from `train.status`) | back to a checkpoint, paused there |
| `train.end` | `reason` (optional) | the run ends; it is scored and reported |
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol, runtime_checkable

from padctl.console._args import BadRequest, _text
from padctl.console._authority import Refusal


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


def is_instructor_command(command: str) -> bool:
    return command.startswith("train.")


def check_instructor_args(
    command: str, args: dict[str, Any], subsystems: tuple[str, ...]
) -> dict[str, Any]:
    """The arguments of a `train.*` command, checked; BadRequest naming the bad one."""
    if command == "train.rate":
        rate = args.get("rate")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate >= 0:
            raise BadRequest("argument 'rate' must be a number of 0 or more (0 pauses)")
        return {"rate": float(rate)}
    if command == "train.inject":
        return {"fault": _text(args, "fault", required=True)}
    if command == "train.jump":
        return {"checkpoint": _text(args, "checkpoint", required=True)}
    if command == "train.end":
        return {"reason": _text(args, "reason", default="ended by the instructor")}
    return {}


async def perform_instructor(
    controls: object,
    background: set[asyncio.Task[Any]],
    command: str,
    args: dict[str, Any],
    *,
    actor: str,
) -> dict[str, Any]:
    """Carry out one `train.*` command on the run; refusals as the command desk's."""
    from padctl.console._commands import _Refused  # the desk imports this module

    if not isinstance(controls, InstructorControls):
        raise _Refused(
            Refusal("unavailable", "instructor controls need a training run (padctl train)")
        )
    result: dict[str, Any] = {}
    try:
        if command == "train.pause":
            await controls.pause(actor=actor)
        elif command == "train.resume":
            await controls.resume(actor=actor)
        elif command == "train.rate":
            await controls.set_rate(args["rate"], actor=actor)
        elif command == "train.inject":
            result["fault"] = await controls.inject(args["fault"], actor=actor)
        elif command == "train.jump":
            await _stop_count_commands(background)
            result["checkpoint"] = args["checkpoint"]
            result["differences"] = await controls.jump(args["checkpoint"], actor=actor)
        elif command == "train.end":
            await controls.end(actor=actor, reason=args["reason"])
    except ValueError as error:
        raise _Refused(Refusal("training", str(error))) from None
    return {**result, "status": await controls.status()}


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
