"""Checkpoints of a whole training run: the simulated pad, padctl's subsystems and the count.

Taken at every built-in hold during a run (and on a nominal run, to start scenarios late),
kept in memory or as JSON files. A restore ("jump") brings back:

- the simulated pad: the physics (every tank, line, valve, motor, the vehicle), the PLCs'
  outputs as padctl had written them, the sensor and actuator faults of that moment, and
  the PLC links as they were (a PLC stalled or dropped at the checkpoint is so again);
- the subsystems: mode, fault and safing flags, and the state recognised from the restored
  plant (a state other than the checkpoint's is reported; a subsystem whose data is not
  GOOD, its PLC lost, keeps the checkpoint's state);
- the count (see padctl.countdown._checkpoint): state, T and L clocks, next event, hold,
  poll, window.

Not restored: alarm history (the event alarms of a subsystem that is not in FAULT after the
jump are cleared; what was not acknowledged stays to be acknowledged), console authority
and pending arms, and the journal (it records the jump). After a restore the simulation is
paused: the instructor resumes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog

from padctl.alarms import AlarmError
from padctl.countdown import format_t_time
from padctl.countdown._checkpoint import CountdownCheckpoint
from padctl.station import Station
from padctl.subsystems import FAULT, Mode

log = structlog.get_logger()

STATION_CHECKPOINT_FORMAT = 1
SETTLE_POLLS = 3  # PLC poll periods (wall time) for padctl to see the restored pad


class PadSimulator(Protocol):
    """The simulated pad under a training run (see simulators._scenario_pad.PadControl)."""

    async def capture(self) -> dict[str, Any]:
        """The whole simulated pad as JSON-able data."""
        ...

    async def restore(self, state: Mapping[str, Any]) -> None:
        """Put the pad back as `capture` had it; its physics stays frozen until `freeze(False)`."""
        ...

    async def freeze(self, frozen: bool) -> None:
        """Hold the physics still (the PLCs go on scanning and answering) or let it run."""
        ...

    async def wait_scans(self, count: int) -> None:
        """Wait until the simulated PLCs have scanned `count` more times."""
        ...

    async def inject(self, text: str) -> str:
        """Play a fault given in words; the fault as applied. ValueError when it cannot be."""
        ...

    def undo_of(self, text: str) -> str:
        """The words that take a fault away again ('' when nothing does)."""
        ...

    async def active_faults(self) -> dict[str, Any]:
        """The faults injected now, for the instructor's display."""
        ...


@dataclass(frozen=True)
class SubsystemRecord:
    mode: str
    state: str
    safed: bool
    last_fault: str


