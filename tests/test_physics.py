"""Pure pad physics and the pad model: dynamics per area, faults, stability, checkpoints."""

from __future__ import annotations

import ast
import copy
import math
import re
from pathlib import Path

import pytest

from padctl.definition import ModbusPlc, PadDefinition, TagType, WordOrder, load_pad_definition
from simulators.pad_model import PadModel, plc_status_tags
from simulators.physics import ControlValve, Motor, on_off_valve

Commands = dict[str, float | bool | int]
COARSE_SUBSTEP_S = 0.5
FLOATS = (TagType.FLOAT32, TagType.FLOAT64)


@pytest.fixture(scope="module")
def definition() -> PadDefinition:
    return load_pad_definition()


@pytest.fixture
def model(definition: PadDefinition) -> PadModel:
    return PadModel(definition)


@pytest.fixture
def coarse(definition: PadDefinition) -> PadModel:
    """A model with 0.5 s substeps, for tests spanning simulated hours (checked against fine)."""
    return PadModel(definition, max_substep_s=COARSE_SUBSTEP_S)


def command(model: PadModel, commands: Commands) -> None:
    for tag, value in commands.items():
        model.set_command(tag, value)


def run(model: PadModel, seconds: float, dt_s: float = 1.0) -> dict[str, float | bool | int]:
    """Step `seconds` in steps of `dt_s`; the measurements at the end."""
    for _ in range(round(seconds / dt_s)):
        model.step(dt_s)
    return model.measurements()


def value(model: PadModel, tag: str) -> float:
    return float(model.measurements()[tag])


def flag(model: PadModel, tag: str) -> bool:
    measured = model.measurements()[tag]
    assert isinstance(measured, bool)
    return measured


CHILLDOWN: Commands = {"LOX-FV-001-CMD": True, "LOX-P-001-CMD": True, "LOX-FV-103-CMD": True}
FAST_FILL: Commands = {"LOX-FV-103-CMD": False, "LOX-CV-101-SP": 100.0, "LOX-FV-101-CMD": True}
ERECTOR_RAISE: Commands = {
    "ERC-P-501-CMD": True,
    "ERC-M-501-SPEED-SP": 100.0,
    "ERC-M-501-RAISE-CMD": True,
}


# ---- the reference definition and what the model makes of it --------------------------------


def test_reference_pad_has_the_plcs_and_tags_the_subsystems_expect(
    definition: PadDefinition,
) -> None:
    assert [plc.id for plc in definition.plcs] == ["PROP", "GAS", "MECH", "SAFE", "VEH"]
    assert len(definition.tags) >= 180
    names = {tag.name for tag in definition.tags}
    for plc in definition.plcs:
        assert plc.heartbeat is not None
        assert plc.heartbeat.padctl_counter_tag == f"{plc.id}-HB-PADCTL"
        assert plc.heartbeat.plc_counter_tag == f"{plc.id}-HB-PLC"
        if isinstance(plc, ModbusPlc):
            assert any(t.word_order is WordOrder.LITTLE for t in definition.tags_of(plc.id))
    for name in names:
        valve = re.fullmatch(r"(.+-(?:FV|VV|DV)-\d+)-CMD", name)
        if valve:
            assert {f"{valve[1]}-ZSO", f"{valve[1]}-ZSC"} <= names, name
        control = re.fullmatch(r"(.+-CV-\d+)-SP", name)
        if control:
            assert f"{control[1]}-ZT" in names, name
        pump = re.fullmatch(r"(.+-(?:P|FAN|E)-\d+)-CMD", name)
        if pump:
            assert f"{pump[1]}-RUN" in names, name
    assert definition.tag("LOX-PT-101").range == (0.0, 6.0)


