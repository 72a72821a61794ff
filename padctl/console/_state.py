"""What consoles see: a full snapshot on connect, then coalesced changes every update period."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from padctl.alarms import AlarmView
from padctl.console._arming import ArmBoard
from padctl.console._authority import AuthorityBoard
from padctl.console._catalogue import Catalogue
from padctl.console._countdown_block import countdown_block
from padctl.console._devices import subsystem_devices
from padctl.console._history_query import HistoryReading
from padctl.console._rows import alarm_row, journal_row, row_t_s
from padctl.console._users import Role, User
from padctl.console._view import ConsoleView
from padctl.countdown import format_l_time, format_t_time
from padctl.journal import JournalEntry
from padctl.plant import Quality, Sample

PROTOCOL_VERSION = 1
SNAPSHOT_JOURNAL_ROWS = 200
UPDATE_JOURNAL_ROWS = 500
SNAPSHOT_TIMELINE_EVENTS = 100


@dataclass(frozen=True)
class ConsoleSettings:
    update_period_wall_s: float = 0.15
    clock_stale_after_wall_s: float = 0.6
    simulated: bool = False
    training: bool = False  # a training run's server: its instructor has the `train.*` controls
    # How the station's tag history is read (None: it keeps none): see _history_query.
    history: HistoryReading | None = None


def finite(value: object) -> object:
    """A JSON-safe value: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class StateTracker:
    """Builds snapshots and update deltas from the station and the console's own boards."""

    def __init__(
        self,
        *,
        station: ConsoleView,
        authority: AuthorityBoard,
        arms: ArmBoard,
        settings: ConsoleSettings,
        epoch: Callable[[], float],
        consoles: Callable[[], list[dict[str, Any]]],
        catalogue: Catalogue,
    ) -> None:
        self._station = station
        self._catalogue = catalogue
        self._authority = authority
        self._arms = arms
        self._settings = settings
        self._epoch = epoch
        self._consoles = consoles
        self.seq = 0
        self._sent_tags: dict[str, tuple[object, str]] = {}
        self._sent_subsystems: dict[str, dict[str, Any]] = {}
        self._sent_plcs: dict[str, bool] = {}
        self._changed_alarms: set[str] = set()
        self._journal_id = 0
        self._timeline_index = 0
        self._arms_version = -1
        self._consoles_sent: list[dict[str, Any]] = []
        self._units = {tag.name: tag.unit for tag in station.definition.tags}
        station.alarms.add_listener(self._alarm_changed)

    def _alarm_changed(self, view: AlarmView) -> None:
        self._changed_alarms.add(view.id)

    # ---- pieces ---------------------------------------------------------------------------
    def _clock_offset_s(self) -> float:
        clock = self._station.clock
        return clock.wall_now() - clock.now()

    def _tag(self, sample: Sample, offset_s: float) -> dict[str, Any]:
        value = finite(sample.value)
        return {
            "value": value,
            "unit": self._units[sample.tag],
            "quality": sample.quality.value if value is not None or sample.value is None else "BAD",
            "t": finite(sample.t_received_s + offset_s),
            "reason": sample.reason,
        }

    def _subsystem(self, name: str, samples: Mapping[str, Sample]) -> dict[str, Any]:
        subsystem = self._station.subsystems[name]
        return {
            "state": subsystem.machine_state,
            "mode": subsystem.mode.value,
            "busy": subsystem.busy,
            "safed": subsystem.safed,
            "last_fault": subsystem.last_fault,
            "authority": self._authority.holder(name),
            "stale_tags": [
                tag
                for tag in self._station.subsystem_tags(name)
                if samples[tag].quality is Quality.STALE
            ],
        }

    def _second_person(self) -> list[str]:
        """What a second person confirms: console commands, and subsystem commands by spec."""
        by_spec = [
            f"{name}.{command.name}"
            for name, subsystem in self._station.subsystems.items()
            for command in subsystem.spec.commands
            if command.second_person
        ]
        return [*self._catalogue.second_person_commands(), *by_spec]

    def _subsystem_static(self, name: str) -> dict[str, Any]:
        subsystem = self._station.subsystems[name]
        spec = subsystem.spec
        tags = self._station.subsystem_tags(name)
        return {
            "name": name,
            "title": spec.title,
            "safe_state": spec.safe_state.name,
            "states": [state.name for state in spec.states],
            "tags": list(tags),
            "devices": subsystem_devices(self._station.definition, tags),
            "commands": [
                {
                    "name": command.name,
                    "hazardous": command.hazardous,
                    "second_person": command.second_person,
                    "sources": [state.name for state in command.source],
                    "description": command.description,
                }
                for command in spec.commands
            ],
        }

    def _plcs(self) -> dict[str, dict[str, Any]]:
        return {
            plc_id: {
                "fresh": state.fresh,
                "age_s": finite(round(state.age_s, 3)),
                "stale_after_s": state.stale_after_s,
            }
            for plc_id, state in self._station.freshness().items()
        }

    def _alarm(self, view: AlarmView, offset_s: float) -> dict[str, Any]:
        return alarm_row(view, offset_s, self._station.countdown.clocks.t_at)

    def _journal_row(self, entry: JournalEntry) -> dict[str, Any]:
        station = self._station
        t_s = row_t_s(station.journal, station.countdown.clocks.t_at, entry.id, entry.t_clock_s)
        return journal_row(entry, t_s)

    def countdown(self, plcs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The countdown block (`countdown_block`)."""
        return countdown_block(
            self._station, plcs, at=self._epoch(), offset_s=self._clock_offset_s()
        )

    def _timeline(self, since: int) -> list[dict[str, Any]]:
        return [
            {
                "t_s": round(event.t_s, 3),
                "t_text": format_t_time(event.t_s),
                "l_text": format_l_time(event.l_s),
                "kind": event.kind,
                "text": event.text,
            }
            for event in self._station.countdown.timeline[since:]
        ]

    # ---- snapshot and update ----------------------------------------------------------------
    async def prime(self) -> None:
        """Start the journal and timeline tails at what exists now (snapshots carry the past)."""
        last = await self._station.journal.last_entry()
        self._journal_id = last.id if last else 0
        self._timeline_index = len(self._station.countdown.timeline)

    async def snapshot(self, user: User) -> dict[str, Any]:
        """The whole state now; `seq` is that of the last update built before it began."""
        seq = self.seq
        station = self._station
        offset_s = self._clock_offset_s()
        samples = station.plant.table.snapshot()
        plcs = self._plcs()
        tags = {}
        for name, sample in samples.items():
            tag = station.definition.tag(name)
            tags[name] = {
                **self._tag(sample, offset_s),
                "plc": tag.plc,
                "range": list(tag.range) if tag.range else None,
                "description": tag.description,
                "writable": tag.writable,
            }
        last = await station.journal.last_entry()
        since = max(0, (last.id if last else 0) - SNAPSHOT_JOURNAL_ROWS)
        rows = await station.journal.entries(since_id=since, limit=SNAPSHOT_JOURNAL_ROWS)
        timeline = station.countdown.timeline
        return {
            "type": "snapshot",
            "protocol": PROTOCOL_VERSION,
            "seq": seq,
            "server_time": self._epoch(),
            "user": user.describe(),
            "config": {
                "update_period_wall_s": self._settings.update_period_wall_s,
                "clock_stale_after_wall_s": self._settings.clock_stale_after_wall_s,
                "arm_timeout_wall_s": self._arms.timeout_wall_s,
                "max_shelve_s": station.definition.alarms.max_shelve_s,
                "rate": station.clock.rate,
                "simulated": self._settings.simulated,
                "training": self._settings.training,
                "history": self._settings.history is not None,
                "pad": station.definition.pad,
                "roles": [role.value for role in Role],
                "positions": list(station.sequence.positions),
                "permissions": self._catalogue.permissions(),
                "two_step": [
                    *sorted(self._catalogue.two_step_commands()),
                    "subsystem.command when hazardous",
                ],
                "second_person": sorted(self._second_person()),
                # The launch commit criteria: the consoles draw their limits as normal bands.
                "lcc": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "tags": list(c.tags),
                        "low": c.low,
                        "high": c.high,
                        "equals": c.equals,
                        "from_s": c.active_from_s,
                        "to_s": c.active_to_s,
                    }
                    for c in station.lcc
                ],
            },
            "plcs": {
                plc.id: {"protocol": plc.protocol.value, **plcs[plc.id]}
                for plc in station.definition.plcs
            },
            "tags": tags,
            "subsystems": {
                name: {**self._subsystem_static(name), **self._subsystem(name, samples)}
                for name in station.subsystems
            },
            "countdown": self.countdown(plcs),
            "timeline": self._timeline(max(0, len(timeline) - SNAPSHOT_TIMELINE_EVENTS)),
            "alarms": [self._alarm(view, offset_s) for view in station.alarms.views()],
            "journal": [self._journal_row(entry) for entry in rows],
            "arms": self._arms.describe(),
            "consoles": self._consoles(),
        }

    async def update(self) -> dict[str, Any]:
        """The changes since the last update (which this call makes the new baseline)."""
        station = self._station
        self.seq += 1
        offset_s = self._clock_offset_s()
        samples = station.plant.table.snapshot()
        plcs = self._plcs()
        message: dict[str, Any] = {
            "type": "update",
            "seq": self.seq,
            "server_time": self._epoch(),
            "countdown": self.countdown(plcs),
        }
        tags = {}
        for name, sample in samples.items():
            key = (finite(sample.value), sample.quality.value)
            if self._sent_tags.get(name) != key:
                self._sent_tags[name] = key
                tags[name] = self._tag(sample, offset_s)
        if tags:
            message["tags"] = tags
        subsystems = {}
        for name in station.subsystems:
            entry = self._subsystem(name, samples)
            if self._sent_subsystems.get(name) != entry:
                self._sent_subsystems[name] = entry
                subsystems[name] = entry
        if subsystems:
            message["subsystems"] = subsystems
        changed_plcs = {}
        for plc_id, entry in plcs.items():
            if self._sent_plcs.get(plc_id) != entry["fresh"]:
                self._sent_plcs[plc_id] = entry["fresh"]
                changed_plcs[plc_id] = entry
        if changed_plcs:
            message["plcs"] = changed_plcs
        if self._changed_alarms:
            ids, self._changed_alarms = self._changed_alarms, set()
            message["alarms"] = [self._alarm(station.alarms.get(i), offset_s) for i in sorted(ids)]
        rows = await station.journal.entries(since_id=self._journal_id, limit=UPDATE_JOURNAL_ROWS)
        if rows:
            self._journal_id = rows[-1].id
            message["journal"] = [self._journal_row(entry) for entry in rows]
        timeline = station.countdown.timeline
        if len(timeline) > self._timeline_index:
            message["timeline"] = self._timeline(self._timeline_index)
            self._timeline_index = len(timeline)
        if self._arms.version != self._arms_version:
            self._arms_version = self._arms.version
            message["arms"] = self._arms.describe()
        consoles = self._consoles()
        if consoles != self._consoles_sent:
            self._consoles_sent = consoles
            message["consoles"] = consoles
        return message
