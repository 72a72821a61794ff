"""LOX loading against the simulated pad: every transition, permissive, fault and checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.plant import TagValue
from padctl.subsystems import CommandRefused, Mode, Subsystem
from padctl.subsystems.lox_loading import LOX_LOADING
from tests.pad_rig import PadRig, override, pad_rig, release

pytestmark = pytest.mark.slow

FAST = 50.0  # clock rate for loading flows (a full chilldown is ~500 clock s)
PRECISE = 10.0  # clock rate for stroke timing (checkout)
SPECS = (LOX_LOADING,)
SAFE_FEEDBACK_TAGS = [condition.split()[0] for condition in LOX_LOADING.safe_feedback]


async def step(lox: Subsystem, command: str, via: str, dest: str) -> None:
    """Give a command, see its in-progress state, and its feedback prove the destination."""
    ticket = await lox.command(command, actor="propellant")
    assert lox.machine_state == via
    assert await ticket.wait() == "confirmed", lox.last_fault
    assert lox.machine_state == dest
    assert lox.recognise_state() == dest  # a restarted padctl would take up the same state


async def refused(
    rig: PadRig, lox: Subsystem, command: str, overrides: dict[str, TagValue], names: list[str]
) -> None:
    """The command is refused naming every unmet interlock; nothing is written or changed."""
    await override(rig, overrides)
    state = lox.machine_state
    before = await rig.journal_kinds()
    with pytest.raises(CommandRefused) as refusal:
        await lox.command(command, actor="propellant")
    for name in names:
        assert name in refusal.value.reason, (name, refusal.value.reason)
    assert lox.machine_state == state and not lox.busy
    kinds = await rig.journal_kinds()
    assert kinds.count("command_refused") == before.count("command_refused") + 1
    assert kinds.count("command_sent") == before.count("command_sent")
    await release(rig, overrides)


async def test_full_load_with_a_real_chilldown(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        lox = rig.subsystems["lox_loading"]
        assert lox.machine_state == "SECURED"
        rig.model.sensor_override("ERC-ZS-501-VERTICAL", True)
        await step(lox, "start_chilldown", "STARTING_CHILLDOWN", "LINE_CHILLDOWN")
        with pytest.raises(CommandRefused, match=r"transfer line chilled \(<= 110 K\)"):
            await lox.command("start_slow_fill", actor="propellant")
        assert await rig.wait(lambda: rig.plant.read("LOX-TT-103").value <= 110, 1500)
        await step(lox, "start_slow_fill", "STARTING_SLOW_FILL", "SLOW_FILL")
        assert rig.plant.read("LOX-FT-101").value > 5
        await override(rig, {"LOX-LT-101": 6.0})  # slow fill done without 10 min of it
        await step(lox, "start_fast_fill", "STARTING_FAST_FILL", "FAST_FILL")
        assert rig.plant.read("LOX-FT-101").value > 60
        await override(rig, {"LOX-LT-101": 92.0})
        await step(lox, "start_topping", "STARTING_TOPPING", "TOPPING")
        await override(rig, {"LOX-LSH-101": True})
        await step(lox, "start_replenish", "STARTING_REPLENISH", "REPLENISH")
        assert 1.0 < rig.plant.read("LOX-FT-101").value < 3.0  # boil-off make-up
        await step(lox, "stop_fill", "STOPPING_FILL", "LINE_CHILLDOWN")
        await step(lox, "start_replenish", "STARTING_REPLENISH", "REPLENISH")
        rig.context.set("terminal_count", True)
        await step(lox, "close_for_flight", "CLOSING_FOR_FLIGHT", "FLIGHT_READY")
        assert rig.plant.read("LOX-FT-101").value == 0.0
        await step(lox, "secure", "SECURING", "SECURED")  # from FLIGHT_READY: a scrub
        kinds = await rig.journal_kinds()
        assert kinds.count("command_confirmed") == 9 and "subsystem_fault" not in kinds


async def test_every_other_transition(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        lox = rig.subsystems["lox_loading"]
        await override(rig, {"ERC-ZS-501-VERTICAL": True, "LOX-TT-103": 95.0})

        async def chill_and_slow_fill() -> None:
            await step(lox, "start_chilldown", "STARTING_CHILLDOWN", "LINE_CHILLDOWN")
            await step(lox, "start_slow_fill", "STARTING_SLOW_FILL", "SLOW_FILL")

        await chill_and_slow_fill()
        await step(lox, "stop_fill", "STOPPING_FILL", "LINE_CHILLDOWN")  # from SLOW_FILL
        await step(lox, "secure", "SECURING", "SECURED")  # from LINE_CHILLDOWN
        await chill_and_slow_fill()
        await step(lox, "secure", "SECURING", "SECURED")  # from SLOW_FILL
        await chill_and_slow_fill()
        await override(rig, {"LOX-LT-101": 40.0})
        await step(lox, "start_fast_fill", "STARTING_FAST_FILL", "FAST_FILL")
        await step(lox, "start_slow_fill", "STARTING_SLOW_FILL", "SLOW_FILL")  # backed off
        await step(lox, "start_fast_fill", "STARTING_FAST_FILL", "FAST_FILL")
        await step(lox, "stop_fill", "STOPPING_FILL", "LINE_CHILLDOWN")  # from FAST_FILL
        await step(lox, "start_slow_fill", "STARTING_SLOW_FILL", "SLOW_FILL")
        await step(lox, "start_fast_fill", "STARTING_FAST_FILL", "FAST_FILL")
        await step(lox, "secure", "SECURING", "SECURED")  # from FAST_FILL
        await chill_and_slow_fill()
        await override(rig, {"LOX-LT-101": 95.0})
        await step(lox, "start_topping", "STARTING_TOPPING", "TOPPING")  # from SLOW_FILL
        await step(lox, "stop_fill", "STOPPING_FILL", "LINE_CHILLDOWN")  # from TOPPING
        await step(lox, "start_slow_fill", "STARTING_SLOW_FILL", "SLOW_FILL")
        await step(lox, "start_topping", "STARTING_TOPPING", "TOPPING")
        await step(lox, "secure", "SECURING", "SECURED")  # from TOPPING
        await override(rig, {"LOX-LSH-101": True})
        await step(lox, "start_chilldown", "STARTING_CHILLDOWN", "LINE_CHILLDOWN")
        await step(lox, "start_replenish", "STARTING_REPLENISH", "REPLENISH")
        await step(lox, "secure", "SECURING", "SECURED")  # from REPLENISH
        await step(lox, "start_drain", "OPENING_DRAIN", "DRAINING")
        assert rig.plant.read("LOX-DV-101-ZSO").value is True
        await step(lox, "secure", "SECURING", "SECURED")  # from DRAINING
        assert "subsystem_fault" not in await rig.journal_kinds()


async def test_every_permissive_refuses_by_name(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        lox = rig.subsystems["lox_loading"]
        await refused(
            rig,
            lox,
            "start_chilldown",
            {
                "LOX-LT-001": 10.0,
                "LOX-VV-001-ZSO": False,
                "LOX-VV-101-ZSO": False,
                "LOX-DV-101-ZSC": False,
                "LOX-FV-101-ZSC": False,
                "PWR-ET-841": 0.0,
            },
            [
                "LOX storage level for transfer (>= 20 %) (LOX-LT-001 = 10 (needs >= 20)",
                "LOX storage vent open",
                "vehicle LOX vent open (LOX-VV-101-ZSO = false (needs == true)",
                "vehicle LOX drain closed",
                "vehicle LOX fill valve closed",
                "pad main bus energized",
            ],
        )
        rig.context.set("terminal_count", True)
        await refused(
            rig,
            lox,
            "start_drain",
            {
                "LOX-FV-101-ZSC": False,
                "LOX-FV-102-ZSC": False,
                "LOX-P-001-RUN": True,
                "LOX-VV-101-ZSO": False,
                "LOX-VV-001-ZSO": False,
            },
            [
                "vehicle LOX fill valve closed",
                "LOX replenish valve closed",
                "LOX transfer pump stopped",
                "vehicle LOX vent open",
                "LOX storage vent open",
                "countdown not in terminal count (@terminal_count = true (needs == false)",
            ],
        )
        rig.context.set("terminal_count", False)
        await step(lox, "start_chilldown", "STARTING_CHILLDOWN", "LINE_CHILLDOWN")
        unsafe_tank = {
            "LOX-VV-101-ZSO": False,
            "LOX-DV-101-ZSC": False,
            "LOX-LSHH-101": True,
            "LOX-P-001-RUN": False,
        }
        await refused(
            rig,
            lox,
            "start_slow_fill",
            {**unsafe_tank, "LOX-PT-101": 2.0},
            [
                "transfer line chilled (<= 110 K) (LOX-TT-103 = ",
                "LOX transfer pump running",
                "vehicle LOX vent open",
                "vehicle LOX drain closed",
                "vehicle LOX tank not overfilled (LSHH clear)",
                "vehicle LOX ullage pressure low (<= 1.5 bar)",
                "vehicle erected (erector vertical) (ERC-ZS-501-VERTICAL = false",
            ],
        )
        replenish_names = [
            "flight level reached (LSH made)",
            "vehicle LOX tank not overfilled",
            "transfer line chilled",
            "LOX transfer pump running",
            "vehicle LOX vent open",
            "vehicle LOX drain closed",
        ]
        await refused(rig, lox, "start_replenish", unsafe_tank, replenish_names)
        await override(rig, {"ERC-ZS-501-VERTICAL": True, "LOX-TT-103": 95.0})
        await step(lox, "start_slow_fill", "STARTING_SLOW_FILL", "SLOW_FILL")
        await refused(
            rig,
            lox,
            "start_fast_fill",
            {
                "LOX-LT-101": 1.0,
                "LOX-TT-103": 200.0,
                "LOX-VV-101-ZSO": False,
                "LOX-LSHH-101": True,
                "LOX-PT-101": 2.0,
            },
            [
                "slow fill done (level >= 5 %) (LOX-LT-101 = 1 (needs >= 5)",
                "transfer line chilled",
                "vehicle LOX vent open",
                "vehicle LOX tank not overfilled",
                "vehicle LOX ullage pressure low",
            ],
        )
        await override(rig, {"LOX-TT-103": 95.0})
        await refused(
            rig, lox, "start_fast_fill", {"LOX-LT-101": 95.0}, ["level below topping level"]
        )
        await refused(
            rig,
            lox,
            "start_topping",
            {
                "LOX-LT-101": 50.0,
                "LOX-LSH-101": True,
                "LOX-LSHH-101": True,
                "LOX-VV-101-ZSO": False,
            },
            [
                "level near flight level (>= 90 %)",
                "flight level not yet reached (LSH clear)",
                "vehicle LOX tank not overfilled",
                "vehicle LOX vent open",
            ],
        )
        await override(rig, {"LOX-LT-101": 95.0})
        await step(lox, "start_topping", "STARTING_TOPPING", "TOPPING")
        await refused(
            rig, lox, "start_replenish", {**unsafe_tank, "LOX-TT-103": 200.0}, replenish_names
        )
        await override(rig, {"LOX-LSH-101": True, "LOX-TT-103": 95.0})
        await step(lox, "start_replenish", "STARTING_REPLENISH", "REPLENISH")
        await release(rig, {"LOX-LSH-101": True})
        await refused(
            rig,
            lox,
            "close_for_flight",
            {"LOX-LSHH-101": True},
            [
                "countdown in terminal count (@terminal_count = false (needs == true)",
                "flight level reached (LSH made)",
                "vehicle LOX tank not overfilled",
            ],
        )
        with pytest.raises(CommandRefused, match="state is REPLENISH; start_drain needs SECURED"):
            await lox.command("start_drain", actor="propellant")
        assert rig.plant.read("LOX-DV-101-CMD").value is False
        assert lox.machine_state == "REPLENISH"


async def test_stuck_bleed_valve_faults_and_safes(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        lox = rig.subsystems["lox_loading"]
        rig.model.stick_actuator("LOX-FV-103")  # stuck closed
        outcome = await (await lox.command("start_chilldown", actor="propellant")).wait()
        assert outcome.startswith("fault: start_chilldown: no feedback within 30 s")
        assert "LOX-FV-103-ZSO = false" in outcome
        assert lox.machine_state == "FAULT" and lox.safed  # pump off, valves shut: proven
        assert rig.alarms.get("LOX_LOADING-FAULT").state is AlarmState.UNACK
        assert rig.plant.read("LOX-P-001-RUN").value is False
        with pytest.raises(CommandRefused, match="state is FAULT"):
            await lox.command("start_chilldown", actor="propellant")
        await lox.reset(actor="propellant")
        assert lox.machine_state == "SECURED"


async def test_fill_valve_stuck_open_leaves_safing_unproven(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        lox = rig.subsystems["lox_loading"]
        await override(rig, {"ERC-ZS-501-VERTICAL": True, "LOX-TT-103": 95.0})
        await step(lox, "start_chilldown", "STARTING_CHILLDOWN", "LINE_CHILLDOWN")
        await step(lox, "start_slow_fill", "STARTING_SLOW_FILL", "SLOW_FILL")
        rig.model.stick_actuator("LOX-FV-101")  # stuck open
        outcome = await (await lox.command("stop_fill", actor="propellant")).wait()
        assert outcome.startswith("fault: stop_fill: no feedback within 30 s")
        assert "LOX-FV-101-ZSC = false" in outcome
        assert lox.machine_state == "FAULT" and not lox.safed
        alarm = rig.alarms.get("LOX_LOADING-SAFING-FAILED")
        assert alarm.state is AlarmState.UNACK and "LOX-FV-101-ZSC = false" in alarm.detail
        assert rig.plant.read("LOX-P-001-RUN").value is False  # the rest is safe
        with pytest.raises(CommandRefused, match="safe state not proven"):
            await lox.reset(actor="propellant")
        rig.model.stick_actuator("LOX-FV-101", stuck=False)  # freed by the pad crew
        assert await lox.safe(actor="propellant", reason="valve freed")
        await lox.reset(actor="propellant")
        assert lox.machine_state == "SECURED"


async def test_lost_plc_mid_command_faults_then_recovers(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        lox = rig.subsystems["lox_loading"]
        ticket = await lox.command("start_chilldown", actor="propellant")
        await rig.sim.stall("PROP")  # PLC hangs: the feedback never comes
        outcome = await ticket.wait()
        assert outcome.startswith("fault:")
        assert lox.machine_state == "FAULT" and not lox.safed
        assert rig.alarms.get("LOX_LOADING-SAFING-FAILED").state is AlarmState.UNACK
        assert await rig.wait(lambda: not rig.plant.read("LOX-LT-001").is_good, 600)
        assert not await lox.safe(actor="propellant", reason="PLC still silent")
        with pytest.raises(CommandRefused, match=r"safe state not proven: .*STALE"):
            await lox.reset(actor="propellant")
        await rig.sim.restore_link("PROP")
        assert await rig.wait(lambda: rig.all_good(*SAFE_FEEDBACK_TAGS), 600)
        assert await lox.safe(actor="propellant", reason="PLC back")
        await lox.reset(actor="propellant")
        assert lox.machine_state == "SECURED"


async def test_uncommanded_changes_raise_an_alarm(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        await rig.sim.set_values("PROP", {"LOX-DV-101-CMD": True})  # a local panel
        alarm_id = "LOX_LOADING-UNCOMMANDED"
        assert await rig.wait(lambda: rig.alarms.get(alarm_id).state is AlarmState.UNACK, 300)
        detail = rig.alarms.get(alarm_id).detail
        assert "LOX-DV-101: LOX-DV-101-CMD is true, padctl commanded false" in detail
        assert await rig.wait_journal("uncommanded_change")
        await rig.sim.set_values("PROP", {"LOX-DV-101-CMD": False})
        rig.model.sensor_override("LOX-VV-101-ZSO", False)  # vent off its seat by itself

        def vent_alone() -> bool:
            detail = rig.alarms.get(alarm_id).detail
            return "LOX-VV-101-ZSO off its position" in detail and "LOX-DV-101" not in detail

        assert await rig.wait(vent_alone, 300)
        assert rig.alarms.get(alarm_id).state is AlarmState.UNACK


async def test_out_of_service_refuses_all_but_safing(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=FAST, specs=SPECS) as rig:
        lox = rig.subsystems["lox_loading"]
        await lox.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        for command in ("start_chilldown", "start_drain"):
            with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
                await lox.command(command, actor="propellant")
        assert await lox.safe(actor="maintenance", reason="lockout check")
        assert lox.machine_state == "SECURED"
        assert rig.plant.read("LOX-P-001-CMD").value is False


async def test_checkout_strokes_every_valve_and_names_a_slow_one(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=PRECISE, specs=SPECS) as rig:
        lox = rig.subsystems["lox_loading"]
        report = await lox.checkout(actor="propellant")
        assert report.passed, report.results
        assert report.skipped == ("LOX-P-001",)  # never run the LOX pump dry
        stroked = {result.actuator for result in report.results}
        assert stroked == set(LOX_LOADING.actuators) - {"LOX-P-001"}
        assert rig.plant.read("LOX-VV-101-ZSO").value is True  # vents back open
        rig.model.slow_actuator("LOX-FV-103", 3.0)
        report = await lox.checkout(actor="propellant")
        assert not report.passed
        failed = [result for result in report.results if not result.passed]
        assert [result.actuator for result in failed] == ["LOX-FV-103"]
        assert "limit 3 s" in failed[0].reason
        assert rig.alarms.get("LOX_LOADING-UNCOMMANDED").state is AlarmState.NORMAL
