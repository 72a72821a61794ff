"""Whole programs on a rig: one guarded write, and recording the tag stream."""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hil.rig import Rig
from padctl.clock import ScaledClock
from padctl.definition import PadDefinition, Tag, TagType
from padctl.journal import AsyncJournal
from padctl.plant import (
    Plant,
    PlantError,
    Sample,
    TagRecorder,
    TagValue,
    WriteConfirmation,
    WriteRefused,
)

Say = Callable[[str], None]


def parse_value(tag: Tag, text: str) -> TagValue:
    """An engineering value for `tag` from the command line; ValueError saying why not."""
    if tag.type is TagType.BOOL:
        words = {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}
        if text.strip().lower() not in words:
            raise ValueError(f"{tag.name} is a bool: give true or false, not {text!r}")
        return words[text.strip().lower()]
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{tag.name} takes a number in {tag.unit}, not {text!r}") from None
    if tag.type is not TagType.FLOAT32 and tag.type is not TagType.FLOAT64 and number.is_integer():
        return int(number)
    return number


def ask_on_terminal(rig: Rig, say: Say) -> WriteConfirmation:
    """The confirmation prompt: the operator types y to let padctl write to the rig."""

    async def confirm(tag: Tag, value: TagValue) -> bool:
        plcs = ", ".join(plc.id for plc in rig.definition.plcs)
        say(
            f"rig {rig.name} ({rig.description or rig.path}): padctl is about to write "
            f"{tag.name} = {show(value)} and its heartbeat counters to PLC(s) {plcs}.\n"
            "Write to this rig? [y/N] "
        )
        answer = await _read_line()
        return answer.strip().lower() in ("y", "yes")

    return confirm


async def _read_line() -> str:
    """A line of standard input, read on a daemon thread (Ctrl-C never waits for Enter)."""
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def answer(text: str) -> None:
        if not line.done():
            line.set_result(text)

    def reader() -> None:
        text = sys.stdin.readline()
        with contextlib.suppress(RuntimeError):  # the program ended meanwhile: nobody asks
            loop.call_soon_threadsafe(answer, text)

    threading.Thread(target=reader, name="confirm-prompt", daemon=True).start()
    return await line


@dataclass(frozen=True)
class WriteResult:
    ok: bool
    message: str


async def write_once(
    rig: Rig,
    definition: PadDefinition,
    tag_name: str,
    value: TagValue,
    *,
    dry_run: bool,
    confirm: WriteConfirmation | None,
    journal_path: Path,
    actor: str,
    why: str,
    timeout_s: float,
) -> WriteResult:
    """One write through the plant's guarded path; proven by read-back unless a dry run.

    Nothing is written before the operator confirms (heartbeats included): a refused or
    declined write is journaled through the plant without the plant ever starting.
    """
    clock = ScaledClock(rig.clock_rate)
    guard = rig.write_guard(dry_run=dry_run, confirm=confirm)
    tag = definition.tag(tag_name)
    async with AsyncJournal(journal_path, clock=clock) as journal:
        plant = Plant(
            definition=definition,
            clock=clock,
            journal=journal,
            base_dir=rig.pad_path.parent,
            beat_heartbeats=not dry_run,
            write_guard=guard,
        )
        go = True
        try:
            plant.check_write(tag_name, value)
            guard.check(tag, value)
        except WriteRefused:
            go = False
        if go and not dry_run:
            go = await guard.confirm_writes(tag, value)
        if not go:  # refused: through the plant, so that the refusal is journaled
            try:
                await plant.write(tag_name, value, actor=actor, reason=why)
            except WriteRefused as refusal:
                return WriteResult(False, f"refused: {refusal.reason} (journaled)")
            return WriteResult(False, "refused")  # not reached: the guard refuses it
        async with plant:
            if not await plant.wait_connected(timeout_s):
                return WriteResult(False, f"PLC {tag.plc} did not answer within {timeout_s:g} s")
            if not dry_run and not await heartbeats_seen(plant, timeout_s):
                return WriteResult(
                    False, "a PLC did not take up padctl's heartbeat; nothing written"
                )
            before = plant.read(tag_name)
            try:
                await plant.write(tag_name, value, actor=actor, reason=why)
            except WriteRefused as refusal:
                return WriteResult(False, f"refused: {refusal.reason} (journaled)")
            except PlantError as error:
                return WriteResult(False, f"failed: {error} (journaled)")
            if dry_run:
                return WriteResult(
                    True,
                    f"dry run: would write {tag_name} = {show(value)} (now {show(before.value)}); "
                    "journaled as write_dry_run, nothing sent",
                )
            arrived = await plant.table.wait_for(
                lambda table: matches(tag, table.get(tag_name), value),
                timeout_s=timeout_s * clock.rate,
            )
            after = plant.read(tag_name)
            if not arrived:
                return WriteResult(
                    False,
                    f"wrote {tag_name} = {show(value)}; read back {show(after.value)} "
                    f"({after.quality.value}), not the value written",
                )
            return WriteResult(
                True,
                f"wrote {tag_name} = {show(value)}; read back {show(after.value)} "
                f"({after.quality.value})",
            )


