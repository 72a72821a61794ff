"""The pad model: the reference pad's physics seen through a pad definition's tags.

A PLC simulator hands it the values its writable tags hold (`set_command`), advances it
(`step`) and serves `measurements()`. Instructors and tests inject faults through the
back door below, never through the wire. Pure: no sockets, no clocks, no sleeping.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

from padctl.definition import PadDefinition, Tag, TagType
from simulators.physics import DETECTOR_TAGS, Actuator, CommandTable, Outputs, Plant, Value

MAX_SUBSTEP_S = 0.2  # validated against 0.01 s steps (tests/test_physics.py)
SNAPSHOT_FORMAT = 1
_INTEGER_TYPES = frozenset({TagType.UINT16, TagType.INT16, TagType.INT32, TagType.UINT32})


def plc_status_tags(definition: PadDefinition) -> frozenset[str]:
    """The tags a PLC writes about itself (its heartbeat counter, its watchdog, its channels'
    failure status), not physics."""
    names = {tag.status_tag for tag in definition.tags if tag.status_tag is not None}
    for plc in definition.plcs:
        if plc.heartbeat is not None:
            names.add(plc.heartbeat.plc_counter_tag)
            if plc.heartbeat.watchdog_tag is not None:
                names.add(plc.heartbeat.watchdog_tag)
    return frozenset(names)


@dataclass
class _SensorFaults:
    bias: dict[str, float] = field(default_factory=dict)
    frozen: dict[str, Value] = field(default_factory=dict)
    override: dict[str, Value] = field(default_factory=dict)


def _coerce(tag: Tag, value: Value) -> Value:
    """An engineering value in the tag's type: bool, int for unscaled integers, else float."""
    if tag.type is TagType.BOOL:
        return bool(value)
    number = float(value)
    unscaled = tag.scale == 1.0 and tag.offset == 0.0
    if tag.type in _INTEGER_TYPES and unscaled and math.isfinite(number):
        return round(number)
    return number