def test_every_read_only_tag_is_produced_in_its_type(
    definition: PadDefinition, model: PadModel
) -> None:
    measured = model.measurements()
    expected = {
        tag.name
        for tag in definition.tags
        if not tag.writable and tag.name not in plc_status_tags(definition)
    }
    assert set(measured) == expected
    assert model.unmodeled_tags == []
    for name, reading in measured.items():
        tag = definition.tag(name)
        unscaled_integer = tag.type not in FLOATS and tag.scale == 1.0 and tag.offset == 0.0
        if tag.type is TagType.BOOL:
            assert isinstance(reading, bool), name
        elif unscaled_integer:
            assert isinstance(reading, int) and not isinstance(reading, bool), name
        else:
            assert isinstance(reading, float), name


def test_start_state_is_the_pad_before_erection(model: PadModel) -> None:
    start = run(model, 10.0)
    assert start["ERC-ZS-501-HORIZONTAL"] and start["ERC-ZT-501"] == 0.0
    assert start["LOX-LT-101"] == 0.0 and start["RG1-LT-101"] == 0.0
    assert float(start["LOX-LT-001"]) > 95.0 and float(start["RG1-LT-001"]) > 90.0
    assert not start["VEH-PWR-EXT"] and not start["VEH-PWR-INT"] and start["VEH-ET-901"] == 0.0
    assert start["CBM-M-601-CONNECTED"] and not start["CBM-M-601-RETRACTED"]
    for clamp in range(1, 5):
        assert start[f"HDC-M-70{clamp}-CLAMPED"] and not start[f"HDC-M-70{clamp}-RELEASED"]
    assert start["LOX-VV-101-ZSO"] and start["LOX-FV-101-ZSC"]  # safe positions
    assert start["GN2-FT-211"] > 0  # purges are fail-open
    assert not start["VEH-SEQ-READY"] and not start["VEH-LIFTOFF-1"]


