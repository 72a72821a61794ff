"""Checkout: stroke every actuator of a subsystem and hold its travel times to limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import structlog

from padctl.definition import Actuator
from padctl.plant import PlantError
from padctl.subsystems._spec import Mode

if TYPE_CHECKING:
    from padctl.subsystems._subsystem import Subsystem

log = structlog.get_logger()


@dataclass(frozen=True)
class StrokeResult:
    actuator: str
    to_on_s: float | None  # None: the feedback never came within the actuator's timeout
    to_off_s: float | None
    on_limit_s: float
    off_limit_s: float
    passed: bool
    reason: str


@dataclass(frozen=True)
class CheckoutReport:
    subsystem: str
    passed: bool
    results: tuple[StrokeResult, ...]
    skipped: tuple[str, ...]  # actuators marked `checkout: false`, and why not stroked

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def run_checkout(subsystem: Subsystem, *, actor: str) -> CheckoutReport:
    """Stroke each actuator away from its safe position and back, timing both strokes."""
    if subsystem.mode is not Mode.MANUAL:
        raise await subsystem.refuse("checkout", f"needs MANUAL mode, is {subsystem.mode}", actor)
    if subsystem.machine_state != subsystem.spec.safe_state.name or subsystem.busy:
        raise await subsystem.refuse(
            "checkout",
            f"needs state {subsystem.spec.safe_state.name} with nothing in progress "
            f"(state {subsystem.machine_state})",
            actor,
        )
    results: list[StrokeResult] = []
    skipped = tuple(a.name for a in subsystem.compiled.actuators if not a.checkout)
    subsystem.watch.paused = True
    try:
        for actuator in subsystem.compiled.actuators:
            if actuator.checkout:
                results.append(await _stroke(subsystem, actuator, actor))
    finally:
        subsystem.watch.paused = False
    report = CheckoutReport(
        subsystem=subsystem.name,
        passed=all(result.passed for result in results),
        results=tuple(results),
        skipped=skipped,
    )
    await subsystem._journal("checkout_report", report.as_dict(), actor)
    log.info("checkout_done", subsystem=subsystem.name, passed=report.passed)
    return report


async def _stroke(subsystem: Subsystem, actuator: Actuator, actor: str) -> StrokeResult:
    plant = subsystem._plant
    clock = subsystem._clock
    start = plant.read(actuator.command)
    home = bool(start.value) if start.is_good else False

    async def move(to: bool) -> float | None:
        subsystem.watch.commanded(actuator.command, to)
        try:
            await plant.write(
                actuator.command,
                to,
                actor=actor,
                reason=f"{subsystem.name}.checkout {actuator.name}",
            )
        except PlantError as error:
            log.error("checkout_write_failed", actuator=actuator.name, error=str(error))
            return None
        subsystem.watch.written(actuator.command)
        began_s = clock.now()
        arrived = await plant.table.wait_for(
            lambda t: _at(
                t.get(actuator.on_feedback),
                t.get(actuator.off_feedback) if actuator.off_feedback else None,
                to,
            ),
            timeout_s=actuator.timeout_s,
            grace_wall_s=subsystem._grace_wall_s(),
            recheck_wall_s=0.01,
        )
        if not arrived:
            return None
        # Timed to the poll that brought the feedback, not to when padctl looked at it.
        return max(0.0, plant.read(actuator.on_feedback).t_source_s - began_s)

    window = (subsystem.name, "checkout")
    plant.pace.open_window(
        window, min(actuator.on_limit_s, actuator.off_limit_s), f"{actuator.name} stroke limit"
    )
    try:
        away = await move(not home)
        back = await move(home)
    finally:
        plant.pace.close_window(window)
    to_on, to_off = (away, back) if not home else (back, away)
    problems = []
    for label, measured, limit in (
        ("to on", to_on, actuator.on_limit_s),
        ("to off", to_off, actuator.off_limit_s),
    ):
        if measured is None:
            problems.append(f"{label}: no feedback within {actuator.timeout_s:g} s")
        elif measured > limit:
            problems.append(f"{label}: {measured:.2f} s, limit {limit:g} s")
    return StrokeResult(
        actuator=actuator.name,
        to_on_s=None if to_on is None else round(to_on, 3),
        to_off_s=None if to_off is None else round(to_off, 3),
        on_limit_s=actuator.on_limit_s,
        off_limit_s=actuator.off_limit_s,
        passed=not problems,
        reason="; ".join(problems),
    )


def _at(on: Any, off: Any, to: bool) -> bool:
    if not on.is_good:
        return False
    if bool(on.value) != to:
        return False
    if off is None:
        return True
    return bool(off.is_good and bool(off.value) != to)