@dataclass(frozen=True)
class StationCheckpoint:
    """The pad, the subsystems and the count at one moment of a run."""

    label: str  # BIH-1, T-00:12:00, start
    count: CountdownCheckpoint
    subsystems: dict[str, SubsystemRecord]
    pad: dict[str, Any]
    taken_clock_s: float = 0.0  # the run's clock when taken (in-run checkpoints)
    sources: dict[str, str] = field(default_factory=dict)  # file -> sha256, when from a file
    format: int = STATION_CHECKPOINT_FORMAT

    @property
    def t_text(self) -> str:
        return format_t_time(self.count.t_s)

    def describe(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "t_s": round(self.count.t_s, 3),
            "t_text": self.t_text,
            "l_s": round(self.count.l_s, 3),
            "state": self.count.state,
            "hold": self.count.hold_id,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "label": self.label,
            "sources": self.sources,
            "count": self.count.to_json(),
            "subsystems": {
                name: vars(record).copy() for name, record in sorted(self.subsystems.items())
            },
            "pad": self.pad,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StationCheckpoint:
        if data.get("format") != STATION_CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint format {data.get('format')!r} is not 1")
        try:
            return cls(
                label=str(data["label"]),
                count=CountdownCheckpoint.from_json(dict(data["count"])),
                subsystems={
                    name: SubsystemRecord(**record) for name, record in data["subsystems"].items()
                },
                pad=dict(data["pad"]),
                sources=dict(data.get("sources", {})),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a training checkpoint: missing or bad {error}") from None


class CheckpointError(Exception):
    """A checkpoint file that cannot be used; the message says what is wrong."""


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_checkpoint(checkpoint: StationCheckpoint, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(checkpoint.to_json(), indent=1, sort_keys=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.replace(path)


def load_checkpoint(path: Path) -> StationCheckpoint:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return StationCheckpoint.from_json(data)
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{path}: {error}") from None


def stale_sources(checkpoint: StationCheckpoint, files: Mapping[str, Path]) -> list[str]:
    """The source files (pad, sequence, LCC) that changed since the checkpoint was made."""
    changed = []
    for name, path in files.items():
        digest = checkpoint.sources.get(name)
        if digest is not None and digest != file_digest(path):
            changed.append(f"{name} ({path})")
    return changed


async def capture_station(
    station: Station, simulator: PadSimulator, *, label: str
) -> StationCheckpoint:
    """Everything of the run now; the clock is paused for the moment it takes."""
    pace = station.plant.pace
    rate = pace.requested_rate
    pace.request(0.0)
    try:
        pad = await simulator.capture()
        count = station.countdown.checkpoint()
        subsystems = {
            name: SubsystemRecord(
                mode=subsystem.mode.value,
                state=subsystem.machine_state,
                safed=subsystem.safed,
                last_fault=subsystem.last_fault,
            )
            for name, subsystem in station.subsystems.items()
        }
        return StationCheckpoint(
            label=label,
            count=count,
            subsystems=subsystems,
            pad=pad,
            taken_clock_s=station.clock.now(),
        )
    finally:
        pace.request(rate)


async def restore_station(
    station: Station,
    simulator: PadSimulator,
    checkpoint: StationCheckpoint,
    *,
    actor: str,
) -> list[str]:
    """Put the pad, the subsystems and the count back (see the module's docstring).

    Leaves the clock paused. Returns the subsystems recognised in another state than the
    checkpoint had them in (as 'name: STATE (was STATE)'), normally none.
    """
    countdown = station.countdown
    pace = station.plant.pace
    pace.request(0.0)
    async with countdown.halted():
        for subsystem in station.subsystems.values():
            await subsystem.stop()
        await simulator.restore(checkpoint.pad)  # physics frozen from here
        try:
            # The clock stands still; the PLCs scan and padctl polls in wall time.
            await simulator.wait_scans(2)
            polls_s = max(plc.poll_period_s for plc in station.definition.plcs)
            await station.clock.wall_sleep(SETTLE_POLLS * polls_s)
            differences = await _bring_back_subsystems(station, checkpoint)
            await countdown.restore(checkpoint.count, actor=actor, label=checkpoint.label)
        finally:
            await simulator.freeze(False)
    if differences:
        log.warning("checkpoint_states_differ", checkpoint=checkpoint.label, subsystems=differences)
    return differences


async def _bring_back_subsystems(station: Station, checkpoint: StationCheckpoint) -> list[str]:
    plant = station.plant
    differences = []
    for name, subsystem in station.subsystems.items():
        record = checkpoint.subsystems.get(name)
        for actuator in subsystem.compiled.actuators:
            output = plant.read(actuator.command)
            if output.is_good and output.value is not None:
                subsystem.watch.take_up(actuator.command, output.value)
        if record is not None:
            subsystem.mode = Mode(record.mode)
            subsystem.safed = record.safed
            subsystem.last_fault = record.last_fault
        # The state the restored plant shows now; a difference is reported below.
        await subsystem.start(fresh_data_wall_s=0.0, report_fault=False)
        if record is not None and subsystem.machine_state != record.state:
            if station.not_good(station.subsystem_tags(name)):
                # Its data is not GOOD (a PLC lost at the checkpoint): nothing to recognise
                # from, so it keeps the state it had then.
                subsystem.machine_state = record.state
                subsystem.safed, subsystem.last_fault = record.safed, record.last_fault
            else:
                differences.append(f"{name}: {subsystem.machine_state} (was {record.state})")
        if subsystem.machine_state != FAULT:
            _clear_alarms(station, name)
    return differences


def _clear_alarms(station: Station, subsystem: str) -> None:
    prefix = subsystem.upper() + "-"
    for view in station.alarms.views():
        if view.id.startswith(prefix) and view.condition_active:
            try:
                station.alarms.set_condition(view.id, False)
            except AlarmError:  # pragma: no cover - the id came from the manager itself
                pass
