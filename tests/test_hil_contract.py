"""The PLC contract: what padctl needs of every PLC, proven against a rig or the simulators.

`pytest --rig hil/rigs/NAME.yaml` runs these against a bench; without `--rig` they run on
the reference pad's simulators in a child process (hil/rigs/sim-processes.yaml).
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from hil._rig_model import ContractTest
from hil._rig_programs import heartbeats_seen, matches
from padctl.definition import Tag, TagType
from padctl.plant import BenchWriteGuard, Plant, TagValue
from padctl.subsystems import ALL_SPECS, Mode, build_subsystems
from tests.hil_plugin import HilBench

pytestmark = pytest.mark.hil


def _applies(bench: HilBench, test: ContractTest) -> None:
    if test not in bench.rig.contract_tests:
        pytest.skip(f"rig {bench.rig.name} does not run the {test.value} contract test")


def _away_from_safe(tag: Tag, allowed: tuple[float, float] | None, current: object) -> TagValue:
    """A value inside the allowed range, unlike both the safe value and the present one."""
    if tag.type is TagType.BOOL:
        return not bool(tag.safe)
    assert allowed is not None
    low, high = allowed
    resolution = abs(tag.scale) if tag.type.integer_limits else 0.0
    for fraction in (0.5, 0.25, 0.75):
        candidate = low + fraction * (high - low)
        if resolution:
            candidate = round((candidate - tag.offset) / tag.scale) * tag.scale + tag.offset
        if candidate != float(tag.safe or 0) and candidate != current:
            return int(candidate) if tag.type.integer_limits and tag.scale == 1 else candidate
    raise AssertionError(f"{tag.name}: no value in {allowed} away from safe and present")


async def _paced_write(
    plant: Plant, guard: BenchWriteGuard, tag: Tag, value: TagValue, why: str
) -> None:
    """Write within the rig's rate limits (wait for the window instead of being refused)."""
    while (delay_s := guard.delay_s(tag, value, plant.clock.now())) > 0:
        await plant.clock.sleep(delay_s)
    await plant.write(tag.name, value, actor="hil-contract", reason=why)


async def test_every_tag_reads_good_with_a_plausible_value(
    hil_bench: HilBench, tmp_path: Path
) -> None:
    _applies(hil_bench, ContractTest.READS)
    async with hil_bench.plant(tmp_path, writes=False) as (plant, _guard, _journal):
        samples = plant.table.snapshot()
    problems = []
    for tag in hil_bench.definition.tags:
        sample = samples[tag.name]
        value = sample.value
        if not sample.is_good:
            problems.append(f"{tag.name}: {sample.quality.value} ({sample.reason})")
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{tag.name}: {value}")
        elif tag.type is TagType.BOOL and not isinstance(value, bool):
            problems.append(f"{tag.name}: {value!r} is not a bool")
        elif tag.type is not TagType.BOOL and not tag.in_range(float(value or 0)):
            problems.append(f"{tag.name}: {value} outside {tag.range}")
    assert not problems, f"{len(problems)} tag(s) not plausible:\n" + "\n".join(problems)
    assert len(samples) == len(hil_bench.definition.tags)


async def test_every_allowed_writable_tag_round_trips_within_its_range(
    hil_bench: HilBench, tmp_path: Path
) -> None:
    _applies(hil_bench, ContractTest.ROUND_TRIP)
    hil_bench.require_writes()
    rate = hil_bench.clock_rate
    async with hil_bench.plant(tmp_path, writes=True) as (plant, guard, journal):
        assert guard is not None and journal is not None
        assert await heartbeats_seen(plant, 10.0), "a PLC did not take up the heartbeat"

        async def round_trip(tag: Tag) -> str | None:
            target = _away_from_safe(tag, guard.allowed_range(tag), plant.read(tag.name).value)
            await _paced_write(plant, guard, tag, target, "contract: round trip")
            if not await plant.table.wait_for(
                lambda t: matches(tag, t.get(tag.name), target), timeout_s=3.0 * rate
            ):
                return f"{tag.name}: wrote {target}, read back {plant.read(tag.name)}"
            assert tag.safe is not None
            safe: TagValue = bool(tag.safe) if tag.type is TagType.BOOL else tag.safe
            await _paced_write(plant, guard, tag, safe, "contract: restore the safe value")
            if not await plant.table.wait_for(
                lambda t: matches(tag, t.get(tag.name), safe), timeout_s=3.0 * rate
            ):
                return f"{tag.name}: restored {safe}, read back {plant.read(tag.name)}"
            return None

        async def per_plc(plc_id: str) -> list[str]:
            problems = []
            for name in guard.allowances:
                tag = plant.definition.tag(name)
                if tag.plc == plc_id and (problem := await round_trip(tag)) is not None:
                    problems.append(problem)
            return problems

        results = await asyncio.gather(*(per_plc(plc.id) for plc in plant.definition.plcs))
        problems = [problem for result in results for problem in result]
        assert not problems, "round trips failed:\n" + "\n".join(problems)
        sent = await journal.entries(kinds={"command_sent"})
    written = {entry.payload["tag"] for entry in sent}
    assert written == set(guard.allowances), "every round trip is journaled before it is sent"
    assert len(sent) == 2 * len(guard.allowances)


