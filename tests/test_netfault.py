"""Network faults between padctl and the pad's PLCs, in network namespaces (root only).

The simulated pad (`padctl sim`) runs in one namespace, padctl (tests/netfault_client.py:
plant, subsystems, a short count from tests/data/) in another, joined by a veth pair.
iptables rules in the simulators' namespace cut one PLC off (a partition) or drop packets at
random (loss). Expected: the lost data goes STALE within the PLC's `stale_after_s`, the
affected subsystems refuse commands, the count holds, nothing is written twice or to the
wrong register, and everything comes back GOOD when the link heals, with the count still
holding until it is resumed.
"""

from __future__ import annotations

import asyncio
import functools
import json
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from padctl.clock import ScaledClock
from padctl.definition import ModbusAddress, ModbusPlc, PadDefinition, TagType, load_pad_definition
from padctl.journal import Journal
from padctl.plant._modbus_codec import encode_registers
from tests.netns import NetnsPair, netns_pair, unavailable_reason
from tests.processes import PADCTL

_WHY_NOT = unavailable_reason()
pytestmark = [
    pytest.mark.netfault,
    pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or ""),
]

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
RATE = 10.0  # physics and T clock 10x; communication timings stay in wall time
STALE_AFTER_WALL_S = 1.0  # every PLC of the reference pad (stale_after_s, wall seconds)
WATCHED = {  # one LCC tag per PLC (tests/data/netfault_lcc.yaml)
    "PROP": "LOX-LT-001",
    "GAS": "GN2-PT-201",
    "MECH": "HDC-M-701-CLAMPED",
    "SAFE": "PWR-ET-841",
    "VEH": "VEH-LIFTOFF-1",
}
Observation = dict[str, Any]


@dataclass
class NetfaultRig:
    """The two programs in their namespaces, and what padctl's side reported."""

    pair: NetnsPair
    endpoints: dict[str, dict[str, Any]]
    client: asyncio.subprocess.Process
    observations: list[Observation] = field(default_factory=list)
    replies: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    writes: list[dict[str, Any]] = field(default_factory=list)
    updated: asyncio.Event = field(default_factory=asyncio.Event)

    def port(self, plc_id: str) -> int:
        return int(self.endpoints[plc_id]["port"])

    async def ask(self, command: str, timeout_s: float = 10.0) -> dict[str, Any]:
        assert self.client.stdin is not None
        self.client.stdin.write(command.encode() + b"\n")
        await self.client.stdin.drain()
        reply = await asyncio.wait_for(self.replies.get(), timeout_s)
        assert reply["reply"] == command, reply
        return reply

    async def wait(self, predicate: Callable[[Observation], bool], timeout_s: float) -> Observation:
        """The first observation from now on that satisfies `predicate` (bounded in time)."""
        seen = len(self.observations)
        deadline = time.monotonic() + timeout_s
        while True:
            for observation in self.observations[seen:]:
                if predicate(observation):
                    return observation
            seen = len(self.observations)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                last = self.observations[-1] if self.observations else None
                raise AssertionError(f"not seen within {timeout_s} s; last observation: {last}")
            self.updated.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.updated.wait(), remaining)

    async def wait_write(
        self, predicate: Callable[[dict[str, Any]], bool], timeout_s: float
    ) -> None:
        """Wait until a PLC has reported a write that satisfies `predicate` (bounded in time)."""
        deadline = time.monotonic() + timeout_s
        while not any(predicate(write) for write in self.writes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no such write within {timeout_s} s: {self.writes[-5:]}")
            self.updated.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.updated.wait(), remaining)

    def between(self, start_mono: float, end_mono: float) -> list[Observation]:
        return [o for o in self.observations if start_mono <= o["mono"] <= end_mono]


async def _read_lines(
    stream: asyncio.StreamReader, handle: Callable[[dict[str, Any]], None]
) -> None:
    async for line in stream:
        if line.strip().startswith(b"{"):
            handle(json.loads(line))


async def _end(process: asyncio.subprocess.Process, *, quit_line: bytes | None) -> None:
    if process.returncode is None and quit_line is not None and process.stdin is not None:
        with suppress(ConnectionError):
            process.stdin.write(quit_line)
            await process.stdin.drain()
        with suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10.0)
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        with suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10.0)
    if process.returncode is None:
        process.kill()
        await process.wait()


