"""Redundancy that buys something (LCC `min_good`), and failed sensors that never look like
values (a tag's `fail_raw` / `status_tag`), from the table to a count on the simulated pad."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient

from padctl.alarms import AlarmError, AlarmManager, AlarmPriority, AlarmState
from padctl.clock import ManualClock, ScaledClock
from padctl.countdown import (
    Countdown,
    DisqualificationAlarms,
    LccError,
    LccMonitor,
    load_lcc,
    load_sequence,
)
from padctl.definition import (
    DefinitionError,
    ModbusPlc,
    PadDefinition,
    WordOrder,
    load_pad_definition,
)
from padctl.plant import ModbusHub, Quality, TagTable, plan_read_blocks
from simulators._codec import modbus_registers, opcua_raw
from simulators.pad import SimulatedPad
from simulators.pad_model import PadModel
from tests.pad_rig import pad_rig
from tests.plc_fixtures import MODBUS_TEST_PAD, write_definition

ENCODERS = """\
lcc:
  - id: LCC-ERC-003
    name: Erector angle at the launch position (redundant encoders)
    tags: [ERC-ZT-501, ERC-ZT-502]
    vote: 1
    min_good: 1
    low: 70
    high: 76
  - {id: LCC-ERC-013, name: Erector angle (no redundancy), tags: [ERC-ZT-501, ERC-ZT-502], vote: 2, low: 70, high: 76}
