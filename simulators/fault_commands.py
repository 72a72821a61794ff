"""Fault commands in words, for the CLI, instructors and scenario files.

stall PLC | drop PLC | restore PLC | restart PLC        link and PLC faults
stuck ACTUATOR | unstick ACTUATOR | slow ACTUATOR FACTOR
bias TAG VALUE | freeze TAG | unfreeze TAG | nan TAG | override TAG VALUE | unoverride TAG
clear                                                    clear every physics fault
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from simulators.pad import SimulatedPad

FAULT_HELP = __doc__ or ""


class FaultSyntaxError(ValueError):
    """A fault command that cannot be understood; the message says why."""


@dataclass(frozen=True)
class FaultCommand:
    """One parsed fault command."""

    verb: str
    target: str
    argument: float | None
    text: str

    async def apply(self, pad: SimulatedPad, model: Any) -> None:
        """Play the fault on a running simulated pad (and its physics model)."""
        await _VERBS[self.verb][1](self, pad, model)


def _plc_target(pad: SimulatedPad, plc_id: str) -> str:
    if plc_id not in pad.plcs:
        raise FaultSyntaxError(f"unknown PLC {plc_id!r} (known: {', '.join(sorted(pad.plcs))})")
    return plc_id


def _need_model(model: Any, verb: str) -> Any:
    if model is None:
        raise FaultSyntaxError(f"'{verb}' needs the pad physics, and this simulator has none")
    return model


async def _stall(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    await pad.stall(_plc_target(pad, c.target))


async def _drop(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    await pad.drop_link(_plc_target(pad, c.target))


async def _restore(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    await pad.restore_link(_plc_target(pad, c.target))


async def _restart(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    await pad.restart_plc(_plc_target(pad, c.target))


async def _stuck(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    _need_model(model, c.verb).stick_actuator(c.target, True)


async def _unstick(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    _need_model(model, c.verb).stick_actuator(c.target, False)


async def _slow(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    _need_model(model, c.verb).slow_actuator(c.target, c.argument)


async def _bias(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    _need_model(model, c.verb).sensor_bias(c.target, c.argument)


async def _freeze(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    _need_model(model, c.verb).freeze_sensor(c.target, True)


async def _unfreeze(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    _need_model(model, c.verb).freeze_sensor(c.target, False)


async def _nan(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    _need_model(model, c.verb).sensor_override(c.target, float("nan"))


async def _override(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    _need_model(model, c.verb).sensor_override(c.target, c.argument)


async def _unoverride(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    _need_model(model, c.verb).sensor_override(c.target, None)


async def _clear(c: FaultCommand, pad: SimulatedPad, model: Any) -> None:
    _need_model(model, c.verb).clear_faults()


FaultAction = Callable[[FaultCommand, SimulatedPad, Any], Awaitable[None]]
# verb -> (arguments it takes after the target: 0 or 1 number; or -1 for no target), action
_VERBS: dict[str, tuple[int, FaultAction]] = {
    "stall": (0, _stall),
    "drop": (0, _drop),
    "restore": (0, _restore),
    "restart": (0, _restart),
    "stuck": (0, _stuck),
    "unstick": (0, _unstick),
    "slow": (1, _slow),
    "bias": (1, _bias),
    "freeze": (0, _freeze),
    "unfreeze": (0, _unfreeze),
    "nan": (0, _nan),
    "override": (1, _override),
    "unoverride": (0, _unoverride),
    "clear": (-1, _clear),
}


def parse_fault(text: str) -> FaultCommand:
    """Parse one fault command; FaultSyntaxError naming what is wrong."""
    words = shlex.split(text)
    if not words:
        raise FaultSyntaxError("empty fault command")
    verb = words[0].lower()
    if verb not in _VERBS:
        raise FaultSyntaxError(f"unknown fault {words[0]!r} (known: {', '.join(_VERBS)})")
    arity = _VERBS[verb][0]
    expected = 1 if arity < 0 else 2 + arity
    if len(words) != expected:
        usage = {-1: verb, 0: f"{verb} TARGET", 1: f"{verb} TARGET NUMBER"}[arity]
        raise FaultSyntaxError(f"'{text}': expected '{usage}'")
    argument = None
    if arity == 1:
        try:
            argument = float(words[2])
        except ValueError:
            raise FaultSyntaxError(f"'{text}': {words[2]!r} is not a number") from None
    return FaultCommand(
        verb=verb, target=words[1] if arity >= 0 else "", argument=argument, text=text
    )
