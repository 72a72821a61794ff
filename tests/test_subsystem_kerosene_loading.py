"""Kerosene loading against the simulated pad: every transition, permissive, fault and checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.plant import TagValue
from padctl.subsystems import CommandRefused, Mode, Subsystem
from padctl.subsystems.kerosene_loading import KEROSENE_LOADING
from tests.pad_rig import PadRig, override, pad_rig, release

pytestmark = pytest.mark.slow

FAST = 50.0  # clock rate for loading flows
PRECISE = 10.0  # clock rate for stroke timing (checkout)
SPECS = (KEROSENE_LOADING,)
SAFE_FEEDBACK_TAGS = [condition.split()[0] for condition in KEROSENE_LOADING.safe_feedback]


async def step(rg1: Subsystem, command: str, via: str, dest: str) -> None:
    """Give a command, see its in-progress state, and its feedback prove the destination."""
    ticket = await rg1.command(command, actor="propellant")
    assert rg1.machine_state == via
    assert await ticket.wait() == "confirmed", rg1.last_fault
    assert rg1.machine_state == dest


async def refused(
    rig: PadRig, rg1: Subsystem, command: str, overrides: dict[str, TagValue], names: list[str]
) -> None:
    """The command is refused naming every unmet interlock; nothing is written or changed."""
    await override(rig, overrides)
    state = rg1.machine_state
    before = await rig.journal_kinds()
    with pytest.raises(CommandRefused) as refusal:
        await rg1.command(command, actor="propellant")
    for name in names:
        assert name in refusal.value.reason, (name, refusal.value.reason)
    assert rg1.machine_state == state and not rg1.busy
    kinds = await rig.journal_kinds()
    assert kinds.count("command_refused") == before.count("command_refused") + 1
    assert kinds.count("command_sent") == before.count("command_sent")
    await release(rig, overrides)


async def to_line_fill(rg1: Subsystem) -> None:
    await step(rg1, "start_conditioning", "STARTING_CONDITIONING", "CONDITIONING")
    await step(rg1, "start_line_fill", "STARTING_LINE_FILL", "LINE_FILL")


async def test_full_load_and_drain(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        rg1 = rig.subsystems["kerosene_loading"]
        assert rg1.machine_state == "SECURED"
        await override(rig, {"ERC-ZS-501-VERTICAL": True})
        await step(rg1, "start_conditioning", "STARTING_CONDITIONING", "CONDITIONING")
        assert rig.plant.read("RG1-TC-001-SP").value == pytest.approx(12.0)
        assert rg1.recognise_state() == "CONDITIONING"
        await step(rg1, "start_line_fill", "STARTING_LINE_FILL", "LINE_FILL")
        assert rg1.recognise_state() == "LINE_FILL"
        await step(rg1, "start_fill", "STARTING_FILL", "FILL")
        assert rig.plant.read("RG1-FT-101").value > 150
        assert rg1.recognise_state() == "FILL"
        await override(rig, {"RG1-LT-101": 93.0})  # the full-rate fill without 30 min of it
        await step(rg1, "start_level_adjust", "STARTING_LEVEL_ADJUST", "LEVEL_ADJUST")
        assert 10 < rig.plant.read("RG1-FT-101").value < 40
        assert rg1.recognise_state() == "LEVEL_ADJUST"
        await override(rig, {"RG1-LSH-101": True})
        await step(rg1, "complete_fill", "COMPLETING_FILL", "LOADED")
        assert rg1.recognise_state() == "LOADED"
        assert rig.plant.read("RG1-E-002-RUN").value is False
        await step(rg1, "start_drain", "OPENING_DRAIN", "DRAINING")  # from LOADED
        assert rg1.recognise_state() == "DRAINING"
        assert await rig.wait(lambda: rig.plant.read("RG1-FT-102").value > 1, 120)
        await step(rg1, "secure", "SECURING", "SECURED")  # from DRAINING
        await release(rig, {"RG1-LSH-101": True})
        assert rg1.recognise_state() == "SECURED"
        kinds = await rig.journal_kinds()
        assert kinds.count("command_confirmed") == 7 and "subsystem_fault" not in kinds


async def test_every_other_transition(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        rg1 = rig.subsystems["kerosene_loading"]
        await override(rig, {"ERC-ZS-501-VERTICAL": True})
        await step(rg1, "start_drain", "OPENING_DRAIN", "DRAINING")  # from SECURED
        await step(rg1, "secure", "SECURING", "SECURED")
        await step(rg1, "start_conditioning", "STARTING_CONDITIONING", "CONDITIONING")
        await step(rg1, "secure", "SECURING", "SECURED")  # from CONDITIONING
        await to_line_fill(rg1)
        await step(rg1, "secure", "SECURING", "SECURED")  # from LINE_FILL
        await to_line_fill(rg1)
        await step(rg1, "start_fill", "STARTING_FILL", "FILL")
        await step(rg1, "stop_fill", "STOPPING_FILL", "LINE_FILL")  # from FILL: a hold
        await override(rig, {"RG1-LT-101": 95.0})
        await step(rg1, "start_level_adjust", "STARTING_LEVEL_ADJUST", "LEVEL_ADJUST")
        await step(rg1, "stop_fill", "STOPPING_FILL", "LINE_FILL")  # from LEVEL_ADJUST
        await override(rig, {"RG1-LT-101": 50.0})
        await step(rg1, "start_fill", "STARTING_FILL", "FILL")
        await step(rg1, "secure", "SECURING", "SECURED")  # from FILL
        await to_line_fill(rg1)
        await override(rig, {"RG1-LT-101": 95.0})
        await step(rg1, "start_level_adjust", "STARTING_LEVEL_ADJUST", "LEVEL_ADJUST")
        await step(rg1, "secure", "SECURING", "SECURED")  # from LEVEL_ADJUST
        await to_line_fill(rg1)
        await step(rg1, "start_level_adjust", "STARTING_LEVEL_ADJUST", "LEVEL_ADJUST")
        await override(rig, {"RG1-LSH-101": True})
        await step(rg1, "complete_fill", "COMPLETING_FILL", "LOADED")
        await step(rg1, "secure", "SECURING", "SECURED")  # from LOADED
        await release(rig, {"RG1-LSH-101": True})
        await to_line_fill(rg1)
        await step(rg1, "start_level_adjust", "STARTING_LEVEL_ADJUST", "LEVEL_ADJUST")
        await override(rig, {"RG1-LSH-101": True})
        await step(rg1, "complete_fill", "COMPLETING_FILL", "LOADED")
        await release(rig, {"RG1-LSH-101": True})
        await refused(
            rig,
            rg1,
            "close_for_flight",
            {
                "RG1-LSHH-101": True,
                "RG1-FV-101-ZSC": False,
                "RG1-DV-101-ZSC": False,
                "RG1-P-001-RUN": True,
            },
            [
                "countdown in terminal count (@terminal_count = false (needs == true)",
                "flight level reached (LSH made)",
                "vehicle RG-1 tank not overfilled",
                "vehicle RG-1 fill valve closed",
                "vehicle RG-1 drain closed",
                "RG-1 transfer pump stopped",
            ],
        )
        await override(rig, {"RG1-LSH-101": True})
        rig.context.set("terminal_count", True)
        await step(rg1, "close_for_flight", "CLOSING_FOR_FLIGHT", "FLIGHT_READY")
        assert rg1.recognise_state() == "FLIGHT_READY"
        await step(rg1, "secure", "SECURING", "SECURED")  # from FLIGHT_READY: a scrub
        assert rig.plant.read("RG1-VV-101-ZSO").value is True
        await refused(  # a recycle takes a secured tank as loaded only inside these limits
            rig,
            rg1,
            "confirm_loaded",
            {"RG1-LSHH-101": True},
            [
                "countdown not in terminal count (@terminal_count = true (needs == false)",
                "vehicle RG-1 tank not overfilled",
            ],
        )
        rig.context.set("terminal_count", False)
        await override(rig, {"RG1-LSH-101": True})
        await step(rg1, "confirm_loaded", "CONFIRMING_LOADED", "LOADED")
        assert "subsystem_fault" not in await rig.journal_kinds()


async def test_every_permissive_refuses_by_name(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        rg1 = rig.subsystems["kerosene_loading"]
        await refused(
            rig,
            rg1,
            "start_conditioning",
            {"PWR-ET-841": 0.0, "RG1-LT-001": 10.0},
            [
                "pad main bus energized (pump and conditioning power) (PWR-ET-841 = 0",
                "RG-1 storage level for transfer (>= 20 %)",
            ],
        )
        rig.context.set("terminal_count", True)
        await refused(
            rig,
            rg1,
            "start_drain",
            {"RG1-FV-101-ZSC": False, "RG1-P-001-RUN": True, "RG1-VV-101-ZSO": False},
            [
                "vehicle RG-1 fill valve closed",
                "RG-1 transfer pump stopped",
                "vehicle RG-1 vent open (RG1-VV-101-ZSO = false (needs == true)",
                "countdown not in terminal count",
            ],
        )
        rig.context.set("terminal_count", False)
        await step(rg1, "start_conditioning", "STARTING_CONDITIONING", "CONDITIONING")
        await refused(
            rig,
            rg1,
            "start_line_fill",
            {
                "RG1-E-001-RUN": False,
                "RG1-E-002-RUN": False,
                "RG1-TT-001": 30.0,
                "RG1-LT-001": 10.0,
                "RG1-FV-101-ZSC": False,
                "RG1-DV-101-ZSC": False,
                "PWR-ET-841": 0.0,
            },
            [
                "conditioning heater running",
                "conditioning chiller running",
                "fuel temperature within loading limits (<= 20 degC) (RG1-TT-001 = 30",
                "RG-1 storage level for transfer",
                "vehicle RG-1 fill valve closed",
                "vehicle RG-1 drain closed",
                "pad main bus energized",
            ],
        )
        await refused(
            rig,
            rg1,
            "start_line_fill",
            {"RG1-TT-001": 0.0},
            ["fuel temperature within loading limits (>= 5 degC) (RG1-TT-001 = 0"],
        )
        await step(rg1, "start_line_fill", "STARTING_LINE_FILL", "LINE_FILL")
        unsafe_tank = {
            "RG1-P-001-RUN": False,
            "RG1-VV-101-ZSO": False,
            "RG1-DV-101-ZSC": False,
            "RG1-LSHH-101": True,
        }
        await refused(
            rig,
            rg1,
            "start_fill",
            {**unsafe_tank, "RG1-PT-102": 0.0, "RG1-PT-101": 1.0, "RG1-LT-101": 95.0},
            [
                "transfer line full (fill line >= 1.2 bar) (RG1-PT-102 = 0",
                "RG-1 transfer pump running",
                "vehicle RG-1 vent open",
                "vehicle RG-1 drain closed",
                "vehicle RG-1 tank not overfilled (LSHH clear)",
                "vehicle RG-1 ullage vented (<= 0.5 bar)",
                "vehicle erected (erector vertical) (ERC-ZS-501-VERTICAL = false",
                "level below level-adjust level (< 90 %)",
            ],
        )
        await refused(
            rig,
            rg1,
            "start_level_adjust",
            {**unsafe_tank, "RG1-LSH-101": True},
            [
                "level near flight level (>= 90 %) (RG1-LT-101 = 0",
                "flight level not yet reached (LSH clear)",
                "vehicle RG-1 tank not overfilled",
                "RG-1 transfer pump running",
                "vehicle RG-1 vent open",
                "vehicle RG-1 drain closed",
                "vehicle erected",
            ],
        )
        await override(rig, {"ERC-ZS-501-VERTICAL": True, "RG1-LT-101": 95.0})
        await step(rg1, "start_level_adjust", "STARTING_LEVEL_ADJUST", "LEVEL_ADJUST")
        with pytest.raises(CommandRefused, match=r"flight level reached \(LSH made\)"):
            await rg1.command("complete_fill", actor="propellant")
        with pytest.raises(CommandRefused, match="state is LEVEL_ADJUST; start_drain needs"):
            await rg1.command("start_drain", actor="propellant")
        assert rig.plant.read("RG1-DV-101-CMD").value is False
        assert rg1.machine_state == "LEVEL_ADJUST"


async def test_stuck_fill_valve_faults_and_safes(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        rg1 = rig.subsystems["kerosene_loading"]
        await override(rig, {"ERC-ZS-501-VERTICAL": True})
        await to_line_fill(rg1)
        rig.model.stick_actuator("RG1-FV-101")  # stuck closed
        outcome = await (await rg1.command("start_fill", actor="propellant")).wait()
        assert outcome.startswith("fault: start_fill: no feedback within 30 s")
        assert "RG1-FV-101-ZSO = false" in outcome
        assert rg1.machine_state == "FAULT" and rg1.safed
        assert rig.alarms.get("KEROSENE_LOADING-FAULT").state is AlarmState.UNACK
        assert rig.plant.read("RG1-P-001-RUN").value is False
        assert rig.plant.read("RG1-TC-001-SP").value == pytest.approx(15.0)
        await rg1.reset(actor="propellant")
        assert rg1.machine_state == "SECURED"


async def test_drain_stuck_open_leaves_safing_unproven(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        rg1 = rig.subsystems["kerosene_loading"]
        await step(rg1, "start_drain", "OPENING_DRAIN", "DRAINING")
        rig.model.stick_actuator("RG1-DV-101")  # stuck open
        outcome = await (await rg1.command("secure", actor="propellant")).wait()
        assert outcome.startswith("fault: secure: no feedback within 30 s")
        assert rg1.machine_state == "FAULT" and not rg1.safed
        alarm = rig.alarms.get("KEROSENE_LOADING-SAFING-FAILED")
        assert alarm.state is AlarmState.UNACK and "RG1-DV-101-ZSC = false" in alarm.detail
        with pytest.raises(CommandRefused, match="safe state not proven"):
            await rg1.reset(actor="propellant")


async def test_lost_plc_mid_command_faults_then_recovers(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        rg1 = rig.subsystems["kerosene_loading"]
        ticket = await rg1.command("start_conditioning", actor="propellant")
        await rig.sim.stall("PROP")
        outcome = await ticket.wait()
        assert outcome.startswith("fault:")
        assert rg1.machine_state == "FAULT" and not rg1.safed
        assert rig.alarms.get("KEROSENE_LOADING-SAFING-FAILED").state is AlarmState.UNACK
        assert await rig.wait(lambda: not rig.plant.read("RG1-LT-001").is_good, 600)
        with pytest.raises(CommandRefused, match=r"safe state not proven: .*STALE"):
            await rg1.reset(actor="propellant")
        await rig.sim.restore_link("PROP")
        assert await rig.wait(lambda: rig.all_good(*SAFE_FEEDBACK_TAGS), 600)
        assert await rg1.safe(actor="propellant", reason="PLC back")
        await rg1.reset(actor="propellant")
        assert rg1.machine_state == "SECURED"


async def test_uncommanded_changes_raise_an_alarm(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        await rig.sim.set_values("PROP", {"RG1-E-001-CMD": True})  # heater on at a local panel
        alarm_id = "KEROSENE_LOADING-UNCOMMANDED"
        assert await rig.wait(lambda: rig.alarms.get(alarm_id).state is AlarmState.UNACK, 300)
        detail = rig.alarms.get(alarm_id).detail
        assert "RG1-E-001: RG1-E-001-CMD is true, padctl commanded false" in detail
        assert await rig.wait_journal("uncommanded_change")
        await rig.sim.set_values("PROP", {"RG1-E-001-CMD": False})
        rig.model.sensor_override("RG1-FV-101-ZSO", True)  # fill valve off its seat

        def fill_valve_alone() -> bool:
            detail = rig.alarms.get(alarm_id).detail
            return "RG1-FV-101-ZSO at its position" in detail and "RG1-E-001" not in detail

        assert await rig.wait(fill_valve_alone, 300)
        assert rig.alarms.get(alarm_id).state is AlarmState.UNACK


async def test_out_of_service_refuses_all_but_safing(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        rg1 = rig.subsystems["kerosene_loading"]
        await rg1.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        for command in ("start_conditioning", "start_drain"):
            with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
                await rg1.command(command, actor="propellant")
        assert await rg1.safe(actor="maintenance", reason="lockout check")
        assert rg1.machine_state == "SECURED"


async def test_checkout_strokes_valves_and_conditioning_and_names_a_slow_one(
    tmp_path: Path,
) -> None:
    async with pad_rig(tmp_path, rate=PRECISE, specs=SPECS) as rig:
        rg1 = rig.subsystems["kerosene_loading"]
        report = await rg1.checkout(actor="propellant")
        assert report.passed, report.results
        assert report.skipped == ("RG1-P-001",)  # never run the fuel pump dry
        stroked = {result.actuator for result in report.results}
        assert stroked == set(KEROSENE_LOADING.actuators) - {"RG1-P-001"}
        rig.model.slow_actuator("RG1-DV-101", 3.0)
        report = await rg1.checkout(actor="propellant")
        failed = [result for result in report.results if not result.passed]
        assert not report.passed and [result.actuator for result in failed] == ["RG1-DV-101"]
        assert "limit 6 s" in failed[0].reason