"""


def _table_and_monitor(tmp_path: Path) -> tuple[ManualClock, TagTable, LccMonitor]:
    clock = ManualClock()
    definition = load_pad_definition()
    table = TagTable(definition, clock)
    criteria = load_lcc(write_definition(tmp_path, ENCODERS, "lcc.yaml"), definition)
    return clock, table, LccMonitor(criteria, table.get)


def _put(table: TagTable, clock: ManualClock, **values: float) -> None:
    for name, value in values.items():
        table.update(
            name.replace("_", "-"), value, t_source_s=clock.now(), t_received_s=clock.now()
        )


def test_a_failed_encoder_is_disqualified_and_alarmed_not_a_hold(tmp_path: Path) -> None:
    clock, table, monitor = _table_and_monitor(tmp_path)
    alarms = AlarmManager(clock=clock, journal=None)
    sensor_alarms = DisqualificationAlarms(alarms, monitor.criteria)
    assert alarms.get("LCC-ERC-003-SENSOR").priority is AlarmPriority.HIGH
    with pytest.raises(AlarmError, match="no alarm"):
        alarms.get("LCC-ERC-013-SENSOR")  # only redundant sets get one

    def evaluate() -> list[str]:
        violations = monitor.evaluate(t_s=-60, now_s=clock.now())
        sensor_alarms.update(monitor.disqualified)
        return [f"{v.criterion.id}: {v.reason}" for v in violations]

    _put(table, clock, ERC_ZT_501=75.0, ERC_ZT_502=75.0)
    assert evaluate() == []
    # ERC-ZT-502 reports its failed channel (fail_raw, decoded to NaN): BAD, never a value.
    _put(table, clock, ERC_ZT_502=math.nan)
    assert table.get("ERC-ZT-502").quality is Quality.BAD
    assert "fail_raw 2147483647" in table.get("ERC-ZT-502").reason
    violations = evaluate()
    # The redundant set votes on without it; the default criterion still goes NO-GO.
    assert violations == ["LCC-ERC-013: ERC-ZT-502 BAD"]
    assert list(monitor.disqualified) == ["LCC-ERC-003"]
    alarm = alarms.get("LCC-ERC-003-SENSOR")
    assert alarm.state is AlarmState.UNACK and alarm.condition_active
    assert "ERC-ZT-502 BAD (channel failed: PLC MECH reports fail_raw" in alarm.detail
    # The GOOD encoder left still guards the limits (one out of the GOOD members).
    _put(table, clock, ERC_ZT_501=80.0)
    assert "LCC-ERC-003: ERC-ZT-501 = 80 > 76" in evaluate()
    # The encoder comes back: the alarm returns to normal.
    _put(table, clock, ERC_ZT_501=75.0, ERC_ZT_502=75.0)
    assert evaluate() == []
    alarm = alarms.get("LCC-ERC-003-SENSOR")
    assert alarm.state is AlarmState.RTN_UNACK and not alarm.condition_active
    # Both encoders failed: fewer than min_good GOOD members is a violation naming them.
    _put(table, clock, ERC_ZT_502=math.nan)
    clock.advance(5.0)  # ERC-ZT-501 not updated: STALE
    _put(table, clock, ERC_ZT_502=math.nan)
    reasons = evaluate()
    assert reasons[0].startswith("LCC-ERC-003: 0 of 2 GOOD, min_good 1: ERC-ZT-501 STALE")
    assert "ERC-ZT-502 BAD" in reasons[0]
    assert alarms.get("LCC-ERC-003-SENSOR").condition_active


def test_default_criteria_go_no_go_on_one_non_good_sample(tmp_path: Path) -> None:
    clock, table, monitor = _table_and_monitor(tmp_path)
    _put(table, clock, ERC_ZT_501=75.0, ERC_ZT_502=75.0)
    table.update(
        "ERC-ZT-501",
        75.0,
        t_source_s=clock.now(),
        t_received_s=clock.now(),
        quality=Quality.UNCERTAIN,
        reason="sensor drift suspected",
    )
    violations = monitor.evaluate(t_s=-60, now_s=clock.now())
    # vote 2 of 2 in limits, yet one UNCERTAIN sample: NO-GO whatever the vote.
    assert [(v.criterion.id, v.reason) for v in violations] == [
        ("LCC-ERC-013", "ERC-ZT-501 UNCERTAIN")
    ]
    assert list(monitor.disqualified) == ["LCC-ERC-003"]


def test_min_good_is_checked_on_load_with_file_and_line(tmp_path: Path) -> None:
    definition = load_pad_definition()
    too_many = write_definition(tmp_path, ENCODERS.replace("min_good: 1", "min_good: 3"), "a.yaml")
    with pytest.raises(LccError) as caught:
        load_lcc(too_many, definition)
    assert caught.value.problems == [
        f"{too_many}:6: LCC-ERC-003: min_good 3 of 2 tags is impossible"
    ]
    below_vote = write_definition(tmp_path, ENCODERS.replace("vote: 1", "vote: 2"), "b.yaml")
    with pytest.raises(LccError) as caught:
        load_lcc(below_vote, definition)
    assert caught.value.problems == [
        f"{below_vote}:6: LCC-ERC-003: min_good 1 is below vote 2: with 1 GOOD member(s) the "
        "vote could never be reached, and a violation never seen"
    ]
    zero = write_definition(tmp_path, ENCODERS.replace("min_good: 1", "min_good: 0"), "c.yaml")
    with pytest.raises(LccError, match=rf"{zero}:6: lcc.0.min_good: .*greater than or equal to 1"):
        load_lcc(zero, definition)


# ---- failed channels: the pad definition, the codec, the tag table ----------------------------


def _test_pad(tmp_path: Path, tt_extra: str, lt_extra: str = "", name: str = "pad.yaml") -> Path:
    text = MODBUS_TEST_PAD.replace(
        'scale: 0.01, address: "ir:4"}', f'scale: 0.01, address: "ir:4"{tt_extra}}}'
    ).replace('range: [0, 100], address: "ir:5"}', f'range: [0, 100], address: "ir:5"{lt_extra}}}')
    text += '  - {name: TST-LT-101-FAIL, plc: TST, type: bool, unit: "", address: "di:2"}\n'
    return write_definition(tmp_path, text, name)


def test_fail_raw_and_status_tag_are_checked_on_load(tmp_path: Path) -> None:
    good = load_pad_definition(
        _test_pad(tmp_path, ", fail_raw: -32768", ", status_tag: TST-LT-101-FAIL")
    )
    assert good.tag("TST-TT-101").fail_raw == -32768
    cases = {
        ", fail_raw: 40000": "fail_raw 40000 does not fit int16 (-32768..32767)",
        ", fail_raw: -1000": "fail_raw -1000 reads -10 K, inside range [-300.0, 300.0]",
        ", fail_raw: true": "Input should be a valid integer",
        ", status_tag: TST-XX-999": "unknown tag 'TST-XX-999'",
        ", status_tag: TST-FV-101-CMD": "a channel status must be a read-only bool tag",
        ", status_tag: TST-LT-101": "a channel status must be a read-only bool tag",
    }
    for index, (extra, message) in enumerate(cases.items()):
        path = _test_pad(tmp_path, extra, name=f"bad{index}.yaml")
        with pytest.raises(DefinitionError) as caught:
            load_pad_definition(path)
        line = 19  # TST-TT-101's line in MODBUS_TEST_PAD
        assert any(
            p.startswith(f"{path}:{line}: tags[TST-TT-101].") and message in p
            for p in caught.value.problems
        ), caught.value.problems
    floats = MODBUS_TEST_PAD.replace('address: "ir:0"}', 'address: "ir:0", fail_raw: 1}')
    with pytest.raises(DefinitionError, match="fail_raw applies to integer types only"):
        load_pad_definition(write_definition(tmp_path, floats, "float.yaml"))


def test_the_codec_puts_and_reads_the_sentinel(tmp_path: Path) -> None:
    definition = load_pad_definition(_test_pad(tmp_path, ", fail_raw: 32767"))
    tag = definition.tag("TST-TT-101")
    assert modbus_registers(tag, math.nan, WordOrder.BIG) == [0x7FFF]  # a simulated PLC's
    undeclared = tag.model_copy(update={"fail_raw": None})
    assert modbus_registers(undeclared, math.nan, WordOrder.BIG) == [0]
    assert opcua_raw(tag, math.nan) == 32767  # a simulated OPC UA PLC's
    (block,) = plan_read_blocks([tag])
    assert math.isnan(float(block.decode_registers([0x7FFF])[0]))
    assert block.decode_registers([0x7FFE])[0] == pytest.approx(327.66)


def test_a_channel_status_qualifies_its_tag_and_wakes_its_listeners(tmp_path: Path) -> None:
    definition = load_pad_definition(
        _test_pad(tmp_path, ", fail_raw: 32767", ", status_tag: TST-LT-101-FAIL")
    )
    clock = ManualClock()
    table = TagTable(definition, clock)
    changed: list[str] = []
    table.add_listener(changed.extend)
    now = {"t_source_s": 0.0, "t_received_s": 0.0}
    table.update("TST-LT-101", 42, **now)
    assert table.get("TST-LT-101").quality is Quality.UNCERTAIN  # its status never read
    assert "channel status TST-LT-101-FAIL is BAD" in table.get("TST-LT-101").reason
    table.update("TST-LT-101-FAIL", False, **now)
    assert table.get("TST-LT-101").is_good
    changed.clear()
    table.update("TST-LT-101-FAIL", True, **now)
    assert changed == ["TST-LT-101-FAIL", "TST-LT-101"]
    sample = table.get("TST-LT-101")
    assert (sample.quality, sample.reason) == (
        Quality.BAD,
        "channel failed: TST-LT-101-FAIL is true",
    )
    table.update("TST-TT-101", 327.67, **now)  # the sentinel, as a scaled value
    assert "fail_raw 32767" in table.get("TST-TT-101").reason


# ---- on the wire: simulated Modbus PLCs over 127.0.0.1 ----------------------------------------


@pytest.fixture
async def failing_pad(tmp_path: Path) -> AsyncIterator[tuple[SimulatedPad, TagTable]]:
    definition = load_pad_definition(
        _test_pad(tmp_path, ", fail_raw: 32767", ", status_tag: TST-LT-101-FAIL")
    )
    clock = ScaledClock(1.0)
    async with SimulatedPad(definition, clock, scan_wall_s=0.01) as sim:
        live: PadDefinition = sim.definition
        plc = live.plc("TST")
        assert isinstance(plc, ModbusPlc)
        table = TagTable(live, clock)
        hub = ModbusHub(plc=plc, tags=live.tags_of("TST"), table=table, clock=clock)
        await hub.start()
        try:
            assert await hub.wait_connected(5.0)
            yield sim, table
        finally:
            await hub.stop()


async def test_a_nan_on_an_integer_tag_reads_bad_not_zero(
    failing_pad: tuple[SimulatedPad, TagTable],
) -> None:
    sim, table = failing_pad
    await sim.set_values("TST", {"TST-TT-101": 20.5, "TST-LT-101": 42})
    assert await table.wait_for(
        lambda t: t.get("TST-TT-101").is_good and t.get("TST-LT-101").is_good, timeout_s=5.0
    )
    await sim.set_values("TST", {"TST-TT-101": math.nan, "TST-LT-101": math.nan})
    assert await table.wait_for(
        lambda t: not t.get("TST-TT-101").is_good and not t.get("TST-LT-101").is_good,
        timeout_s=5.0,
    )
    failed = table.get("TST-TT-101")
    assert failed.quality is Quality.BAD and math.isnan(float(failed.value or 0))
    assert failed.reason == "channel failed: PLC TST reports fail_raw 32767"
    status = table.get("TST-LT-101")
    assert (status.quality, status.reason) == (
        Quality.BAD,
        "channel failed: TST-LT-101-FAIL is true",
    )
    await sim.set_values("TST", {"TST-TT-101": 20.5, "TST-LT-101": 42})
    assert await table.wait_for(
        lambda t: t.get("TST-TT-101").is_good and t.get("TST-LT-101").is_good, timeout_s=5.0
    )


async def test_the_nan_fault_puts_the_sentinel_on_the_reference_pads_wire() -> None:
    definition = load_pad_definition()
    clock = ScaledClock(1.0)
    model = PadModel(definition)
    async with SimulatedPad(definition, clock, process=model, scan_wall_s=0.01) as sim:
        live = sim.definition
        plc = live.plc("PROP")
        assert isinstance(plc, ModbusPlc)
        table = TagTable(live, clock)
        hub = ModbusHub(plc=plc, tags=live.tags_of("PROP"), table=table, clock=clock)
        await hub.start()
        try:
            assert await hub.wait_connected(5.0)
            assert await table.wait_for(lambda t: t.get("LOX-TT-001").is_good, timeout_s=5.0)
            model.sensor_override("LOX-TT-001", math.nan)  # the `nan LOX-TT-001` fault
            assert await table.wait_for(
                lambda t: t.get("LOX-TT-001").quality is Quality.BAD, timeout_s=5.0
            )
            assert "fail_raw 32767" in table.get("LOX-TT-001").reason
            client = AsyncModbusTcpClient(plc.host, port=plc.port, timeout=1.0)
            try:
                assert await client.connect()
                reply = await client.read_input_registers(5, count=1, device_id=plc.unit_id)
                assert reply.registers == [32767]  # LOX-TT-001 is ir:5, int16
            finally:
                client.close()
        finally:
            await hub.stop()


# ---- the count: one failed encoder no longer holds it ----------------------------------------

COUNT = """\
countdown: redundancy
profiles: [full]
positions: [test_conductor]
start: T-00:10:00
terminal_count: T-00:00:30
window: {open: 0, close: 7200}
events:
  - {at: T-00:09:59, name: Erector horizontal, expect: ["ERC-ZS-501-HORIZONTAL == true"]}
  - {at: T-00:01:00, name: Built-in hold 1, hold: BIH-1, duration: 10, poll: true}
