"""What a run looked like, for its report: the count's T clock and the key tags over time.

The journal keeps what was commanded and decided; the tag values in between are sampled
here (from padctl's tag table, as the consoles saw them) every few tens of milliseconds of
wall time, which is as often as the PLCs are polled at a scaled clock.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from padctl.clock import ScaledClock, wall_pause
from padctl.definition import TagType
from padctl.station import Station
from padctl.tasks import cancel_and_wait

SAMPLE_WALL_S = 0.04


@dataclass
class Series:
    """One tag's samples: clock seconds, value (None when not GOOD)."""

    tag: str
    unit: str
    boolean: bool = False
    times_s: list[float] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)


@dataclass
class Recording:
    """The run's samples: the count's T clock and state, and the key tags."""

    times_s: list[float] = field(default_factory=list)
    t_clock_s: list[float] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    series: dict[str, Series] = field(default_factory=dict)


class Recorder:
    """Samples the count and `tags` until stopped (nothing while the simulation is paused)."""

    def __init__(self, *, station: Station, clock: ScaledClock, tags: tuple[str, ...]) -> None:
        self._station = station
        self._clock = clock
        known = {tag.name: tag for tag in station.definition.tags}
        self.recording = Recording(
            series={
                name: Series(name, known[name].unit, known[name].type is TagType.BOOL)
                for name in tags
            }
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="training-recorder")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def sample(self) -> None:
        now_s = self._clock.now()
        recording = self.recording
        if recording.times_s and now_s <= recording.times_s[-1]:
            return  # paused: nothing moved
        countdown = self._station.countdown
        recording.times_s.append(now_s)
        recording.t_clock_s.append(countdown.t_now())
        recording.states.append(countdown.state.name)
        samples = self._station.plant.table.snapshot(recording.series)
        for name, series in recording.series.items():
            sample = samples[name]
            value = sample.value if sample.is_good else None
            series.times_s.append(now_s)
            series.values.append(None if value is None else float(value))

    async def _run(self) -> None:
        while True:
            self.sample()
            await wall_pause(SAMPLE_WALL_S)
