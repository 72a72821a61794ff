"""Automatic rules: commands a subsystem gives by itself, declared as data in its spec.

A rule names a command, the states it may be given from, and a trigger: every `Vote` of its
`when` holds, a vote being "at least `count` of these conditions", each judged on GOOD data
only (a stale or bad sample never triggers anything). A rule acts only with its subsystem in
AUTO (the panel's automatic position; a count puts every subsystem in AUTO) and with nothing
in progress; it gives the command as a sequence would (Origin.SEQUENCE), so every permissive
is still checked on fresh data. Each time a rule acts it is journaled (`automatic_rule`, with
the samples it saw); a refused command is journaled by the subsystem and tried again every
`retry_s` while the trigger lasts. The station runs the rules of every subsystem, supervised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from padctl.clock import Clock
from padctl.plant import Plant, record_soon
from padctl.procedure import Condition
from padctl.subsystems._errors import CommandRefused
from padctl.subsystems._spec import AutomaticRule, Mode, Origin
from padctl.supervisor import Pulse

if TYPE_CHECKING:
    from padctl.subsystems._subsystem import Subsystem

log = structlog.get_logger()

CHECK_EVERY_WALL_S = 0.25  # also on every change of a tag the rules read


@dataclass(frozen=True)
class CompiledRule:
    rule: AutomaticRule
    votes: tuple[tuple[tuple[Condition, ...], int], ...]
    states: frozenset[str]

    @property
    def tags(self) -> set[str]:
        return {c.tag for conditions, _ in self.votes for c in conditions}


class AutomaticRules:
    """Runs the automatic rules of a set of subsystems (see the module)."""

    def __init__(self, subsystems: Mapping[str, Subsystem], *, plant: Plant, clock: Clock) -> None:
        self._plant = plant
        self._clock = clock
        self._rules: list[tuple[Subsystem, CompiledRule]] = [
            (subsystem, compiled)
            for subsystem in subsystems.values()
            for compiled in subsystem.compiled.automatic
        ]
        self._attempted_s: dict[tuple[str, str], tuple[str, float]] = {}
        self.acted: list[tuple[str, str]] = []  # (subsystem, rule name), in order

    @property
    def empty(self) -> bool:
        return not self._rules

    def due(self) -> list[tuple[Subsystem, CompiledRule]]:
        """The rules whose command should be given now."""
        found = []
        now_s = self._clock.now()
        for subsystem, compiled in self._rules:
            if subsystem.mode is not Mode.AUTO or subsystem.busy:
                continue
            state = subsystem.machine_state
            if state not in compiled.states or not self._triggered(compiled):
                continue
            last = self._attempted_s.get((subsystem.name, compiled.rule.name))
            if last is not None and last[0] == state and now_s - last[1] < compiled.rule.retry_s:
                continue
            found.append((subsystem, compiled))
        return found

    def _triggered(self, compiled: CompiledRule) -> bool:
        read = self._plant.read
        for conditions, count in compiled.votes:
            held = 0
            for condition in conditions:
                sample = read(condition.tag)
                if sample.is_good and condition.holds(sample):
                    held += 1
            if held < count:
                return False
        return True

    async def check(self) -> None:
        """Give every command that is due (never waits for its feedback)."""
        for subsystem, compiled in self.due():
            await self._act(subsystem, compiled)

    async def _act(self, subsystem: Subsystem, compiled: CompiledRule) -> None:
        rule = compiled.rule
        self._attempted_s[(subsystem.name, rule.name)] = (
            subsystem.machine_state,
            self._clock.now(),
        )
        seen = {tag: self._plant.read(tag).value for tag in sorted(compiled.tags)}
        actor = f"{subsystem.name}.auto"
        record_soon(
            self._plant.journal,
            "automatic_rule",
            {"subsystem": subsystem.name, "rule": rule.name, "command": rule.command, "seen": seen},
            actor=actor,
        )
        self.acted.append((subsystem.name, rule.name))
        log.warning("automatic_rule", subsystem=subsystem.name, rule=rule.name, seen=seen)
        try:
            await subsystem.command(rule.command, actor=actor, origin=Origin.SEQUENCE)
        except CommandRefused as refusal:  # journaled by the subsystem; tried again later
            log.error("automatic_rule_refused", rule=rule.name, reason=refusal.reason)

    async def run(self, pulse: Pulse | None = None) -> None:
        """Check on every change of a tag the rules read, and every CHECK_EVERY_WALL_S."""
        table = self._plant.table
        while True:
            await table.wait_for(
                lambda _t: bool(self.due()), timeout_s=0.0, grace_wall_s=CHECK_EVERY_WALL_S
            )
            await self.check()
            if pulse is not None:
                pulse.beat()