@asynccontextmanager
async def netfault_rig(tmp_path: Path) -> AsyncIterator[NetfaultRig]:
    """Simulators in one namespace, padctl in the other; everything removed on exit."""
    readers: list[asyncio.Task[None]] = []
    processes: list[tuple[asyncio.subprocess.Process, bytes | None]] = []
    with (
        (tmp_path / "sim.err").open("wb") as sim_errors,
        (tmp_path / "client.err").open("wb") as client_errors,
    ):
        async with _programs(tmp_path, (sim_errors, client_errors), readers, processes) as rig:
            yield rig


@asynccontextmanager
async def _programs(
    tmp_path: Path,
    errors: tuple[Any, Any],
    readers: list[asyncio.Task[None]],
    processes: list[tuple[asyncio.subprocess.Process, bytes | None]],
) -> AsyncIterator[NetfaultRig]:
    async with netns_pair() as pair:
        try:
            sim = await asyncio.create_subprocess_exec(
                *pair.exec_in(pair.sim, PADCTL, "sim", "--ephemeral-ports", "--json"),
                *("--report-writes", "--host", pair.sim_address, "--rate", str(RATE)),
                *("--log-level", "warning", "--log-file", str(tmp_path / "sim.log")),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors[0],
            )
            processes.append((sim, None))
            assert sim.stdout is not None
            plcs = load_pad_definition().plcs
            endpoints = {}
            for _ in plcs:
                line = await asyncio.wait_for(sim.stdout.readline(), 30.0)
                if not line:
                    await sim.wait()
                    tail = (tmp_path / "sim.err").read_text(errors="replace")[-2000:]
                    raise AssertionError(f"padctl sim exited {sim.returncode}:\n{tail}")
                endpoint = json.loads(line)
                endpoints[endpoint["id"]] = endpoint
            assert {e["host"] for e in endpoints.values()} == {pair.sim_address}, endpoints
            client = await asyncio.create_subprocess_exec(
                *pair.exec_in(pair.ctl, sys.executable, "-m", "tests.netfault_client"),
                *("--endpoints", json.dumps(list(endpoints.values())), "--rate", str(RATE)),
                *("--sequence", str(DATA / "netfault_count.yaml")),
                *("--lcc", str(DATA / "netfault_lcc.yaml")),
                *("--journal", str(tmp_path / "journal.sqlite"), "--watch", *WATCHED.values()),
                cwd=REPO,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors[1],
            )
            processes.append((client, b"quit\n"))
            rig = NetfaultRig(pair=pair, endpoints=endpoints, client=client)
            assert client.stdout is not None
            line = await asyncio.wait_for(client.stdout.readline(), 40.0)
            if not line:
                await client.wait()
                tail = (tmp_path / "client.err").read_text(errors="replace")[-2000:]
                raise AssertionError(f"the client exited {client.returncode}:\n{tail}")
            ready = json.loads(line)
            assert ready.get("ready") is True, ready

            def on_client(record: dict[str, Any]) -> None:
                if "obs" in record:
                    rig.observations.append(record["obs"])
                    rig.updated.set()
                elif "reply" in record:
                    rig.replies.put_nowait(record)

            def on_sim(record: dict[str, Any]) -> None:
                if "write" in record:
                    rig.writes.append(record["write"])
                    rig.updated.set()

            readers.append(asyncio.create_task(_read_lines(client.stdout, on_client)))
            readers.append(asyncio.create_task(_read_lines(sim.stdout, on_sim)))
            yield rig
        finally:
            for process, quit_line in reversed(processes):  # padctl first, then its PLCs
                await _end(process, quit_line=quit_line)
            await asyncio.gather(*readers, return_exceptions=True)


# ---- what reached the PLCs against what padctl journaled -------------------------------------


def _register_values(definition: PadDefinition, tag_name: str, value: object) -> list[Any]:
    tag = definition.tag(tag_name)
    if tag.type is TagType.BOOL:
        return [bool(value)]
    plc = definition.plc(tag.plc)
    assert isinstance(plc, ModbusPlc) and isinstance(value, int | float)
    return encode_registers(tag, value, plc.word_order)


