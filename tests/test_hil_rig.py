"""HIL rigs: rig files and their errors, `padctl hil check`, and the write guards on a bench."""

from __future__ import annotations

import asyncio
import re
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from asyncua.common.callback import CallbackType

from hil.rig import RigError, load_rig
from padctl.clock import ScaledClock
from padctl.definition import ModbusTable, PadDefinition, Tag, reference_pad_path
from padctl.journal import AsyncJournal, Journal
from padctl.plant import Plant, TagValue, WriteRefused
from simulators.modbus_plc import ModbusPlcServer
from simulators.opcua_plc import OpcUaPlcServer
from simulators.pad import SimulatedPad
from tests.processes import PADCTL, run_padctl

RIGS = Path(__file__).resolve().parents[1] / "hil" / "rigs"
SIM_PROCESSES = RIGS / "sim-processes.yaml"
PROP_BENCH = RIGS / "prop-bench.yaml"
REFERENCE = reference_pad_path()


def _write_rig(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rig.yaml"
    path.write_text(textwrap.dedent(text).replace("#!", ""), encoding="utf-8")
    return path


def _marked_line(text: str) -> int:
    return next(n for n, line in enumerate(textwrap.dedent(text).splitlines(), 1) if "#!" in line)


# ---- rig files ---------------------------------------------------------------------------


def test_shipped_rigs_load_with_their_subsets_and_allow_lists() -> None:
    sims = load_rig(SIM_PROCESSES)
    assert [plc.id for plc in sims.definition.plcs] == ["PROP", "GAS", "MECH", "SAFE", "VEH"]
    assert sims.from_sim == ["PROP", "GAS", "MECH", "SAFE", "VEH"] and sims.clock_rate == 4
    assert sims.allowances["LOX-CV-101-SP"].range == (0, 80)
    assert "PROP-HB-PADCTL" not in sims.allowances  # the heartbeat writes it, not commands
    assert len(sims.checkout_subsystems) == 11
    bench = load_rig(PROP_BENCH)
    assert [plc.id for plc in bench.definition.plcs] == ["PROP"]
    assert bench.clock_rate == 1 and bench.from_sim == []
    assert bench.definition.plc("PROP").model_dump()["host"] == "10.45.92.11"
    assert not bench.definition.has_tag("RG1-E-001-CMD")  # excluded: skid not on the bench
    assert "LOX-P-001-CMD" not in bench.allowances  # never a pump on the bench
    assert bench.checkout_subsystems == ()
    with pytest.raises(RigError, match="from-sim"):
        sims.definition_at({})  # ports come from the simulators or --endpoint
    live = sims.definition_at({plc: ("127.0.0.1", 1000 + n) for n, plc in enumerate(sims.from_sim)})
    assert live.plc("GAS").model_dump()["endpoint"] == "opc.tcp://127.0.0.1:1001/padctl/gas"


_BASE = f"""\
rig: test-rig
pad: {REFERENCE}
plcs:
  - {{id: PROP, host: 127.0.0.1, port: 15021}}
"""

# (rig file text with #! on the line the problem is on, field named, words of the problem)
_BROKEN = {
    "yaml syntax": (_BASE + "tags: include: [LOX-*] #!\n", "yaml", "mapping values"),
    "not a mapping": (
        "- just #!\n- a list\n",
        "document",
        "expected a mapping of keys to values, found a list",
    ),
    "unknown key": (_BASE + "rate_limit: 3 #!\n", "rate_limit", "Extra inputs"),
    "missing pad": ("rig: test-rig #!\nplcs:\n  - {id: PROP}\n", "pad", "Field required"),
    "bad rig name": (_BASE.replace("rig: test-rig", "rig: Test Rig #!"), "rig", "pattern"),
    "pad file missing": (
        _BASE.replace(f"pad: {REFERENCE}", "pad: no-such-pad.yaml #!"),
        "pad",
        "cannot load pad definition",
    ),
    "unknown PLC": (_BASE + "  - {id: FUEL} #!\n", "plcs[FUEL].id", "no PLC 'FUEL'"),
    "PLC twice": (_BASE + "  - {id: PROP} #!\n", "plcs[PROP].id", "listed twice"),
    "from-sim without simulators": (
        _BASE.replace("port: 15021}", "port: from-sim} #!"),
        "plcs[PROP].port",
        "needs a simulators section",
    ),
    "port neither number nor from-sim": (
        _BASE.replace("port: 15021}", "port: auto} #!"),
        "plcs[PROP].port",
        "neither a number nor from-sim",
    ),
    "unknown tag": (
        _BASE + "tags:\n  include: [LOX-XX-999] #!\n",
        "tags.include[LOX-XX-999]",
        "unknown tag",
    ),
    "tag of a PLC not on the rig": (
        _BASE + "tags:\n  include: [GN2-PT-201] #!\n",
        "tags.include[GN2-PT-201]",
        "PLC GAS, which is not on this rig",
    ),
    "glob matching nothing": (
        _BASE + "tags:\n  include: ['*']\n  exclude: ['GN2-*'] #!\n",
        "tags.exclude[GN2-*]",
        "matches no tag",
    ),
    "heartbeat counter left out": (
        _BASE + "tags: #!\n  exclude: [PROP-HB-PLC]\n",
        "tags",
        "heartbeat counter PROP-HB-PLC",
    ),
    "allow a read-only tag": (
        _BASE + "writes:\n  allow: [LOX-PT-001] #!\n",
        "writes.allow[LOX-PT-001].tag",
        "not writable in the pad definition",
    ),
    "allow the heartbeat counter": (
        _BASE + "writes:\n  allow: [PROP-HB-PADCTL] #!\n",
        "writes.allow[PROP-HB-PADCTL].tag",
        "heartbeat writes it",
    ),
    "allow a tag twice": (
        _BASE + "writes:\n  allow:\n    - LOX-FV-101-CMD\n    - LOX-FV-101-CMD #!\n",
        "writes.allow[LOX-FV-101-CMD].tag",
        "allowed twice",
    ),
    "allow glob matching nothing": (
        _BASE + "writes:\n  allow: ['GN2-*'] #!\n",
        "writes.allow[GN2-*].tag",
        "matches no writable tag",
    ),
    "range on a bool": (
        _BASE + "writes:\n  allow:\n    - {tag: LOX-FV-101-CMD, range: [0, 1]} #!\n",
        "writes.allow[LOX-FV-101-CMD].range",
        "takes no range",
    ),
    "range wider than the pad's": (
        _BASE + "writes:\n  allow:\n    - {tag: LOX-CV-101-SP, range: [0, 120]} #!\n",
        "writes.allow[LOX-CV-101-SP].range",
        "wider than the pad's",
    ),
    "range without the safe value": (
        _BASE + "writes:\n  allow:\n    - {tag: LOX-CV-101-SP, range: [10, 50]} #!\n",
        "writes.allow[LOX-CV-101-SP].range",
        "leaves out its safe value 0",
    ),
    "range upside down": (
        _BASE + "writes:\n  allow:\n    - {tag: LOX-CV-101-SP, range: [50, 10]} #!\n",
        "writes.allow[LOX-CV-101-SP].range",
        "must be below",
    ),
    "rate limit of zero": (
        _BASE + "writes:\n  max_writes_per_s: 0 #!\n",
        "writes.max_writes_per_s",
        "greater than or equal to 1",
    ),
    "unknown contract test": (
        _BASE + "contract:\n  tests: [reads, smoke] #!\n",
        "contract.tests[smoke]",
        "Input should be",
    ),
    "unknown subsystem": (
        _BASE + "contract:\n  checkout: [lox_pumping] #!\n",
        "contract.checkout[lox_pumping]",
        "no subsystem 'lox_pumping'",
    ),
    "subsystem not on the rig": (
        _BASE + "contract:\n  checkout: [lox_loading] #!\n",
        "contract.checkout[lox_loading]",
        "not on this rig",
    ),
    "watchdog probe not allowed": (
        _BASE + "contract:\n  watchdog_tags: {PROP: LOX-FV-101-CMD} #!\n",
        "contract.watchdog_tags.PROP",
        "not on the rig's write allow-list",
    ),
    "fast simulators beside a real PLC": (
        _BASE + "simulators:\n  rate: 5 #!\n",
        "simulators.rate",
        "runs in real time",
    ),
}


@pytest.mark.parametrize("case", list(_BROKEN), ids=list(_BROKEN))
def test_rig_file_errors_name_file_line_and_field(tmp_path: Path, case: str) -> None:
    text, field, words = _BROKEN[case]
    path = _write_rig(tmp_path, text)
    with pytest.raises(RigError) as caught:
        load_rig(path)
    expected = f"{path}:{_marked_line(text)}: {field}: "
    matching = [p for p in caught.value.problems if p.startswith(expected) and words in p]
    assert matching, f"no problem starting {expected!r} with {words!r} in {caught.value.problems}"


def test_every_problem_of_a_rig_file_is_reported_at_once(tmp_path: Path) -> None:
    path = _write_rig(
        tmp_path,
        _BASE
        + "  - {id: FUEL}\nwrites:\n  allow: [LOX-PT-001, {tag: LOX-CV-101-SP, range: [0, 200]}]\n",
    )
    with pytest.raises(RigError) as caught:
        load_rig(path)
    assert len(caught.value.problems) == 3
    lines = [int(problem.split(":")[1]) for problem in caught.value.problems]
    assert lines == sorted(lines) == [5, 7, 7]


# ---- padctl hil check ----------------------------------------------------------------------


_ROW = re.compile(r"^(ok|MISMATCH)\s+(\S+)\s+(\S+)\s+(read|heartbeat)\s")


def _rows(output: str) -> dict[tuple[str, str], str]:
    rows = {}
    for line in output.splitlines():
        if match := _ROW.match(line):
            rows[(match.group(3), match.group(4))] = match.group(1)
    return rows


async def test_check_against_the_simulator_processes_matches_every_tag() -> None:
    code, out, err = await run_padctl("hil", "check", str(SIM_PROCESSES), timeout_s=40)
    assert code == 0, err
    rows = _rows(out)
    rig = load_rig(SIM_PROCESSES)
    assert {tag for tag, check in rows if check == "read"} == {t.name for t in rig.definition.tags}
    assert {tag for tag, check in rows if check == "heartbeat"} == {
        f"{plc}-HB-PLC" for plc in ("PROP", "GAS", "MECH", "SAFE", "VEH")
    }
    assert set(rows.values()) == {"ok"}
    assert f"{len(rows)} matched, 0 did not" in out
    # The reference pad's OPC UA PLC talks without security: said, not refused.
    assert "warning: PLC GAS talks OPC UA without security (policy None)" in err
    assert "warning: PLC GAS logs in anonymously" in err


async def test_check_reports_each_mismatch_and_exits_non_zero(tmp_path: Path) -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    for original, wrong in (
        (
            "{name: LOX-PT-001, plc: PROP, type: float32",
            "{name: LOX-PT-001, plc: PROP, type: int32",
        ),
        ('scale: 0.1, address: "ir:5"', 'scale: 0.1, address: "ir:60"'),
        (
            "{name: GN2-PT-201, plc: GAS, type: float64",
            "{name: GN2-PT-201, plc: GAS, type: float32",
        ),
        ('address: "GN2-PT-202"', 'address: "GN2-PT-299"'),
    ):
        assert text.count(original) == 1, original
        text = text.replace(original, wrong)
    (tmp_path / "next-plc-program.yaml").write_text(text, encoding="utf-8")
    rig = _write_rig(
        tmp_path,
        f"""\
        rig: program-under-test
        pad: next-plc-program.yaml
        plcs:
          - {{id: PROP, port: from-sim}}
          - {{id: GAS, port: from-sim}}
        simulators: {{pad: {REFERENCE}}}
        """,
    )
    code, out, err = await run_padctl("hil", "check", str(rig), timeout_s=40)
    assert code == 1, err
    rows = _rows(out)
    mismatched = {tag for (tag, _check), result in rows.items() if result == "MISMATCH"}
    assert mismatched == {"LOX-PT-001", "LOX-TT-001", "GN2-PT-201", "GN2-PT-202"}
    details = {line.split()[2]: line for line in out.splitlines() if line.startswith("MISMATCH")}
    assert "outside range [0, 6] bar" in details["LOX-PT-001"]
    assert "address ir:60 missing at the PLC" in details["LOX-TT-001"]
    assert "so padctl's block read fails: PLC PROP refused read ir:0+61" in details["LOX-TT-001"]
    assert "node sends Double, a float32 tag needs Float" in details["GN2-PT-201"]
    assert "node 'GN2-PT-299' missing" in details["GN2-PT-202"]
    assert rows[("PROP-HB-PLC", "heartbeat")] == rows[("GAS-HB-PLC", "heartbeat")] == "ok"
    assert f"{len(rows) - 4} matched, 4 did not" in out


class _WriteRecord:
    """Every write any client makes to a simulated pad's PLCs, as the servers see them."""

    def __init__(self, sim: SimulatedPad) -> None:
        self.writes: list[tuple[str, str]] = []
        for plc_id, simulated in sim.plcs.items():
            server = simulated.server
            if isinstance(server, ModbusPlcServer):
                server.write_listeners.append(self._modbus(plc_id))
            else:
                assert isinstance(server, OpcUaPlcServer)
                # The simulated OPC UA PLC has no write listener of its own: asyncua's hook.
                server._server.subscribe_server_callback(  # type: ignore[union-attr]
                    CallbackType.PostWrite, self._opcua(plc_id)
                )

    def _modbus(self, plc_id: str):  # type: ignore[no-untyped-def]
        def heard(table: ModbusTable, offset: int, values: object) -> None:
            self.writes.append((plc_id, f"{table.value}:{offset}"))

        return heard

    def _opcua(self, plc_id: str):  # type: ignore[no-untyped-def]
        async def heard(event: object, _dispatcher: object) -> None:
            if not event.is_external:  # type: ignore[attr-defined]
                return  # the server keeping its own status nodes current
            for item in event.request_params.NodesToWrite:  # type: ignore[attr-defined]
                self.writes.append((plc_id, str(item.NodeId.Identifier)))

        return heard


@asynccontextmanager
async def _simulated_pad(
    definition: PadDefinition,
) -> AsyncIterator[tuple[SimulatedPad, _WriteRecord, list[str]]]:
    sim = SimulatedPad(definition, ScaledClock(1.0))
    live = await sim.start()
    try:
        record = _WriteRecord(sim)
        endpoints = [f"{plc.id}=127.0.0.1:{sim.plcs[plc.id].port}" for plc in live.plcs]
        yield sim, record, [arg for endpoint in endpoints for arg in ("--endpoint", endpoint)]
    finally:
        await sim.stop()


async def test_check_writes_nothing_to_any_plc(tmp_path: Path) -> None:
    async with _simulated_pad(load_rig(SIM_PROCESSES).definition) as (_sim, record, endpoints):
        code, out, err = await run_padctl(
            "hil", "check", str(SIM_PROCESSES), *endpoints, timeout_s=40
        )
        assert code == 0, err + out
        assert record.writes == []
        # The record hears writes: the same rig, written to, shows them (heartbeats too).
        code, out, err = await run_padctl(
            "hil", "write", str(SIM_PROCESSES), "GHE-VV-311-CMD", "false", "--yes",
            "--journal", str(tmp_path / "journal.sqlite"), *endpoints, timeout_s=40,
        )  # fmt: skip
        assert code == 0, err
    assert ("GAS", "GHE-VV-311-CMD") in record.writes
    assert {plc for plc, _address in record.writes} == {"PROP", "GAS", "MECH", "SAFE", "VEH"}


# ---- guards on a bench: padctl hil write ---------------------------------------------------


async def _hil_write(*args: str, answer: str | None = None) -> tuple[int, str, str]:
    """`padctl hil write ...` with `answer` typed at its prompt (stdin closed if None)."""
    process = await asyncio.create_subprocess_exec(
        PADCTL,
        "hil",
        "write",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    typed = (answer + "\n").encode() if answer is not None else b""
    out, err = await asyncio.wait_for(process.communicate(typed), 40)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@asynccontextmanager
async def _prop_bench(tmp_path: Path) -> AsyncIterator[tuple[_WriteRecord, list[str]]]:
    """The prop-bench rig's PROP PLC simulated here (static tables: no physics needed)."""
    async with _simulated_pad(load_rig(PROP_BENCH).definition) as (_sim, record, endpoints):
        yield record, [*endpoints, "--journal", str(tmp_path / "journal.sqlite")]


def _journal(tmp_path: Path) -> list[tuple[str, dict[str, object]]]:
    with Journal(tmp_path / "journal.sqlite", clock=ScaledClock(1.0)) as journal:
        return [(entry.kind, entry.payload) for entry in journal.entries()]


async def test_a_write_off_the_allow_list_or_range_is_refused_and_journaled(
    tmp_path: Path,
) -> None:
    async with _prop_bench(tmp_path) as (record, args):
        code, _out, err = await _hil_write(str(PROP_BENCH), "LOX-P-001-CMD", "true", *args)
        assert code == 1 and "rig prop-bench allow-list: LOX-P-001-CMD is not on it" in err
        code, _out, err = await _hil_write(str(PROP_BENCH), "LOX-CV-101-SP", "50", "--yes", *args)
        assert code == 1 and "rig prop-bench range: 50.0 % outside the rig's [0, 20] %" in err
    assert record.writes == []  # refused before anything started: not even a heartbeat
    journal = _journal(tmp_path)
    assert [kind for kind, _payload in journal] == ["write_refused", "write_refused"]
    assert [payload["tag"] for _kind, payload in journal] == ["LOX-P-001-CMD", "LOX-CV-101-SP"]
    assert "allow-list" in str(journal[0][1]["reason"]) and "range" in str(journal[1][1]["reason"])


async def test_a_dry_run_journals_the_write_and_writes_nothing(tmp_path: Path) -> None:
    async with _prop_bench(tmp_path) as (record, args):
        code, out, err = await _hil_write(
            str(PROP_BENCH), "LOX-FV-101-CMD", "true", "--dry-run", *args
        )
        assert code == 0, err
        assert "dry run: would write LOX-FV-101-CMD = true (now false)" in out
        assert "Write to this rig?" not in err  # nothing is written, nothing to confirm
    assert record.writes == []
    assert [(kind, payload["tag"]) for kind, payload in _journal(tmp_path)] == [
        ("write_dry_run", "LOX-FV-101-CMD")
    ]


async def test_the_first_write_waits_for_the_operator(tmp_path: Path) -> None:
    async with _prop_bench(tmp_path) as (record, args):
        code, _out, err = await _hil_write(
            str(PROP_BENCH), "LOX-FV-101-CMD", "true", *args, answer="n"
        )
        assert code == 1 and "Write to this rig? [y/N]" in err
        assert "confirmation: the operator declined" in err
        assert record.writes == []  # declined: no command, no heartbeat
        code, out, err = await _hil_write(
            str(PROP_BENCH), "LOX-FV-101-CMD", "true", *args, answer="y"
        )
        assert code == 0 and "Write to this rig? [y/N]" in err, err
        assert "wrote LOX-FV-101-CMD = true; read back true (GOOD)" in out
        assert ("PROP", "co:4") in record.writes  # LOX-FV-101-CMD's coil
        heard = len(record.writes)
        code, out, err = await _hil_write(str(PROP_BENCH), "LOX-FV-102-CMD", "true", "--yes", *args)
        assert code == 0 and "Write to this rig?" not in err, err
        assert ("PROP", "co:5") in record.writes[heard:]
    kinds = [(kind, payload.get("tag")) for kind, payload in _journal(tmp_path)]
    assert kinds == [
        ("write_refused", "LOX-FV-101-CMD"),
        ("command_sent", "LOX-FV-101-CMD"),
        ("command_outcome", "LOX-FV-101-CMD"),
        ("command_sent", "LOX-FV-102-CMD"),
        ("command_outcome", "LOX-FV-102-CMD"),
    ]


async def test_the_guard_in_the_plant_limits_rates_but_never_a_safe_value(tmp_path: Path) -> None:
    rig = load_rig(PROP_BENCH)  # 1 write per s per tag, 10 per s overall
    asked: list[str] = []

    async def operator_says_yes(tag: Tag, value: TagValue) -> bool:
        asked.append(tag.name)
        return True

    clock = ScaledClock(1.0)
    async with _simulated_pad(rig.definition) as (sim, record, _args):
        definition = rig.definition.with_plc_endpoint(
            "PROP", host="127.0.0.1", port=sim.plcs["PROP"].port
        )
        guard = rig.write_guard(confirm=operator_says_yes)
        async with AsyncJournal(tmp_path / "journal.sqlite", clock=clock) as journal:
            plant = Plant(definition=definition, clock=clock, journal=journal, write_guard=guard)
            async with plant:
                assert await plant.wait_connected(10.0)
                valve = definition.tag("LOX-FV-103-CMD")
                await plant.write(valve.name, True, actor="test")
                assert guard.delay_s(valve, True, clock.now()) > 0  # must wait its second out
                with pytest.raises(WriteRefused, match="rate limit: 1 writes to LOX-FV-103-CMD"):
                    await plant.write(valve.name, True, actor="test")
                await plant.write(valve.name, False, actor="test")  # the safe value: never refused
                await clock.sleep(guard.delay_s(valve, True, clock.now()))
                await plant.write(valve.name, True, actor="test")  # a second later: allowed
                await plant.write(valve.name, False, actor="test")
            entries = [(e.kind, e.payload.get("value")) for e in await journal.entries()]
    assert asked == ["LOX-FV-103-CMD"]  # asked once, before the first write
    assert entries == [
        ("command_sent", True),
        ("command_outcome", True),
        ("write_refused", True),
        ("command_sent", False),
        ("command_outcome", False),
        ("command_sent", True),
        ("command_outcome", True),
        ("command_sent", False),
        ("command_outcome", False),
    ]
    assert [address for plc, address in record.writes if address == "co:3"] == ["co:3"] * 4


async def test_a_declined_guard_refuses_every_write_after(tmp_path: Path) -> None:
    rig = load_rig(PROP_BENCH)

    async def operator_says_no(tag: Tag, value: TagValue) -> bool:
        return False

    clock = ScaledClock(1.0)
    guard = rig.write_guard(confirm=operator_says_no)
    async with AsyncJournal(tmp_path / "journal.sqlite", clock=clock) as journal:
        plant = Plant(definition=rig.definition, clock=clock, journal=journal, write_guard=guard)
        for tag, value in (("LOX-FV-101-CMD", True), ("LOX-VV-001-CMD", True)):
            with pytest.raises(WriteRefused, match="confirmation: the operator declined"):
                await plant.write(tag, value, actor="test")
        refused = await journal.entries(kinds={"write_refused"})
    assert guard.declined and len(refused) == 2