class PadModel:
    """The reference pad's plant behind the tags of `definition`.

    Writable tags start at their safe values (a PLC with no supervisor drives its outputs
    safe), and the plant starts consistent with them: erector horizontal, vehicle tanks
    empty, vehicle unpowered, cable mast connected, clamps clamped, storage tanks full.
    """

    def __init__(
        self,
        definition: PadDefinition,
        *,
        ambient_c: float = 15.0,
        max_substep_s: float = MAX_SUBSTEP_S,
    ) -> None:
        if not max_substep_s > 0:
            raise ValueError(f"max_substep_s must be positive, not {max_substep_s}")
        self._definition = definition
        self._max_substep_s = max_substep_s
        self._plant = Plant(ambient_c=ambient_c)
        self._faults = _SensorFaults()
        self._time_s = 0.0
        self._bind()
        produced = self._raw()
        self._plc_own = plc_status_tags(definition)
        self._measured: dict[str, Tag] = {
            tag.name: tag
            for tag in definition.tags
            if not tag.writable and tag.name not in self._plc_own and tag.name in produced
        }
        for tag in definition.tags:
            if tag.writable and tag.safe is not None and tag.name in self._commands:
                self._commands[tag.name](tag.safe)

    def _bind(self) -> None:
        self._commands: CommandTable = {}
        self._actuators: dict[str, Actuator] = {}
        for area in self._plant.areas():
            self._commands.update(area.commands())
            for actuator in area.actuators():
                self._actuators[actuator.prefix] = actuator

    # ---- the PLC's side ---------------------------------------------------------------------

    @property
    def definition(self) -> PadDefinition:
        return self._definition

    @property
    def time_s(self) -> float:
        """Simulated seconds since the model was built (restored with a snapshot)."""
        return self._time_s

    @property
    def measured_tags(self) -> list[str]:
        """The tags `measurements()` produces, in definition order."""
        return list(self._measured)

    @property
    def unmodeled_tags(self) -> list[str]:
        """Tags of the definition this model neither measures nor takes as commands."""
        return [
            tag.name
            for tag in self._definition.tags
            if tag.name not in self._measured
            and tag.name not in self._commands
            and tag.name not in self._plc_own
            and "-HB-" not in tag.name
        ]

    @property
    def actuator_prefixes(self) -> list[str]:
        """Everything that moves, by P&ID prefix (the targets of actuator faults)."""
        return sorted(self._actuators)

    def set_command(self, tag: str, value: float | bool | int) -> None:
        """The value a writable tag now holds in the PLC (tags not driven: ignored)."""
        definition_tag = self._definition.tag(tag)
        if not definition_tag.writable:
            raise ValueError(
                f"tag {tag} is not writable in pad definition {self._definition.pad!r}"
            )
        setter = self._commands.get(tag)
        if setter is not None:
            setter(_coerce(definition_tag, value))

    def step(self, dt_s: float) -> None:
        """Advance the physics by `dt_s` simulated seconds, in substeps of at most max_substep_s."""
        if not (math.isfinite(dt_s) and dt_s >= 0):
            raise ValueError(f"dt_s must be a finite, non-negative number of seconds, not {dt_s}")
        if dt_s == 0:
            return
        count = max(1, math.ceil(dt_s / self._max_substep_s - 1e-9))
        substep_s = dt_s / count
        for _ in range(count):
            self._plant.step(substep_s, sensed_detectors=self._sensed_detectors())
        self._time_s += dt_s

    def measurements(self) -> dict[str, float | bool | int]:
        """Engineering values of the modeled read-only tags (no PLC heartbeats), faults applied."""
        raw = self._raw()
        return {name: self._sensed(tag, raw[name]) for name, tag in self._measured.items()}

    def _raw(self) -> Outputs:
        out: Outputs = {}
        for area in self._plant.areas():
            area.outputs(out)
        return out

    def _sensed(self, tag: Tag, value: Value) -> Value:
        faults = self._faults
        if tag.name in faults.override:
            return faults.override[tag.name]
        if tag.name in faults.frozen:
            return faults.frozen[tag.name]
        bias = faults.bias.get(tag.name)
        return _coerce(tag, value if bias is None else float(value) + bias)

    def _sensed_detectors(self) -> list[bool]:
        """The flame detectors as the PLC sees them (faults included), for its alarm latch."""
        out: Outputs = {}
        self._plant.fire.outputs(out)
        return [
            bool(self._sensed(self._measured[name], out[name]))
            if name in self._measured
            else bool(out[name])
            for name in DETECTOR_TAGS
        ]

    # ---- the instructor's back door ---------------------------------------------------------

    def stick_actuator(self, tag_prefix: str, stuck: bool = True) -> None:
        """Make an actuator (`LOX-FV-102`) stop where it is, or free it again."""
        self._actuator(tag_prefix).stuck = stuck

    def slow_actuator(self, tag_prefix: str, factor: float) -> None:
        """Multiply an actuator's travel (or ramp) time by `factor` (1.0 restores it)."""
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"slow factor must be a positive number, not {factor}")
        self._actuator(tag_prefix).slow_factor = factor

    def actuator_settled(self, tag_prefix: str) -> bool:
        """True when the actuator has come to rest where its command sends it."""
        return self._actuator(tag_prefix).settled

    def sensor_bias(self, tag: str, bias: float) -> None:
        """Add `bias` (engineering units) to a numeric measurement; 0 removes it."""
        sensor = self._sensor(tag)
        if sensor.type is TagType.BOOL:
            raise ValueError(f"tag {tag} is a bool: bias it with sensor_override instead")
        if bias == 0:
            self._faults.bias.pop(tag, None)
        else:
            self._faults.bias[tag] = float(bias)

    def freeze_sensor(self, tag: str, frozen: bool = True) -> None:
        """Hold a measurement at its present value, or let it follow the plant again."""
        sensor = self._sensor(tag)
        if not frozen:
            self._faults.frozen.pop(tag, None)
        elif tag not in self._faults.frozen:
            self._faults.frozen[tag] = self._sensed(sensor, self._raw()[tag])

    def sensor_override(self, tag: str, value: float | bool | None) -> None:
        """Force a measurement to `value` (NaN and out-of-range allowed); None clears it."""
        sensor = self._sensor(tag)
        if value is None:
            self._faults.override.pop(tag, None)
        elif sensor.type is TagType.BOOL:
            self._faults.override[tag] = bool(value)
        else:
            self._faults.override[tag] = float(value)

    def clear_faults(self) -> None:
        """Remove every injected actuator and sensor fault (fires keep burning)."""
        self._faults = _SensorFaults()
        for actuator in self._actuators.values():
            actuator.clear_faults()

    def active_faults(self) -> dict[str, Any]:
        """The faults now injected, for an instructor's display or a training report."""
        return {
            "stuck": sorted(p for p, a in self._actuators.items() if a.stuck),
            "slow": {
                p: a.slow_factor for p, a in sorted(self._actuators.items()) if a.slow_factor != 1.0
            },
            "bias": dict(self._faults.bias),
            "frozen": dict(self._faults.frozen),
            "override": dict(self._faults.override),
        }

    def start_fire(self, zone: int) -> None:
        """Set fire zone 1..6 burning (detector FIR-FD-81<zone>); suppression puts it out."""
        self._plant.fire.start_fire(zone)

    def _actuator(self, prefix: str) -> Actuator:
        try:
            return self._actuators[prefix]
        except KeyError:
            raise KeyError(f"no actuator {prefix!r} in the pad model") from None

    def _sensor(self, tag: str) -> Tag:
        sensor = self._measured.get(tag)
        if sensor is None:
            self._definition.tag(tag)  # KeyError naming it when the pad has no such tag
            raise KeyError(f"tag {tag!r} is not a measurement the pad model produces")
        return sensor

    # ---- checkpoints ------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state (plant, commands held, faults, time), independent of the model."""
        return {
            "format": SNAPSHOT_FORMAT,
            "time_s": self._time_s,
            "plant": copy.deepcopy(self._plant),
            "sensor_faults": copy.deepcopy(self._faults),
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Return to a state taken by `snapshot` (the snapshot stays reusable)."""
        if snapshot.get("format") != SNAPSHOT_FORMAT or not isinstance(
            snapshot.get("plant"), Plant
        ):
            raise ValueError("not a PadModel snapshot (or one from another format)")
        self._plant = copy.deepcopy(snapshot["plant"])
        self._faults = copy.deepcopy(snapshot["sensor_faults"])
        self._time_s = float(snapshot["time_s"])
        self._bind()