def test_measurements_stay_finite_and_in_range_through_a_countdown(
    definition: PadDefinition, coarse: PadModel
) -> None:
    def check() -> None:
        for name, reading in coarse.measurements().items():
            tag = definition.tag(name)
            assert math.isfinite(float(reading)), name
            assert tag.in_range(float(reading)), (name, reading, tag.range)

    check()
    steps: list[tuple[Commands, float]] = [
        (ERECTOR_RAISE, 200),
        ({"ERC-M-501-RAISE-CMD": False, "PWR-CB-842-CMD": True, **CHILLDOWN}, 900),
        (
            {
                **FAST_FILL,
                "RG1-FV-001-CMD": True,
                "RG1-P-001-CMD": True,
                "RG1-CV-101-SP": 100,
                "RG1-FV-101-CMD": True,
            },
            2400,
        ),
        ({"LOX-VV-101-CMD": False, "RG1-VV-101-CMD": False, "LOX-CV-101-SP": 0}, 600),
        (
            {
                "GHE-FV-301-CMD": True,
                "GHE-PC-301-SP": 250,
                "GHE-VV-311-CMD": False,
                "GHE-FV-311-CMD": True,
                "GHE-FV-321-CMD": True,
                "GHE-FV-322-CMD": True,
            },
            1200,
        ),
        (
            {
                "VEH-PWR-INT-CMD": True,
                "CBM-M-601-RETRACT-CMD": True,
                "DLG-P-801-CMD": True,
                "DLG-FV-801-CMD": True,
                "HDC-ARM-CMD": True,
                "VEH-ENG-CUTOFF-CMD": False,
            },
            20,
        ),
        ({"VEH-ENG-START-CMD": True}, 5),
        ({"HDC-RELEASE-CMD": True}, 5),
        ({"VEH-ENG-CUTOFF-CMD": True, "LOX-DV-101-CMD": True, "LOX-VV-101-CMD": True}, 3600),
    ]
    for commands, seconds in steps:
        command(coarse, commands)
        for _ in range(int(seconds // 60)):
            run(coarse, 60.0)
            check()
        run(coarse, seconds % 60)
        check()
    assert flag(coarse, "VEH-LIFTOFF-1")


# ---- actuators -------------------------------------------------------------------------------


def test_valve_travels_in_its_own_time_and_switches_follow_position() -> None:
    valve = on_off_valve("LOX-FV-101", travel_time_s=4.0)
    out: dict[str, float | bool | int] = {}
    valve.command(True)
    valve.step(1.0)
    valve.outputs(out)
    assert valve.position == pytest.approx(0.25)
    assert out == {"LOX-FV-101-ZSO": False, "LOX-FV-101-ZSC": False}
    valve.step(3.0)
    valve.outputs(out)
    assert out == {"LOX-FV-101-ZSO": True, "LOX-FV-101-ZSC": False}
    valve.command(False)
    valve.step(2.0)
    assert valve.position == pytest.approx(0.5)


def test_valve_through_the_model(model: PadModel) -> None:
    model.set_command("LOX-FV-101-CMD", True)
    mid = run(model, 2.0, dt_s=0.05)
    assert not mid["LOX-FV-101-ZSO"] and not mid["LOX-FV-101-ZSC"]
    assert run(model, 2.1, dt_s=0.05)["LOX-FV-101-ZSO"]


def test_control_valve_is_rate_limited_and_clamped() -> None:
    valve = ControlValve("LOX-CV-101", stroke_time_s=20.0)
    valve.command(50.0)
    valve.step(5.0)
    assert valve.position_pct == pytest.approx(25.0)
    valve.step(20.0)
    assert valve.position_pct == pytest.approx(50.0)
    valve.command(170.0)
    assert valve.setpoint_pct == 100.0
    valve.command(math.nan)
    assert valve.setpoint_pct == 100.0


def test_pump_ramps_and_reports_running() -> None:
    pump = Motor("LOX-P-001", start_time_s=8.0, rated_speed_rpm=2950.0, speed_tag="LOX-ST-001")
    pump.command(True)
    pump.step(2.0)
    assert not pump.running
    pump.step(6.0)
    assert pump.running and pump.speed_rpm == pytest.approx(2950.0)
    pump.command(True)
    pump.step(8.0, powered=False)
    assert not pump.running


# ---- propellants -----------------------------------------------------------------------------


def chilled(model: PadModel) -> PadModel:
    command(model, CHILLDOWN)
    run(model, 1200.0)
    return model


def test_chilldown_cools_the_line_from_ambient_toward_90_k(coarse: PadModel) -> None:
    assert value(coarse, "LOX-TT-103") > 280.0
    command(coarse, CHILLDOWN)
    early = run(coarse, 120.0)
    assert 150.0 < float(early["LOX-TT-103"]) < 280.0
    late = run(coarse, 1080.0)
    assert 90.0 < float(late["LOX-TT-103"]) < 105.0
    assert late["LOX-LT-101"] == 0.0  # the bleed returns to storage


def test_fast_fill_takes_half_an_hour_and_slow_fill_longer(coarse: PadModel) -> None:
    chilled(coarse)
    command(coarse, FAST_FILL)
    run(coarse, 60.0)
    start = value(coarse, "LOX-LT-101")
    rate_pct_s = (value_after(coarse, 300.0, "LOX-LT-101") - start) / 300.0
    assert 100.0 / (40 * 60) < rate_pct_s < 100.0 / (30 * 60)
    coarse.set_command("LOX-CV-101-SP", 20.0)
    run(coarse, 60.0)
    start = value(coarse, "LOX-LT-101")
    slow_rate_pct_s = (value_after(coarse, 300.0, "LOX-LT-101") - start) / 300.0
    assert 0 < slow_rate_pct_s < rate_pct_s / 3


def value_after(model: PadModel, seconds: float, tag: str) -> float:
    return float(run(model, seconds)[tag])


def test_ullage_pressure_rises_with_vent_closed_and_falls_when_vented(coarse: PadModel) -> None:
    chilled(coarse)
    command(coarse, FAST_FILL)
    run(coarse, 1200.0)
    command(coarse, {"LOX-FV-101-CMD": False, "LOX-VV-101-CMD": False})
    before = run(coarse, 10.0)
    after = run(coarse, 300.0)
    assert float(after["LOX-PT-101"]) > float(before["LOX-PT-101"]) + 0.2
    assert float(after["LOX-TT-101"]) > float(before["LOX-TT-101"])  # saturation follows
    assert float(run(coarse, 7200.0)["LOX-PT-101"]) == pytest.approx(3.2, abs=0.01)  # relief
    coarse.set_command("LOX-VV-101-CMD", True)
    assert float(run(coarse, 60.0)["LOX-PT-101"]) < 0.5


def test_drain_returns_lox_to_storage(coarse: PadModel) -> None:
    chilled(coarse)
    command(coarse, FAST_FILL)
    loaded = run(coarse, 900.0)
    command(coarse, {"LOX-FV-101-CMD": False, "LOX-DV-101-CMD": True})
    drained = run(coarse, 600.0)
    assert float(drained["LOX-FT-102"]) > 0
    assert float(drained["LOX-LT-101"]) < float(loaded["LOX-LT-101"]) - 5
    assert float(drained["LOX-LT-001"]) > float(loaded["LOX-LT-001"])


def test_kerosene_fills_and_conditioning_heats_toward_setpoint(coarse: PadModel) -> None:
    command(
        coarse,
        {
            "RG1-FV-001-CMD": True,
            "RG1-P-001-CMD": True,
            "RG1-CV-101-SP": 100,
            "RG1-FV-101-CMD": True,
        },
    )
    after = run(coarse, 600.0)
    assert 25.0 < float(after["RG1-LT-101"]) < 40.0  # full in about 30 min
    assert float(after["RG1-FT-101"]) > 150.0  # m3/h
    command(coarse, {"RG1-E-001-CMD": True, "RG1-TC-001-SP": 25.0})
    start_c = float(after["RG1-TT-001"])
    heated = run(coarse, 1800.0)
    assert float(heated["RG1-TT-001"]) > start_c + 2.0
    assert float(heated["RG1-TT-002"]) > float(heated["RG1-TT-001"])


# ---- gases and air ---------------------------------------------------------------------------


def test_nitrogen_purges_follow_the_supply(model: PadModel) -> None:
    start = run(model, 10.0)
    assert float(start["GN2-PT-203"]) == pytest.approx(10.0, abs=0.2)
    model.set_command("GN2-FV-201-CMD", False)
    isolated = run(model, 30.0)
    assert float(isolated["GN2-PT-203"]) < 1.0 and float(isolated["GN2-FT-211"]) < 0.02


def test_helium_loads_spheres_and_pressurizes_tanks(coarse: PadModel) -> None:
    command(
        coarse,
        {
            "GHE-FV-301-CMD": True,
            "GHE-PC-301-SP": 230,
            "GHE-VV-311-CMD": False,
            "GHE-FV-311-CMD": True,
            "LOX-VV-101-CMD": False,
            "GHE-FV-321-CMD": True,
        },
    )
    after = run(coarse, 900.0)
    assert 180.0 < float(after["GHE-PT-311"]) < 230.0
    assert float(after["GHE-PT-301"]) < 350.0
    assert float(after["LOX-PT-101"]) == pytest.approx(2.8, abs=0.1)
    command(coarse, {"GHE-FV-311-CMD": False, "GHE-VV-311-CMD": True})
    assert float(run(coarse, 300.0)["GHE-PT-311"]) < 1.0


def test_thermal_conditioning_heats_the_fairing(coarse: PadModel) -> None:
    command(
        coarse,
        {"TCA-FAN-401-CMD": True, "TCA-E-401-CMD": True, "TCA-TC-401-SP": 25, "TCA-CV-413-SP": 100},
    )
    after = run(coarse, 1800.0)
    assert float(after["TCA-TT-401"]) == pytest.approx(25.0, abs=0.5)
    assert float(after["TCA-FT-413"]) == pytest.approx(1.0, abs=0.01)
    assert 20.0 < float(after["TCA-TT-413"]) < 25.0
    assert after["TCA-FT-411"] == 0.0 and float(after["TCA-TT-411"]) == pytest.approx(15.0)


# ---- mechanisms ------------------------------------------------------------------------------


def test_erector_raises_in_minutes_and_locks_at_vertical(model: PadModel) -> None:
    model.set_command("ERC-M-501-RAISE-CMD", True)
    assert value_after(model, 30.0, "ERC-ZT-501") == 0.0  # no hydraulic pressure, no speed
    command(model, ERECTOR_RAISE)
    seconds = 0
    while not flag(model, "ERC-ZS-501-VERTICAL"):
        run(model, 1.0)
        seconds += 1
        assert seconds < 600
    assert 90 < seconds < 300
    vertical = run(model, 10.0)
    assert vertical["ERC-ZT-501"] == pytest.approx(90.0)
    assert vertical["ERC-LK-511-LOCKED"] and vertical["ERC-LK-512-LOCKED"]
    command(model, {"ERC-M-501-RAISE-CMD": False, "ERC-M-501-LOWER-CMD": True})
    assert value_after(model, 30.0, "ERC-ZT-501") == pytest.approx(90.0)  # locks hold it


def test_erector_withdraws_only_with_the_vehicle_grips_released(model: PadModel) -> None:
    command(model, ERECTOR_RAISE)
    run(model, 240.0)
    command(
        model,
        {
            "ERC-M-501-RAISE-CMD": False,
            "ERC-LK-511-CMD": False,
            "ERC-LK-512-CMD": False,
            "ERC-M-501-WITHDRAW-CMD": True,
        },
    )
    assert value_after(model, 30.0, "ERC-ZT-501") == pytest.approx(90.0)  # grips still hold
    command(model, {"ERC-LK-513-CMD": False, "ERC-LK-514-CMD": False})
    withdrawn = run(model, 60.0)
    assert withdrawn["ERC-ZS-501-WITHDRAWN"] and withdrawn["ERC-ZT-501"] == pytest.approx(75.0)
    assert withdrawn["ERC-LK-513-UNLOCKED"]


def test_cable_mast_moves_only_while_a_command_is_held(model: PadModel) -> None:
    model.set_command("CBM-M-601-RETRACT-CMD", True)
    half = run(model, 3.0, dt_s=0.1)
    assert 40.0 < float(half["CBM-ZT-601"]) < 60.0
    model.set_command("CBM-M-601-RETRACT-CMD", False)
    assert value_after(model, 10.0, "CBM-ZT-601") == pytest.approx(float(half["CBM-ZT-601"]))
    model.set_command("CBM-M-601-RETRACT-CMD", True)
    retracted = run(model, 5.0)
    assert retracted["CBM-M-601-RETRACTED"] and not retracted["CBM-M-601-CONNECTED"]
    command(model, {"CBM-M-601-RETRACT-CMD": False, "CBM-M-601-CONNECT-CMD": True})
    assert run(model, 40.0)["CBM-M-601-CONNECTED"]


def test_hold_downs_release_only_when_armed_and_reclamp(model: PadModel) -> None:
    model.set_command("HDC-RELEASE-CMD", True)
    assert run(model, 5.0)["HDC-M-701-CLAMPED"]
    model.set_command("HDC-ARM-CMD", True)
    armed = run(model, 5.0, dt_s=0.05)
    assert armed["HDC-ARMED"] and float(armed["HDC-PT-700"]) > 180.0
    released = run(model, 0.5, dt_s=0.05)
    assert all(released[f"HDC-M-70{n}-RELEASED"] for n in range(1, 5))
    command(model, {"HDC-RELEASE-CMD": False, "HDC-ARM-CMD": False, "HDC-CLAMP-CMD": True})
    assert all(run(model, 25.0)[f"HDC-M-70{n}-CLAMPED"] for n in range(1, 5))


# ---- safety systems and power ----------------------------------------------------------------


def test_deluge_flows_with_pump_and_valve(model: PadModel) -> None:
    model.set_command("DLG-P-801-CMD", True)
    deadheaded = run(model, 10.0)
    assert deadheaded["DLG-FT-801"] == 0.0 and float(deadheaded["DLG-PT-801"]) > 10.0
    model.set_command("DLG-FV-801-CMD", True)
    flowing = run(model, 60.0)
    assert float(flowing["DLG-FT-801"]) == pytest.approx(4000.0, rel=0.01)
    assert float(flowing["DLG-LT-801"]) < 95.0 and int(flowing["DLG-FQ-801"]) > 50


def test_fire_is_detected_suppressed_and_the_alarm_reset(model: PadModel) -> None:
    model.start_fire(3)
    burning = run(model, 1.0)
    assert burning["FIR-FD-813"] and burning["FIR-XA-801"]
    model.set_command("FIR-XA-801-RESET-CMD", True)
    assert run(model, 1.0)["FIR-XA-801"]  # no reset while a detector sees fire
    model.set_command("FIR-FV-831-CMD", True)
    out = run(model, 10.0)
    assert not out["FIR-FD-813"] and not out["FIR-XA-801"]
    assert float(out["FIR-PT-831"]) < 60.0
    with pytest.raises(ValueError, match="zone 7"):
        model.start_fire(7)


def test_deluge_puts_out_a_fire_on_the_launch_table(model: PadModel) -> None:
    model.start_fire(1)
    burning = run(model, 30.0)
    assert burning["FIR-FD-811"] and burning["FIR-XA-801"]  # seen, and it does not go out alone
    command(model, {"DLG-P-801-CMD": True, "DLG-FV-801-CMD": True})
    assert not run(model, 30.0)["FIR-FD-811"]


def test_alarm_latches_on_a_detector_as_the_plc_senses_it(model: PadModel) -> None:
    model.sensor_override("FIR-FD-815", True)
    assert run(model, 1.0)["FIR-XA-801"]


def test_main_breaker_feeds_the_motors(model: PadModel) -> None:
    command(model, {"DLG-P-801-CMD": True, "PWR-CB-841-CMD": False})
    dead = run(model, 10.0)
    assert dead["PWR-CB-841-OPEN"] and float(dead["PWR-ET-841"]) < 1.0
    assert not dead["DLG-P-801-RUN"]
    model.set_command("PWR-CB-841-CMD", True)
    live = run(model, 10.0)
    assert live["DLG-P-801-RUN"] and float(live["PWR-IT-841"]) > 500.0


# ---- the vehicle -----------------------------------------------------------------------------


def powered_vehicle(model: PadModel) -> PadModel:
    model.set_command("PWR-CB-842-CMD", True)
    run(model, 6.0)
    return model


def test_vehicle_powers_up_and_must_go_internal_before_mast_retract(model: PadModel) -> None:
    powered = run(powered_vehicle(model), 1.0)
    assert powered["VEH-PWR-EXT"] and powered["VEH-SEQ-READY"]
    assert float(powered["PWR-IT-842"]) > 10.0
    model.set_command("CBM-M-601-RETRACT-CMD", True)
    assert not run(model, 10.0)["VEH-SEQ-READY"]  # umbilical gone, vehicle dark
    command(model, {"CBM-M-601-RETRACT-CMD": False, "CBM-M-601-CONNECT-CMD": True})
    run(model, 40.0)
    model.set_command("VEH-PWR-INT-CMD", True)
    internal = run(model, 6.0)
    assert internal["VEH-PWR-INT"] and not internal["VEH-PWR-EXT"]
    command(model, {"CBM-M-601-CONNECT-CMD": False, "CBM-M-601-RETRACT-CMD": True})
    assert run(model, 10.0)["VEH-SEQ-READY"]


def test_engine_start_gives_thrust_ok_and_liftoff_needs_released_clamps(model: PadModel) -> None:
    powered_vehicle(model)
    model.set_command("VEH-ENG-START-CMD", True)
    assert not run(model, 5.0)["VEH-THRUST-OK"]  # cutoff is held (its safe value)
    command(model, {"VEH-ENG-START-CMD": False, "VEH-ENG-CUTOFF-CMD": False, "HDC-ARM-CMD": True})
    run(model, 5.0)
    model.set_command("VEH-ENG-START-CMD", True)
    assert not run(model, 2.0, dt_s=0.05)["VEH-THRUST-OK"]
    running = run(model, 3.0, dt_s=0.05)
    assert running["VEH-THRUST-OK"] and float(running["VEH-PT-901"]) > 220.0
    assert not run(model, 2.0)["VEH-LIFTOFF-1"]  # still clamped
    model.set_command("HDC-RELEASE-CMD", True)
    lifted = run(model, 1.0, dt_s=0.05)
    assert all(lifted[f"VEH-LIFTOFF-{n}"] for n in (1, 2, 3))


def test_cutoff_shuts_the_engine_down(model: PadModel) -> None:
    powered_vehicle(model)
    command(model, {"VEH-ENG-CUTOFF-CMD": False, "VEH-ENG-START-CMD": True})
    assert run(model, 6.0)["VEH-THRUST-OK"]
    model.set_command("VEH-ENG-CUTOFF-CMD", True)
    stopped = run(model, 3.0)
    assert not stopped["VEH-THRUST-OK"] and float(stopped["VEH-PT-901"]) < 1.0
    assert not stopped["VEH-LIFTOFF-1"]


# ---- faults ----------------------------------------------------------------------------------


def test_stuck_and_slow_actuators(model: PadModel) -> None:
    model.stick_actuator("LOX-FV-102")
    model.set_command("LOX-FV-102-CMD", True)
    assert run(model, 10.0)["LOX-FV-102-ZSC"]
    model.stick_actuator("LOX-FV-102", stuck=False)
    assert run(model, 2.5)["LOX-FV-102-ZSO"]
    model.slow_actuator("LOX-FV-101", 3.0)
    model.set_command("LOX-FV-101-CMD", True)
    assert not run(model, 6.0)["LOX-FV-101-ZSO"]
    assert run(model, 7.0)["LOX-FV-101-ZSO"]
    model.slow_actuator("ERC-M-501", 2.0)
    command(model, ERECTOR_RAISE)
    assert value_after(model, 60.0, "ERC-ZT-501") < 25.0
    assert "LOX-FV-101" in model.active_faults()["slow"]
    model.clear_faults()
    assert model.active_faults()["slow"] == {}


def test_sensor_faults_bias_freeze_override_and_clear(model: PadModel) -> None:
    model.sensor_bias("LOX-PT-101", 0.5)
    assert value(model, "LOX-PT-101") == pytest.approx(0.5)
    model.sensor_bias("LOX-PT-101", 0)
    model.freeze_sensor("ERC-ZT-501")
    command(model, ERECTOR_RAISE)
    assert value_after(model, 60.0, "ERC-ZT-501") == 0.0
    model.freeze_sensor("ERC-ZT-501", frozen=False)
    assert value(model, "ERC-ZT-501") > 10.0
    model.sensor_override("LOX-TT-101", math.nan)
    model.sensor_override("LOX-PT-001", 99.0)
    assert math.isnan(value(model, "LOX-TT-101")) and value(model, "LOX-PT-001") == 99.0
    model.sensor_override("LOX-PT-001", None)
    assert value(model, "LOX-PT-001") < 6.0
    model.freeze_sensor("LOX-LT-001")
    model.clear_faults()
    assert model.active_faults() == {
        "stuck": [],
        "slow": {},
        "bias": {},
        "frozen": {},
        "override": {},
    }
    assert not math.isnan(value(model, "LOX-TT-101"))


def test_unknown_tags_and_prefixes_are_named(model: PadModel) -> None:
    with pytest.raises(KeyError, match="LOX-FV-999"):
        model.stick_actuator("LOX-FV-999")
    with pytest.raises(KeyError, match="LOX-FV-999"):
        model.slow_actuator("LOX-FV-999", 2.0)
    for fault in (
        model.freeze_sensor,
        lambda tag: model.sensor_bias(tag, 1.0),
        lambda tag: model.sensor_override(tag, 1.0),
    ):
        with pytest.raises(KeyError, match="XYZ-PT-1"):
            fault("XYZ-PT-1")
    with pytest.raises(KeyError, match="LOX-FV-101-CMD"):
        model.sensor_bias("LOX-FV-101-CMD", 1.0)  # a command, not a measurement
    with pytest.raises(KeyError, match="NOPE-CMD"):
        model.set_command("NOPE-CMD", True)
    with pytest.raises(ValueError, match="LOX-PT-101"):
        model.set_command("LOX-PT-101", 1.0)
    with pytest.raises(ValueError):
        model.sensor_bias("LOX-FV-101-ZSO", 1.0)
    with pytest.raises(ValueError):
        model.slow_actuator("LOX-FV-101", 0.0)
    with pytest.raises(ValueError):
        model.step(-1.0)
    model.set_command("PROP-HB-PADCTL", 7)  # the PLC runtime owns heartbeats: accepted, ignored


# ---- numerics and checkpoints ----------------------------------------------------------------


def test_dt_of_one_second_tracks_fine_steps(definition: PadDefinition) -> None:
    scenario = {
        **CHILLDOWN, **FAST_FILL, **ERECTOR_RAISE, "LOX-VV-101-CMD": False,
        "DLG-P-801-CMD": True, "DLG-FV-801-CMD": True, "HDC-ARM-CMD": True,
    }  # fmt: skip
    fine = PadModel(definition, max_substep_s=0.01)
    command(fine, scenario)
    reference = run(fine, 300.0)
    for max_substep_s in (0.05, COARSE_SUBSTEP_S):
        stepped = PadModel(definition, max_substep_s=max_substep_s)
        command(stepped, scenario)
        measured = run(stepped, 300.0, dt_s=1.0)
        for tag, expected in reference.items():
            if isinstance(expected, bool):
                assert measured[tag] == expected, (max_substep_s, tag)
            else:
                assert float(measured[tag]) == pytest.approx(expected, rel=0.02, abs=0.05), (
                    max_substep_s,
                    tag,
                )


def test_huge_steps_stay_stable(definition: PadDefinition, coarse: PadModel) -> None:
    command(coarse, {**CHILLDOWN, **FAST_FILL, **ERECTOR_RAISE, "LOX-VV-101-CMD": False})
    coarse.step(3600.0)
    for name, reading in coarse.measurements().items():
        assert definition.tag(name).in_range(float(reading)), name


def test_snapshot_restore_round_trip(model: PadModel) -> None:
    command(model, {**CHILLDOWN, **ERECTOR_RAISE})
    run(model, 100.0)
    model.sensor_bias("LOX-PT-001", 0.25)
    model.stick_actuator("LOX-FV-102")
    snapshot = model.snapshot()
    kept = copy.deepcopy(snapshot)  # a checkpoint keeps a copy; the model must not share state
    before = model.measurements()
    later = run(model, 300.0)
    model.clear_faults()
    model.restore(snapshot)
    assert model.measurements() == before and model.time_s == pytest.approx(100.0)
    assert model.active_faults()["stuck"] == ["LOX-FV-102"]
    assert run(model, 300.0) == later  # commands restored too, and deterministic
    model.restore(kept)
    assert model.measurements() == before  # a snapshot (or its copy) can be restored again
    with pytest.raises(ValueError):
        model.restore({"format": 0})


def test_physics_modules_touch_no_clock_socket_or_loop() -> None:
    package = Path(__file__).parents[1] / "simulators"
    forbidden = {"time", "asyncio", "socket", "threading", "datetime", "random"}
    for path in [*sorted((package / "physics").glob("*.py")), package / "pad_model.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not names & forbidden, (path.name, names)