async def heartbeats_seen(plant: Plant, timeout_s: float) -> bool:
    """Wait (wall seconds) until every PLC takes padctl's heartbeat up and its watchdog is
    clear. Only then does a command stay: one written before would be overwritten by the
    safe values a tripped watchdog drives."""
    return not await plant.wait_watchdogs_clear(timeout_s)


def show(value: TagValue | None) -> str:
    """A value as an operator types it (true/false, numbers as given)."""
    if isinstance(value, bool):
        return str(value).lower()
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def matches(tag: Tag, sample: Sample, value: TagValue) -> bool:
    """Whether a GOOD sample shows `value` (to the tag's resolution)."""
    if not sample.is_good or sample.value is None:
        return False
    if tag.type is TagType.BOOL:
        return bool(sample.value) is bool(value)
    tolerance = max(abs(tag.scale), 1e-6) if tag.type.integer_limits else 1e-5
    span = (tag.range[1] - tag.range[0]) if tag.range else 1.0
    return math.isclose(float(sample.value), float(value), abs_tol=tolerance * max(1.0, span / 1e3))


async def record(
    rig: Rig,
    definition: PadDefinition,
    out: Path,
    *,
    seconds: float | None,
    timeout_s: float,
    say: Say,
    faults: Sequence[tuple[float, str]] = (),
    play: Callable[[str], None] | None = None,
) -> int:
    """Record every tag of the rig to `out` for `seconds` of pad time (None: until stopped).

    The recorder only reads: a read-only plant, no heartbeat, nothing written. Each of
    `faults` (pad seconds into the recording, command) goes to `play` (the simulators'
    fault input) at its time.
    """
    clock = ScaledClock(rig.clock_rate)
    plant = Plant(
        definition=definition,
        clock=clock,
        journal=None,
        base_dir=rig.pad_path.parent,
        beat_heartbeats=False,
    )
    header = {
        "rig": rig.name,
        "rig_file": str(rig.path.resolve()),
        "pad": definition.pad,
        "pad_file": str(rig.pad_path),
    }
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    injectors: list[asyncio.Future[object]] = []
    try:
        async with plant:
            if not await plant.wait_connected(timeout_s):
                say(f"padctl hil record: not every PLC answered within {timeout_s:g} s")
            recorder = TagRecorder(plant.table, out, header=header)
            async with recorder:
                say(
                    f"recording rig {rig.name} to {out}"
                    + (f" for {seconds:g} s" if seconds else "")
                )
                started_s = clock.now()
                if play is not None:
                    injectors = [
                        asyncio.ensure_future(_play_at(clock, started_s + at_s, command, play))
                        for at_s, command in faults
                    ]
                waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
                if seconds is not None:
                    waiters.append(asyncio.ensure_future(clock.sleep(seconds)))
                try:
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in [*waiters, *injectors]:
                        waiter.cancel()
                    await asyncio.gather(*waiters, *injectors, return_exceptions=True)
            say(f"recorded {recorder.samples_written} samples to {out}")
            return recorder.samples_written
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _play_at(
    clock: ScaledClock, at_s: float, command: str, play: Callable[[str], None]
) -> None:
    await clock.sleep_until(at_s)
    play(command)
