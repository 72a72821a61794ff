"""Uncommanded change detection: outputs and positions that move without a command."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from padctl.clock import Clock, Deadline
from padctl.definition import Actuator
from padctl.plant import Plant, Sample, TagValue
from padctl.procedure import Condition
from padctl.tasks import cancel_and_wait

log = structlog.get_logger()

CHECK_PERIOD_S = 0.1  # clock seconds between checks ...
CHECK_FLOOR_WALL_S = 0.05  # ... and at least this much wall time, whatever the rate: an
# alarm for people within a tenth of a second; eleven subsystems each checking at the poll
# rate cost a count a tenth of its CPU for nothing a person could see


@dataclass(slots=True)
class _Expected:
    """An actuator output padctl expects, from a write or as read back."""

    value: bool
    settle: Deadline  # the stroke time (and the wire's share) after which it must show
    written_wall_s: float | None = None  # the write's acknowledgement (None: on the wire,
    # or failed; -inf: read back, not written)


async def _tick(clock: Clock) -> None:
    wall_s = clock.monotonic()
    await clock.sleep(CHECK_PERIOD_S)
    await clock.wall_sleep(CHECK_FLOOR_WALL_S - (clock.monotonic() - wall_s))


class ActuatorWatch:
    """Compares each actuator's command output and position with what padctl commanded.

    Raises an alarm when the PLC's output differs from padctl's last command (somebody or
    something else changed it: a PLC watchdog, a local panel), or when, once the stroke time
    has passed, the position feedback disagrees with the command (a valve that moved by
    itself, or drifted off its seat).
    """

    def __init__(
        self,
        *,
        subsystem: str,
        actuators: Sequence[Actuator],
        plant: Plant,
        clock: Clock,
        on_change: Callable[[str, bool], Awaitable[None]],
        rest_check: Callable[[], str | None] | None = None,
        grace_wall_s: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self._subsystem = subsystem
        self._actuators = {actuator.command: actuator for actuator in actuators}
        self._plant = plant
        self._clock = clock
        self._on_change = on_change
        self._rest_check = rest_check
        self._grace_wall_s = grace_wall_s  # the read-back arrives a round trip late
        self._commanded: dict[str, _Expected] = {}
        self._active: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self.paused = False  # while a checkout strokes actuators on purpose

    def commanded(self, tag: str, value: TagValue) -> None:
        """padctl is about to write `value` to `tag`: that is now the expected output, judged
        once `written(tag)` says the PLC acknowledged it."""
        actuator = self._actuators.get(tag)
        if actuator is not None:
            self._commanded[tag] = _Expected(bool(value), self._settle(actuator))
            # its stroke is a timing window in play until it shows or is judged: a scaled
            # clock must leave the wire its share of it (an "after feedback" write, such as a
            # pump stopped once the erector is home, comes after the command's own window)
            self._plant.pace.open_window(
                self._stroke_window(tag), actuator.timeout_s, f"{actuator.name} stroke"
            )

    def _stroke_window(self, tag: str) -> tuple[str, str, str]:
        return (self._subsystem, "stroke", tag)

    def written(self, tag: str) -> None:
        """The PLC acknowledged the write `commanded(tag, ...)` announced: only a read-back
        received after now shows its effect (one read on the wire meanwhile may not)."""
        expected = self._commanded.get(tag)
        if expected is not None and expected.written_wall_s is None:
            expected.written_wall_s = self._clock.monotonic()

    def take_up(self, tag: str, value: TagValue) -> None:
        """The output is `value` already (read back, not written): expect it from now on."""
        actuator = self._actuators.get(tag)
        if actuator is not None:
            self._commanded[tag] = _Expected(bool(value), self._settle(actuator), -math.inf)

    def _settle(self, actuator: Actuator) -> Deadline:
        return Deadline(self._clock, actuator.timeout_s, self._grace_wall_s())

    async def start(self) -> None:
        for tag in self._actuators:
            sample = self._plant.read(tag)
            if sample.is_good and tag not in self._commanded:
                self.take_up(tag, bool(sample.value))
        if self._task is None and (self._actuators or self._rest_check is not None):
            self._task = asyncio.create_task(self._run(), name=f"watch-{self._subsystem}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        for tag in self._actuators:
            self._plant.pace.close_window(self._stroke_window(tag))

    @property
    def discrepancies(self) -> dict[str, str]:
        """Actuator name -> what is wrong, for the actuators that disagree now."""
        return dict(self._active)

    async def _run(self) -> None:
        while True:
            await _tick(self._clock)
            if not self.paused:
                await self.check()

    async def check(self) -> None:
        found: dict[str, str] = {}
        for tag, actuator in self._actuators.items():
            expected = self._commanded.get(tag)
            output = self._plant.read(tag)
            if not output.is_good:
                continue  # stale or bad data is judged elsewhere (NO-GO), not guessed here
            if expected is None:
                self.take_up(tag, bool(output.value))
                continue
            commanded, written_wall_s = expected.value, expected.written_wall_s
            settled = expected.settle.passed()
            if settled:
                self._plant.pace.close_window(self._stroke_window(tag))  # judged from now on
            if written_wall_s is None or output.t_received_wall_s <= written_wall_s:
                continue  # the write is on the wire, failed, or this read-back predates it
            on = self._plant.read(actuator.on_feedback)
            if on.is_good and bool(on.value) == commanded:
                self._plant.pace.close_window(self._stroke_window(tag))  # it shows
            if bool(output.value) != commanded and settled:
                found[actuator.name] = (
                    f"{tag} is {str(bool(output.value)).lower()}, padctl commanded "
                    f"{str(commanded).lower()}"
                )
                continue
            if not settled:
                continue  # still travelling
            if on.is_good and bool(on.value) != commanded:
                where = "at" if on.value else "off"
                found[actuator.name] = (
                    f"{actuator.on_feedback} {where} its position without a command "
                    f"(commanded {str(commanded).lower()})"
                )
        if self._rest_check is not None:
            rest = self._rest_check()
            if rest is not None:
                found["state"] = rest
        if found != self._active:
            appeared = {k: v for k, v in found.items() if self._active.get(k) != v}
            self._active = found
            detail = "; ".join(f"{name}: {what}" for name, what in sorted(found.items()))
            if appeared:
                log.warning("uncommanded_change", subsystem=self._subsystem, detail=detail)
            await self._on_change(detail, bool(found))


class RestWatch:
    """At rest, the plant must keep showing the subsystem's state: a change without a command
    is not. Judged on GOOD data only (stale data is NO-GO elsewhere), after `debounce_s`."""

    def __init__(
        self,
        *,
        rules: dict[str, tuple[Condition, ...]],
        read: Callable[[str], Sample],
        clock: Clock,
        debounce_s: float,
        grace_wall_s: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self._rules = rules
        self._read = read
        self._clock = clock
        self._debounce_s = debounce_s
        self._grace_wall_s = grace_wall_s
        self._off_since: Deadline | None = None

    def discrepancy(self, state: str, *, busy: bool) -> str | None:
        """What no longer shows `state` (once it has lasted `debounce_s`), or None."""
        rules = self._rules.get(state)
        if busy or not rules:
            self._off_since = None
            return None
        samples = {c.tag: self._read(c.tag) for c in rules}
        if not all(sample.is_good for sample in samples.values()):
            return None
        unmet = [c for c in rules if not c.holds(samples[c.tag])]
        if not unmet:
            self._off_since = None
            return None
        if self._off_since is None:
            self._off_since = Deadline(self._clock, self._debounce_s, self._grace_wall_s())
        if not self._off_since.passed():
            return None
        return f"{state} no longer shown: " + "; ".join(c.describe(samples[c.tag]) for c in unmet)