def write_problems(journal_path: Path, writes: list[dict[str, Any]]) -> list[str]:
    """Every write a PLC received twice, or that padctl did not journal (a wrong register).

    A write journaled `sent` must arrive exactly once, in journal order. One journaled
    `failed` (or with no outcome: the client stopped first) may arrive once or not at all:
    its reply may be what was lost. It may also arrive late, after newer writes: padctl
    closes a connection it gave up on gracefully, so the kernel still delivers it (a padctl
    bug, played deterministically in tests/test_hil_proxy.py). Heartbeat counters are not
    journaled: each may arrive at most once.
    """
    definition = load_pad_definition()
    with Journal(journal_path, clock=ScaledClock(1.0)) as journal:
        entries = journal.entries(kinds=["command_sent", "command_outcome"])
    journaled: dict[tuple[str, str, int], list[tuple[list[Any], bool]]] = {}
    open_rows: dict[str, list[int]] = {}
    for entry in entries:
        payload = entry.payload
        tag = definition.tag(payload["tag"])
        plc = definition.plc(tag.plc)
        if not isinstance(plc, ModbusPlc):
            continue  # the OPC UA simulator reports no writes
        address = ModbusAddress.parse(tag.address)
        key = (plc.id, address.table.value, address.offset)
        rows = journaled.setdefault(key, [])
        if entry.kind == "command_sent":
            rows.append((_register_values(definition, tag.name, payload["value"]), False))
            open_rows.setdefault(tag.name, []).append(len(rows) - 1)
        elif open_rows.get(tag.name):
            index = open_rows[tag.name].pop(0)
            rows[index] = (rows[index][0], payload["outcome"] == "sent")
    heartbeat_keys = set()
    for plc in definition.plcs:
        if isinstance(plc, ModbusPlc) and plc.heartbeat is not None:
            address = ModbusAddress.parse(definition.tag(plc.heartbeat.padctl_counter_tag).address)
            heartbeat_keys.add((plc.id, address.table.value, address.offset))
    received: dict[tuple[str, str, int], list[list[Any]]] = {}
    for write in writes:
        key = (write["plc"], write["table"], write["offset"])
        received.setdefault(key, []).append(write["values"])
    problems = []
    for key, values in received.items():
        if key in heartbeat_keys:
            counters = [v[0] for v in values]
            if len(set(counters)) != len(counters):
                problems.append(f"{key}: a heartbeat counter arrived twice: {counters}")
        elif key not in journaled:
            problems.append(f"{key}: {len(values)} write(s) padctl never journaled: {values}")
    for key, rows in journaled.items():
        if not _explains(tuple(rows), tuple(map(tuple, received.get(key, [])))):
            problems.append(f"{key}: journaled {rows} but the PLC received {received.get(key)}")
    return problems


def _explains(
    rows: tuple[tuple[list[Any], bool], ...], arrived: tuple[tuple[Any, ...], ...]
) -> bool:
    """Whether the journal rows (values, confirmed) account for the writes that `arrived`.

    Confirmed rows arrive exactly once, in order; unconfirmed ones at most once, no earlier
    than their place in the journal but possibly later (delivered late).
    """

    @functools.cache
    def search(next_arrival: int, next_row: int, waiting: frozenset[int]) -> bool:
        if next_arrival == len(arrived):
            return all(not confirmed for _, confirmed in rows[next_row:])
        values = arrived[next_arrival]
        for row in waiting:  # an unconfirmed write arriving late
            if tuple(rows[row][0]) == values and search(
                next_arrival + 1, next_row, waiting - {row}
            ):
                return True
        if next_row == len(rows):
            return False
        row_values, confirmed = rows[next_row]
        if tuple(row_values) == values and search(next_arrival + 1, next_row + 1, waiting):
            return True
        return not confirmed and search(next_arrival, next_row + 1, waiting | {next_row})

    return search(0, 0, frozenset())


def _all_good(observation: Observation) -> bool:
    return all(quality == "GOOD" for quality in observation["q"].values())


# ---- the tests -------------------------------------------------------------------------------


