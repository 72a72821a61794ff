"""The simulated pad under a training run: faults in words, checkpoints, frozen physics.

`PadControl` is what padctl's trainer sees of the simulators (the `PadSimulator` protocol of
padctl.training): it plays fault words (those of `padctl sim`, plus `fire ZONE`), knows the
words that take each fault away, captures and restores the whole simulated pad (physics,
PLC outputs, faults) as JSON data, and can hold the physics still while the PLCs go on
answering, so padctl can see a restored pad before anything moves.
"""

from __future__ import annotations

import inspect
import math
import shlex
from collections.abc import Mapping
from typing import Any

from padctl.definition import TagType
from simulators._codec import TagValue
from simulators._scenario_state import model_state, restore_model_state
from simulators.fault_commands import FaultSyntaxError, parse_fault
from simulators.link import LinkState
from simulators.pad import SimulatedPad
from simulators.pad_model import PadModel
from simulators.physics._fire import ZONES

PAD_STATE_FORMAT = 1
PLC_VERBS = frozenset({"stall", "drop", "restore", "restart"})
ACTUATOR_VERBS = frozenset({"stuck", "unstick", "slow"})
SENSOR_VERBS = frozenset({"bias", "freeze", "unfreeze", "nan", "override", "unoverride"})
_SUBJECT_FIRST = ("bias", "override", "slow")
_SUBJECT_ONLY = ("freeze", "nan", "stuck", "stall", "drop", "unfreeze", "unstick", "restore")


def normal_words(text: str) -> list[str]:
    """Fault words in the `padctl sim` order ('LOX-PT-101 bias 2.5' -> 'bias LOX-PT-101 2.5')."""
    words = shlex.split(text)
    if len(words) >= 2 and words[1].lower() in _SUBJECT_FIRST:
        return [words[1], words[0], *words[2:]]
    if len(words) == 2 and words[1].lower() in _SUBJECT_ONLY:
        return [words[1], words[0]]
    return words


def check_fault(text: str, model: PadModel, plcs: tuple[str, ...]) -> str:
    """The fault in `padctl sim` words, checked against the pad; ValueError naming the problem."""
    words = normal_words(text)
    if words and words[0].lower() == "fire":
        if len(words) != 2 or not words[1].isdigit() or not 1 <= int(words[1]) <= ZONES:
            raise ValueError(f"{text!r}: expected 'fire ZONE' with ZONE 1..{ZONES}")
        return shlex.join(["fire", words[1]])
    try:
        command = parse_fault(shlex.join(words))
    except FaultSyntaxError as error:
        raise ValueError(str(error)) from None
    if command.verb in PLC_VERBS and command.target not in plcs:
        raise ValueError(f"{text!r}: no PLC {command.target!r} (PLCs: {', '.join(plcs)})")
    if command.verb in ACTUATOR_VERBS and command.target not in model.actuator_prefixes:
        raise ValueError(f"{text!r}: no actuator {command.target!r} in the pad model")
    if command.verb in SENSOR_VERBS and command.target not in model.measured_tags:
        raise ValueError(f"{text!r}: {command.target!r} is not a measurement of the pad model")
    if command.verb == "slow" and not (command.argument or 0) > 0:
        raise ValueError(f"{text!r}: a slow factor must be above 0")
    if command.verb == "bias" and model.definition.tag(command.target).type is TagType.BOOL:
        raise ValueError(f"{text!r}: {command.target} is a bool: override it instead")
    return command.text


def undo_of(text: str) -> str:
    """The words that take a fault away again ('' when nothing does: restart, fire, clear)."""
    words = normal_words(text)
    verb = words[0].lower() if words else ""
    target = words[1] if len(words) > 1 else ""
    return {
        "stall": f"restore {target}",
        "drop": f"restore {target}",
        "stuck": f"unstick {target}",
        "slow": f"slow {target} 1",
        "bias": f"bias {target} 0",
        "freeze": f"unfreeze {target}",
        "nan": f"unoverride {target}",
        "override": f"unoverride {target}",
    }.get(verb, "")