"""
COUNT_LCC = """\
lcc:
  - {id: LCC-ERC-003, name: Erector angle (redundant encoders), tags: [ERC-ZT-501, ERC-ZT-502], vote: 1, min_good: 1, low: -1, high: 1, persistence_s: 0.5, from: T-00:10:00}
"""


@pytest.mark.slow
async def test_one_failed_encoder_no_longer_holds_the_count_both_do(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=10, specs=()) as rig:
        sequence = load_sequence(
            write_definition(tmp_path, COUNT, "count.yaml"),
            profile="full",
            definition=rig.definition,
            specs=(),
        )
        countdown = Countdown(
            sequence=sequence,
            subsystems=rig.subsystems,
            plant=rig.plant,
            clock=rig.clock,
            context=rig.context,
            lcc=load_lcc(write_definition(tmp_path, COUNT_LCC, "lcc.yaml"), rig.definition),
            alarms=rig.alarms,
        )
        try:
            await countdown.start(actor="tc")
            rig.model.sensor_override("ERC-ZT-502", math.nan)  # `nan ERC-ZT-502`: int32 encoder
            assert await rig.wait(lambda: rig.plant.read("ERC-ZT-502").quality is Quality.BAD, 30)
            assert "fail_raw" in rig.plant.read("ERC-ZT-502").reason
            alarm_raised = await rig.wait(
                lambda: rig.alarms.get("LCC-ERC-003-SENSOR").condition_active, 10
            )
            assert alarm_raised
            t_failed = countdown.t_now()
            assert await rig.wait(lambda: countdown.t_now() > t_failed + 5, 30)
            assert countdown.state.name == "COUNTING", countdown.status.hold_reason
            alarm = rig.alarms.get("LCC-ERC-003-SENSOR")
            assert alarm.state is AlarmState.UNACK and "ERC-ZT-502 BAD" in alarm.detail
            rig.model.sensor_override("ERC-ZT-502", None)
            assert await rig.wait(
                lambda: not rig.alarms.get("LCC-ERC-003-SENSOR").condition_active, 30
            )
            rig.model.sensor_override("ERC-ZT-502", math.nan)
            rig.model.sensor_override("ERC-ZT-501", math.nan)  # float32: NaN reads BAD
            assert await rig.wait(lambda: countdown.state.name == "HOLDING", 30)
            assert countdown.status.hold_reason.startswith(
                "LCC LCC-ERC-003 Erector angle (redundant encoders): 0 of 2 GOOD, min_good 1: "
            ), countdown.status.hold_reason
            assert countdown.state.name == "HOLDING"
        finally:
            await countdown.stop()