async def test_partition_of_one_plc_holds_the_count_until_resumed(tmp_path: Path) -> None:
    async with netfault_rig(tmp_path) as rig:
        assert (await rig.ask("start"))["ok"]
        await rig.wait(lambda o: o["sub"]["ground_power"] == "ON_EXTERNAL", 20.0)

        cut_at = time.monotonic()
        await rig.pair.partition_port(rig.port("PROP"))
        lost = await rig.wait(lambda o: o["q"][WATCHED["PROP"]] != "GOOD", 5.0)
        assert lost["q"][WATCHED["PROP"]] == "STALE", lost  # from age, not a connection flag
        went_stale_s = lost["mono"] - cut_at
        assert STALE_AFTER_WALL_S - 0.1 <= went_stale_s <= STALE_AFTER_WALL_S + 0.6, went_stale_s
        held = await rig.wait(lambda o: o["count"] == "HOLDING", 3.0)
        assert "LCC-PROP-001" in held["hold"] and "STALE" in held["hold"], held
        assert held["sub"]["erector"] == "HORIZONTAL", held  # the raise (T-00:19:00) not yet

        refusal = await rig.ask("check lox_loading start_chilldown")
        assert not refusal["ok"] and "STALE" in refusal["error"], refusal
        assert (await rig.ask("check erector raise"))["ok"]  # its PLC is still GOOD

        frozen = await rig.wait(lambda o: o["mono"] >= held["mono"] + 1.0, 5.0)
        assert frozen["count"] == "HOLDING" and frozen["t"] == held["t"], (held, frozen)
        healed_at = time.monotonic()
        await rig.pair.heal()
        during = rig.between(cut_at + 0.1, healed_at)
        others = [tag for plc, tag in WATCHED.items() if plc != "PROP"]
        not_good = [o for o in during if any(o["q"][tag] != "GOOD" for tag in others)]
        assert not not_good, f"a PLC that was not cut off lost its data: {not_good[:3]}"

        good = await rig.wait(_all_good, 8.0)
        later = await rig.wait(lambda o: o["mono"] >= good["mono"] + 1.5, 5.0)
        window = rig.between(good["mono"], later["mono"])
        assert all(o["count"] == "HOLDING" for o in window), "the count resumed by itself"
        assert later["t"] == held["t"], (held, later)

        refused = await rig.ask("resume")  # a resume needs every position's GO
        assert not refused["ok"] and "poll" in refused["error"].lower(), refused
        assert (await rig.ask("poll-go"))["ok"]
        assert (await rig.ask("resume"))["ok"]
        await rig.wait(lambda o: o["sub"]["erector"] in ("RAISING", "VERTICAL"), 15.0)
        raise_cmd = ModbusAddress.parse(load_pad_definition().tag("ERC-M-501-RAISE-CMD").address)
        await rig.wait_write(  # the raise reached its PLC after the partition healed
            lambda w: (
                (w["plc"], w["table"], w["offset"], w["values"])
                == ("MECH", raise_cmd.table.value, raise_cmd.offset, [True])
            ),
            10.0,
        )
    problems = write_problems(tmp_path / "journal.sqlite", rig.writes)
    assert not problems, "\n".join(problems)


async def test_packet_loss_holds_the_count_and_writes_nothing_twice(tmp_path: Path) -> None:
    async with netfault_rig(tmp_path) as rig:
        assert (await rig.ask("start"))["ok"]
        await rig.wait(lambda o: o["sub"]["ground_power"] == "ON_EXTERNAL", 20.0)

        loss_at = time.monotonic()
        await rig.pair.lose_packets(0.7)
        await rig.wait(lambda o: not _all_good(o), 10.0)
        held = await rig.wait(lambda o: o["count"] == "HOLDING", 10.0)
        assert "STALE" in held["hold"], held
        # Commands on a lossy link: each write is journaled, then lost, late or answered.
        for subsystem in ("ground_power", "erector"):
            assert (await rig.ask(f"safe {subsystem}", timeout_s=30.0))["ok"]
        healed_at = time.monotonic()
        await rig.pair.heal()
        qualities = {q for o in rig.between(loss_at, healed_at) for q in o["q"].values()}
        assert qualities <= {"GOOD", "STALE"}, qualities  # lost data is STALE, never BAD

        good = await rig.wait(_all_good, 10.0)
        later = await rig.wait(lambda o: o["mono"] >= good["mono"] + 1.5, 5.0)
        window = rig.between(held["mono"], later["mono"])
        assert all(o["count"] == "HOLDING" for o in window), "the count resumed by itself"
        assert later["t"] == held["t"], (held, later)
    problems = write_problems(tmp_path / "journal.sqlite", rig.writes)
    assert not problems, "\n".join(problems)
    assert sum(1 for w in rig.writes if w["plc"] == "SAFE") >= 3  # heartbeats and the energize