def _shown(value: Any) -> Any:
    """A fault's value as JSON can carry it (a NaN override is shown as 'nan')."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


class FreezableProcess:
    """The pad model as a PLC scan sees it, with the physics held still while `frozen`."""

    def __init__(self, model: PadModel) -> None:
        self.model = model
        self.frozen = False

    def set_command(self, tag: str, value: TagValue) -> None:
        self.model.set_command(tag, value)

    def step(self, dt_s: float) -> None:
        if not self.frozen:
            self.model.step(dt_s)

    def measurements(self) -> Mapping[str, TagValue]:
        return self.model.measurements()


class PadControl:
    """A running simulated pad, as a training run drives it (padctl.training.PadSimulator)."""

    def __init__(self, pad: SimulatedPad, process: FreezableProcess) -> None:
        self._pad = pad
        self._process = process
        self.model = process.model

    @property
    def plcs(self) -> tuple[str, ...]:
        return tuple(plc.id for plc in self.model.definition.plcs)

    # ---- faults -----------------------------------------------------------------------------
    async def inject(self, text: str) -> str:
        applied = check_fault(text, self.model, self.plcs)
        words = shlex.split(applied)
        if words[0] == "fire":
            self.model.start_fire(int(words[1]))
            return applied
        try:
            await parse_fault(applied).apply(self._pad, self.model)
        except (FaultSyntaxError, KeyError) as error:
            raise ValueError(f"fault {text!r}: {error}") from None
        return applied

    def undo_of(self, text: str) -> str:
        return undo_of(text)

    async def active_faults(self) -> dict[str, Any]:
        faults = {
            kind: {k: _shown(v) for k, v in value.items()} if isinstance(value, dict) else value
            for kind, value in self.model.active_faults().items()
        }
        faults["links"] = {
            plc_id: plc.relay.state.value
            for plc_id, plc in self._pad.plcs.items()
            if plc.relay is not None and plc.relay.state.value != "up"
        }
        faults["fires"] = [
            zone for zone, burning in enumerate(self._fire_zones(), start=1) if burning
        ]
        return faults

    def _fire_zones(self) -> list[bool]:
        measured = self.model.measurements()
        return [bool(measured.get(f"FIR-FD-81{zone}", False)) for zone in range(1, ZONES + 1)]

    # ---- checkpoints ------------------------------------------------------------------------
    async def capture(self) -> dict[str, Any]:
        outputs: dict[str, dict[str, TagValue]] = {}
        for plc_id, plc in self._pad.plcs.items():
            commands = plc.server.commands()
            if inspect.isawaitable(commands):
                commands = await commands
            heartbeat = plc.plc.heartbeat
            skip = heartbeat.padctl_counter_tag if heartbeat is not None else ""
            outputs[plc_id] = {name: value for name, value in commands.items() if name != skip}
        links = {
            plc_id: plc.relay.state.value
            for plc_id, plc in self._pad.plcs.items()
            if plc.relay is not None
        }
        return {
            "format": PAD_STATE_FORMAT,
            "model": model_state(self.model),
            "outputs": outputs,
            "links": links,
        }

    async def restore(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != PAD_STATE_FORMAT:
            raise ValueError(f"pad state format {state.get('format')!r} is not 1")
        self._process.frozen = True
        links = state.get("links", {})
        for plc_id in self._pad.plcs:
            link = links.get(plc_id, LinkState.UP.value)
            if link == LinkState.STALLED.value:
                await self._pad.stall(plc_id)
            elif link == LinkState.DOWN.value:
                await self._pad.drop_link(plc_id)
            else:
                await self._pad.restore_link(plc_id)
        for plc_id, outputs in state["outputs"].items():
            if plc_id in self._pad.plcs:
                await self._pad.set_values(plc_id, outputs)
        restore_model_state(self.model, state["model"])

    async def freeze(self, frozen: bool) -> None:
        self._process.frozen = frozen

    async def wait_scans(self, count: int) -> None:
        await self._pad.wait_scans(count)