async def test_watchdog_drives_outputs_safe_when_padctl_stops_heartbeating(
    hil_bench: HilBench, tmp_path: Path
) -> None:
    _applies(hil_bench, ContractTest.WATCHDOG)
    hil_bench.require_writes()
    probes = dict(hil_bench.rig.watchdog_tags)
    if not probes:
        pytest.skip(f"rig {hil_bench.rig.name} allows no output to prove a watchdog with")
    rate = hil_bench.clock_rate
    async with hil_bench.plant(tmp_path, writes=True) as (plant, guard, _journal):
        assert guard is not None
        assert await heartbeats_seen(plant, 10.0), "a PLC did not take up the heartbeat"
        definition = plant.definition
        targets = {}
        for plc_id, name in probes.items():
            tag = definition.tag(name)
            targets[plc_id] = _away_from_safe(tag, guard.allowed_range(tag), None)
            await _paced_write(plant, guard, tag, targets[plc_id], "contract: watchdog probe")
        for plc_id, name in probes.items():
            tag = definition.tag(name)
            assert await plant.table.wait_for(
                lambda t, tag=tag, plc_id=plc_id: matches(tag, t.get(tag.name), targets[plc_id]),
                timeout_s=3.0 * rate,
            ), f"{name} did not take the probe value"
        await asyncio.sleep(0)
        stopped_s = plant.clock.monotonic()  # watchdogs run on wall time
        await plant.stop_heartbeats()  # padctl stops heartbeating; the hubs go on reading

        async def tripped_after_s(plc_id: str, name: str) -> float | None:
            tag = definition.tag(name)
            heartbeat = definition.plc(plc_id).heartbeat
            assert heartbeat is not None and tag.safe is not None
            safe: TagValue = bool(tag.safe) if tag.type is TagType.BOOL else tag.safe
            went_safe = await plant.table.wait_for(
                lambda t: matches(tag, t.get(name), safe),
                timeout_s=0.0,
                grace_wall_s=heartbeat.watchdog_s + 2.0,
                recheck_wall_s=0.01,
            )
            return plant.clock.monotonic() - stopped_s if went_safe else None

        elapsed = dict(
            zip(
                probes,
                await asyncio.gather(*(tripped_after_s(p, n) for p, n in probes.items())),
                strict=True,
            )
        )
    problems = []
    for plc_id, elapsed_s in elapsed.items():
        heartbeat = definition.plc(plc_id).heartbeat
        assert heartbeat is not None
        poll_s = definition.plc(plc_id).poll_period_s
        earliest_s = heartbeat.watchdog_s - heartbeat.period_s - 3 * poll_s
        latest_s = heartbeat.watchdog_s + 0.5 + 3 * poll_s
        if elapsed_s is None:
            problems.append(f"{plc_id}: {probes[plc_id]} never went safe")
        elif not earliest_s <= elapsed_s <= latest_s:
            problems.append(
                f"{plc_id}: {probes[plc_id]} went safe {elapsed_s:.2f} s after the last "
                f"heartbeat stop, watchdog is {heartbeat.watchdog_s:g} s "
                f"(expected {earliest_s:.2f}..{latest_s:.2f} s)"
            )
    assert not problems, "\n".join(problems)


async def test_each_subsystem_on_the_rig_passes_its_checkout(
    hil_bench: HilBench, tmp_path: Path
) -> None:
    _applies(hil_bench, ContractTest.CHECKOUT)
    hil_bench.require_writes()
    names = hil_bench.rig.checkout_subsystems
    if not names:
        pytest.skip(f"no subsystem runs whole on rig {hil_bench.rig.name}")
    specs = tuple(spec for spec in ALL_SPECS if spec.name in names)
    async with hil_bench.plant(tmp_path, writes=True) as (plant, _guard, journal):
        assert journal is not None
        assert await heartbeats_seen(plant, 10.0), "a PLC did not take up the heartbeat"
        subsystems = build_subsystems(plant=plant, clock=plant.clock, alarms=None, specs=specs)
        for subsystem in subsystems.values():
            subsystem.mode = Mode.MANUAL
            await subsystem.start()
        try:

            async def checkout(name: str) -> str | None:
                subsystem = subsystems[name]
                if subsystem.machine_state != subsystem.spec.safe_state.name:
                    if not await subsystem.safe(actor="hil-contract", reason="before checkout"):
                        return f"{name}: safing before the checkout not proven"
                    if subsystem.machine_state == "FAULT":
                        await subsystem.reset(actor="hil-contract")
                report = await subsystem.checkout(actor="hil-contract")
                if not report.passed:
                    failed = [f"{r.actuator}: {r.reason}" for r in report.results if not r.passed]
                    return f"{name}: " + "; ".join(failed)
                return None

            results = await asyncio.gather(*(checkout(name) for name in names))
        finally:
            for subsystem in subsystems.values():
                await subsystem.stop()
        reports = await journal.entries(kinds={"checkout_report"})
    problems = [result for result in results if result is not None]
    assert not problems, "checkouts failed:\n" + "\n".join(problems)
    assert {entry.payload["subsystem"] for entry in reports} == set(names)
