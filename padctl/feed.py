"""The station's values as points, for the faces that publish them beyond padctl (Sparkplug
B, the OPC UA server face): one place says what a face shows and gathers what changed.

A face groups its points as the station does: one group per PLC (its tags), and the groups
`Countdown`, `Subsystems` and `Alarms`. `StationFeed.gather` runs on the station's loop; it
only reads (the tag table tells it which tags changed) and never waits.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from padctl.definition import PadDefinition, TagType
from padctl.plant import Quality
from padctl.station import Station
from padctl.supervisor import Pulse

HandOver = Callable[[dict[str, dict[str, "Reading"]]], None]

COUNTDOWN_GROUP = "Countdown"
SUBSYSTEMS_GROUP = "Subsystems"
ALARMS_GROUP = "Alarms"
SUBSYSTEM_PARTS = ("State", "Mode", "Fault")
NO_UNIT = "-"  # what a pad definition writes for a dimensionless tag (a switch, a command)
FULL_SWEEP_WALL_S = 1.0  # every tag judged again this often: quality changes by age


class PointKind(enum.StrEnum):
    BOOL = "bool"
    FLOAT = "float"
    COUNT = "count"  # a non-negative integer
    TEXT = "text"


@dataclass(frozen=True)
class Point:
    """One published value: its name in its group, kind, unit ("" for none) and engineering
    range (None where it has none)."""

    name: str
    kind: PointKind
    unit: str = ""
    low: float | None = None
    high: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Reading:
    value: float | int | bool | str | None
    quality: str  # GOOD, UNCERTAIN, BAD or STALE
    timestamp_ms: int


def station_points(definition: PadDefinition, subsystems: Iterable[str]) -> dict[str, list[Point]]:
    """Every group a face shows, and its points in a fixed order."""
    groups: dict[str, list[Point]] = {plc.id: [] for plc in definition.plcs}
    for tag in definition.tags:
        low, high = tag.range if tag.range is not None else (None, None)
        kind = PointKind.BOOL if tag.type is TagType.BOOL else PointKind.FLOAT
        unit = "" if tag.unit == NO_UNIT else tag.unit
        groups[tag.plc].append(Point(tag.name, kind, unit, low, high, tag.description))
    groups[COUNTDOWN_GROUP] = [
        Point("State", PointKind.TEXT, description="the count's state"),
        Point("T", PointKind.FLOAT, "s", description="T time (negative before T-0)"),
        Point("L", PointKind.FLOAT, "s", description="L time: since the count started"),
        Point("Hold reason", PointKind.TEXT, description="why the count holds, if it does"),
        Point("Rate", PointKind.FLOAT, "x", description="the clock's rate (1: real time)"),
    ]
    groups[SUBSYSTEMS_GROUP] = [
        Point(f"{name}/{part}", PointKind.TEXT) for name in subsystems for part in SUBSYSTEM_PARTS
    ]
    groups[ALARMS_GROUP] = [
        Point("Annunciated", PointKind.COUNT, description="alarms shown"),
        Point("Unacknowledged", PointKind.COUNT, description="alarms not yet acknowledged"),
        Point("Summary", PointKind.TEXT, description="id, state and priority of each"),
    ]
    return groups


class StationFeed:
    """What changed in a station since the last `gather`, group by group."""

    def __init__(self, station: Station) -> None:
        self._station = station
        self._plc_of = {tag.name: tag.plc for tag in station.definition.tags}
        self._changed: set[str] = set(self._plc_of)
        self._last: dict[tuple[str, str], tuple[object, str]] = {}
        self._next_sweep_wall_s = 0.0
        self._remove_listener: Callable[[], None] | None = None
        self._task_name = ""

    def start(
        self,
        task_name: str,
        hand_over: HandOver,
        *,
        period_wall_s: float,
        each_turn: Callable[[], None] | None = None,
    ) -> None:
        """Hand every point over now, then what changed every `period_wall_s`, from a task
        the station's supervisor runs (so a face that stops feeding is an alarm)."""
        supervisor = self._station.supervisor
        if supervisor is None:
            raise RuntimeError(f"the station must be started before its {task_name} face")
        if self._remove_listener is None:
            self._remove_listener = self._station.plant.table.add_listener(self._changed.update)
        hand_over(self.gather())
        clock = self._station.clock

        async def feed_forever(pulse: Pulse) -> None:
            while True:
                pulse.beat()
                hand_over(self.gather())
                if each_turn is not None:
                    each_turn()
                await clock.wall_sleep(period_wall_s)

        supervisor.spawn(task_name, feed_forever, deadline_wall_s=2.0)
        self._task_name = task_name

    async def stop(self) -> None:
        remove, self._remove_listener = self._remove_listener, None
        if remove is not None:
            remove()
        name, self._task_name = self._task_name, ""
        supervisor = self._station.supervisor
        if name and supervisor is not None:
            await supervisor.stop_task(name)

    def gather(self) -> dict[str, dict[str, Reading]]:
        """The points whose value or quality changed since the last call, by group."""
        station = self._station
        now_wall_s = station.clock.monotonic()
        names: Iterable[str]
        if now_wall_s >= self._next_sweep_wall_s:
            self._next_sweep_wall_s = now_wall_s + FULL_SWEEP_WALL_S
            names, self._changed = list(self._plc_of), set()
        else:
            names, self._changed = self._changed, set()
        now_ms = int(station.clock.wall_now() * 1000)
        by_group: dict[str, dict[str, Reading]] = {}
        for name, sample in station.plant.table.snapshot(names).items():
            quality = sample.quality.value
            self._keep(by_group, self._plc_of[name], name, sample.value, quality, now_ms)
        for group, values in self._station_values().items():
            for name, value in values.items():
                self._keep(by_group, group, name, value, Quality.GOOD.value, now_ms)
        return by_group

    def _keep(
        self,
        by_group: dict[str, dict[str, Reading]],
        group: str,
        name: str,
        value: object,
        quality: str,
        now_ms: int,
    ) -> None:
        key = (group, name)
        if self._last.get(key) == (value, quality):
            return
        self._last[key] = (value, quality)
        by_group.setdefault(group, {})[name] = Reading(value, quality, now_ms)  # type: ignore[arg-type]

    def _station_values(self) -> dict[str, dict[str, object]]:
        station = self._station
        values: dict[str, dict[str, object]] = {}
        countdown = station.countdown if station.sequence is not None else None
        if countdown is not None:
            values[COUNTDOWN_GROUP] = {
                "State": countdown.state.name,
                "T": round(countdown.t_now(), 1),
                "L": round(countdown.l_now(), 1),
                "Hold reason": countdown.status.hold_reason or "",
                "Rate": station.clock.rate,
            }
        values[SUBSYSTEMS_GROUP] = {
            f"{name}/{part}": value
            for name, subsystem in station.subsystems.items()
            for part, value in zip(
                SUBSYSTEM_PARTS,
                (subsystem.machine_state, subsystem.mode.value, subsystem.last_fault or ""),
                strict=True,
            )
        }
        views = station.alarms.annunciated()
        values[ALARMS_GROUP] = {
            "Annunciated": len(views),
            "Unacknowledged": sum(1 for view in views if view.state.name.endswith("UNACK")),
            "Summary": "; ".join(
                f"{view.id} {view.state.name} {view.priority.name}" for view in views
            ),
        }
        return values
