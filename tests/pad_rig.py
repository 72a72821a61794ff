"""The reference pad on simulators, with padctl's plant, alarms and subsystems on top."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from padctl.alarms import AlarmManager
from padctl.clock import ScaledClock
from padctl.definition import PadDefinition, load_pad_definition
from padctl.journal import AsyncJournal
from padctl.plant import Plant, TagValue
from padctl.subsystems import (
    ALL_SPECS,
    Mode,
    PadContext,
    Subsystem,
    SubsystemSpec,
    build_subsystems,
    compile_all,
)
from simulators.pad import SimulatedPad
from simulators.pad_model import PadModel


@dataclass
class PadRig:
    clock: ScaledClock
    definition: PadDefinition
    model: PadModel
    sim: SimulatedPad
    journal: AsyncJournal
    plant: Plant
    alarms: AlarmManager
    subsystems: dict[str, Subsystem]
    context: PadContext

    async def wait(self, predicate, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
        """Wait (clock seconds) until `predicate()` is true, re-checking on every update."""
        return await self.plant.table.wait_for(lambda _t: bool(predicate()), timeout_s=timeout_s)

    def all_good(self, *tags: str) -> bool:
        """Whether every named tag reads GOOD now."""
        return all(self.plant.read(tag).is_good for tag in tags)

    async def journal_kinds(self) -> list[str]:
        return [entry.kind for entry in await self.journal.entries()]

    async def wait_journal(self, kind: str, timeout_s: float = 5.0) -> bool:
        """Wait (clock seconds) until the journal holds a row of `kind`."""
        deadline_s = self.clock.now() + timeout_s
        while self.clock.now() < deadline_s:
            if kind in await self.journal_kinds():
                return True
            await self.clock.wall_sleep(0.05)
        return kind in await self.journal_kinds()


@asynccontextmanager
async def pad_rig(
    tmp_path: Path,
    *,
    rate: float = 10.0,
    specs: tuple[SubsystemSpec, ...] = ALL_SPECS,
    mode: Mode = Mode.MANUAL,
) -> AsyncIterator[PadRig]:
    """Simulated reference pad at `rate`, padctl connected, every subsystem started."""
    clock = ScaledClock(rate)
    definition = pad_for(specs, load_pad_definition())
    model = PadModel(definition)
    sim = SimulatedPad(definition, clock, process=model)
    live = await sim.start()
    try:
        async with AsyncJournal(tmp_path / "journal.sqlite", clock=clock) as journal:
            plant = Plant(definition=live, clock=clock, journal=journal)
            alarms = AlarmManager(clock=clock, journal=journal, table=plant.table)
            async with plant:
                assert await plant.wait_connected(30.0), "simulated PLCs did not answer"
                # No command before every watchdog is clear: a PLC still holding its outputs
                # safe would overwrite it (as a station waits at start-up).
                problems = await plant.wait_watchdogs_clear(30.0)
                assert not problems, problems
                context = PadContext()
                subsystems = build_subsystems(
                    plant=plant, clock=clock, alarms=alarms, context=context, specs=specs
                )
                await alarms.start()
                for subsystem in subsystems.values():
                    subsystem.mode = mode
                    await subsystem.start()
                try:
                    yield PadRig(
                        clock, live, model, sim, journal, plant, alarms, subsystems, context
                    )
                finally:
                    for subsystem in subsystems.values():
                        await subsystem.stop()
                    await alarms.stop()
    finally:
        await sim.stop()


def pad_for(specs: tuple[SubsystemSpec, ...], definition: PadDefinition) -> PadDefinition:
    """The reference pad cut down to the PLCs the subsystems under test read or write: a test
    of one subsystem serves and polls only its own PLCs (the physics stays whole)."""
    names: set[str] = set()
    for compiled in compile_all(definition, specs).values():
        for command in compiled.commands.values():
            names |= {c.tag for _, c in command.permissives} | {c.tag for c in command.feedback}
            names |= {tag for tag, _ in (*command.spec.writes, *command.spec.after)}
        names |= {c.tag for c in compiled.safe_feedback}
        names |= {tag for tag, _ in compiled.spec.safe_writes}
        names |= {c.tag for _, rules in compiled.recognise for c in rules}
        names |= {c.tag for rule in compiled.automatic for votes, _ in rule.votes for c in votes}
        for actuator in compiled.actuators:
            names |= {actuator.command, actuator.on_feedback, actuator.off_feedback or ""}
    plcs = {definition.tag(name).plc for name in names if definition.has_tag(name)}
    if not plcs or plcs == {plc.id for plc in definition.plcs}:  # no subsystem: the whole pad
        return definition
    kept = definition.model_copy(
        update={
            "plcs": [plc for plc in definition.plcs if plc.id in plcs],
            "tags": [tag for tag in definition.tags if tag.plc in plcs],
            "actuators": [
                actuator
                for actuator in definition.actuators
                if definition.tag(actuator.command).plc in plcs
            ],
        }
    )
    for cached in ("_plcs_by_id", "_tags_by_name", "_actuators_by_name"):
        kept.__dict__.pop(cached, None)
    return kept


def reads(rig: PadRig, tag: str, value: TagValue) -> bool:
    """Whether padctl reads `value` for `tag` now, GOOD (floats to within 0.01)."""
    sample = rig.plant.read(tag)
    if not sample.is_good or sample.value is None:
        return False
    if isinstance(value, bool):
        return sample.value is value
    return abs(float(sample.value) - float(value)) < 0.01


async def override(rig: PadRig, values: dict[str, TagValue], timeout_s: float = 60) -> None:
    """Force measurements in the physics and wait until padctl reads them."""
    for tag, value in values.items():
        rig.model.sensor_override(tag, value)
    assert await rig.wait(lambda: all(reads(rig, t, v) for t, v in values.items()), timeout_s)


async def release(rig: PadRig, values: dict[str, TagValue], timeout_s: float = 60) -> None:
    """Drop overrides and wait until padctl reads the plant's own values again."""
    for tag in values:
        rig.model.sensor_override(tag, None)
    assert await rig.wait(lambda: not any(reads(rig, t, v) for t, v in values.items()), timeout_s)
