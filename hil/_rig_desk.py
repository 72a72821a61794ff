"""Replay at the desk: a bench recording fed to padctl's plant, subsystems, alarms and LCC.

No PLC is behind the tag table: the replay source fills it, at the recorded pace or faster,
and the plant refuses (and journals) every write, so the subsystems' recognise and watch,
the alarm manager and the launch commit criteria see the bench run exactly as it was
recorded, and whatever they would have commanded is on record as refused.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from padctl.alarms import AlarmManager, AlarmView
from padctl.clock import ScaledClock
from padctl.countdown import Criterion, LccMonitor
from padctl.definition import PadDefinition
from padctl.journal import AsyncJournal
from padctl.plant import Plant, Quality, RecordedSample, Recording, RefuseAllWrites, ReplaySource
from padctl.subsystems import ALL_SPECS, SpecError, Subsystem, build_subsystems, compile_spec
from padctl.tasks import cancel_and_wait


@dataclass(frozen=True)
class DeskEvent:
    """Something the desk saw during a replay, at recording time `t_s`."""

    t_s: float
    kind: str  # quality | subsystem | alarm | lcc
    subject: str
    state: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class DeskSummary:
    samples: int = 0
    duration_s: float = 0.0
    events: list[DeskEvent] = field(default_factory=list)
    refused_writes: list[dict[str, Any]] = field(default_factory=list)
    subsystem_states: dict[str, str] = field(default_factory=dict)


def windowless(criteria: Sequence[Criterion]) -> tuple[Criterion, ...]:
    """Criteria judged at any time (a bench run has no T clock)."""
    return tuple(
        dataclasses.replace(c, active_from_s=-math.inf, active_to_s=math.inf) for c in criteria
    )


async def replay_at_desk(
    recording: Recording,
    definition: PadDefinition,
    *,
    rate: float,
    journal_path: Path,
    criteria: Sequence[Criterion],
    settle_s: float,
    emit: Callable[[DeskEvent], None],
    source_name: str,
    lcc_t_s: float = 0.0,
) -> DeskSummary:
    """Play `recording` through padctl; `emit` each event; a summary at the end.

    The criteria are judged as at countdown time `lcc_t_s` (see `windowless` for all).
    """
    clock = ScaledClock(rate)
    summary = DeskSummary()
    async with AsyncJournal(journal_path, clock=clock) as journal:
        guard = RefuseAllWrites(f"replay of {source_name} is read-only: no PLC behind it")
        plant = Plant(
            definition=definition,
            clock=clock,
            journal=journal,
            beat_heartbeats=False,
            write_guard=guard,
        )  # never started: the replay source is its only input
        source = ReplaySource(recording=recording, table=plant.table, clock=clock)
        origin_s = clock.now()
        desk = _Desk(plant, criteria, lambda: clock.now() - origin_s, summary, emit, lcc_t_s)
        source.add_listener(desk.on_samples)
        source.prime()
        alarms = AlarmManager(clock=clock, journal=journal, table=plant.table)
        alarms.add_listener(desk.on_alarm)
        specs = tuple(spec for spec in ALL_SPECS if _fits(spec, definition))
        desk.subsystems = build_subsystems(plant=plant, clock=clock, alarms=alarms, specs=specs)
        await alarms.start(period_s=max(0.1, 0.02 * rate))
        for subsystem in desk.subsystems.values():
            await subsystem.start()
        desk.observe()
        ticker = asyncio.create_task(desk.tick(clock), name="desk-ticker")
        try:
            summary.samples = await source.run()
            await source.keep_fresh_until(clock.now() + settle_s)
            desk.observe()
        finally:
            await cancel_and_wait(ticker)
            for subsystem in desk.subsystems.values():
                await subsystem.stop()
            await alarms.stop()
        summary.duration_s = recording.duration_s
        summary.subsystem_states = {n: s.machine_state for n, s in desk.subsystems.items()}
        summary.refused_writes = [
            {"t_s": round(entry.t_clock_s - origin_s, 3), "actor": entry.actor, **entry.payload}
            for entry in await journal.entries(kinds={"write_refused"})
        ]
    return summary


def _fits(spec: Any, definition: PadDefinition) -> bool:
    try:
        compile_spec(spec, definition)
    except SpecError:
        return False
    return True


class _Desk:
    """Turns what the plant, subsystems, alarms and LCC show into events, once per change."""

    def __init__(
        self,
        plant: Plant,
        criteria: Sequence[Criterion],
        t_s: Callable[[], float],
        summary: DeskSummary,
        emit: Callable[[DeskEvent], None],
        lcc_t_s: float,
    ) -> None:
        self._plant = plant
        self._lcc_t_s = lcc_t_s
        self._lcc = LccMonitor(criteria=tuple(criteria), read=plant.read)
        self._t_s = t_s
        self._summary = summary
        self._emit = emit
        self._qualities: dict[str, Quality] = {}
        self._states: dict[str, str] = {}
        self._violated: dict[str, str] = {}
        self.subsystems: dict[str, Subsystem] = {}

    def _event(self, kind: str, subject: str, state: str, detail: str = "") -> None:
        event = DeskEvent(round(self._t_s(), 3), kind, subject, state, detail)
        self._summary.events.append(event)
        self._emit(event)

    def on_samples(self, samples: Sequence[RecordedSample]) -> None:
        for recorded in samples:
            sample = self._plant.read(recorded.tag)
            if self._qualities.get(recorded.tag, Quality.GOOD) is not sample.quality:
                self._event("quality", recorded.tag, sample.quality.value, sample.reason)
            self._qualities[recorded.tag] = sample.quality
        self.observe()

    def on_alarm(self, view: AlarmView) -> None:
        self._event("alarm", view.id, view.state.value, view.detail or view.message)

    def observe(self) -> None:
        for name, subsystem in self.subsystems.items():
            state = subsystem.machine_state
            if self._states.get(name) != state:
                self._states[name] = state
                self._event("subsystem", name, state, subsystem.last_fault)
        now_s = self._plant.clock.now()
        violations = {
            v.criterion.id: v.reason for v in self._lcc.evaluate(t_s=self._lcc_t_s, now_s=now_s)
        }
        for criterion_id, reason in violations.items():
            if criterion_id not in self._violated:
                self._event("lcc", criterion_id, "VIOLATED", reason)
        for criterion_id in set(self._violated) - set(violations):
            self._event("lcc", criterion_id, "CLEARED")
        self._violated = violations

    async def tick(self, clock: ScaledClock) -> None:
        while True:
            await clock.wall_sleep(0.1)
            self.observe()
