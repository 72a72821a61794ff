"""Water deluge (pump P-801, launch deluge FV-801, trench cooling FV-802) on the simulated pad."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.subsystems import CommandRefused, Mode, Origin, Subsystem
from padctl.subsystems.water_deluge import WATER_DELUGE
from tests.pad_rig import override, pad_rig, release

pytestmark = pytest.mark.slow

SPECS = (WATER_DELUGE,)


async def run(deluge: Subsystem, command: str, via: str, dest: str) -> None:
    ticket = await deluge.command(command, actor="pad-systems")
    assert deluge.machine_state == via
    assert await ticket.wait() == "confirmed"
    assert deluge.machine_state == dest


async def refused(deluge: Subsystem, command: str) -> str:
    with pytest.raises(CommandRefused) as refusal:
        await deluge.command(command, actor="pad-systems")
    return refusal.value.reason


async def test_every_water_deluge_transition(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        deluge = rig.subsystems["water_deluge"]
        assert deluge.machine_state == "STANDBY"
        assert WATER_DELUGE.command("start_flow").hazardous
        await run(deluge, "arm", "ARMING", "ARMED")
        assert rig.plant.read("DLG-PT-801").value >= 10
        await run(deluge, "start_flow", "FLOW_STARTING", "FLOWING")
        assert rig.plant.read("DLG-FT-801").value >= 3000
        assert rig.plant.read("DLG-FT-802").value >= 900
        await run(deluge, "stop_flow", "STOPPING", "STOPPED")
        await run(deluge, "arm", "ARMING", "ARMED")  # re-armed after a flow (a recycle)
        await run(deluge, "disarm", "STOPPING", "STANDBY")
        await run(deluge, "arm", "ARMING", "ARMED")
        await run(deluge, "start_flow", "FLOW_STARTING", "FLOWING")
        await run(deluge, "stop_flow", "STOPPING", "STOPPED")
        await run(deluge, "disarm", "STOPPING", "STANDBY")
        assert rig.plant.read("DLG-FQ-801").value > 0  # water was used
        kinds = await rig.journal_kinds()
        assert kinds.count("command_confirmed") == 9


async def test_every_permissive_refuses_and_changes_nothing(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        deluge = rig.subsystems["water_deluge"]
        assert "state is STANDBY; start_flow needs ARMED" in await refused(deluge, "start_flow")
        arm_blockers = {
            "DLG-LT-801": 50.0,
            "PWR-ET-841": 300.0,
            "DLG-FV-801-ZSC": False,
            "DLG-FV-802-ZSC": False,
        }
        await override(rig, arm_blockers)
        reason = await refused(deluge, "arm")
        for name in (
            "deluge tank level at 80 % or more (DLG-LT-801 = 50 (needs >= 80)",
            "pad main bus energized (pump supply) (PWR-ET-841 = 300",
            "DLG-FV-801 closed (pump starts against closed valves)",
            "DLG-FV-802 closed (pump starts against closed valves)",
        ):
            assert name in reason
        assert deluge.machine_state == "STANDBY"
        assert rig.plant.read("DLG-P-801-CMD").value is False
        await release(rig, arm_blockers)
        await run(deluge, "arm", "ARMING", "ARMED")
        flow_blockers = {"DLG-P-801-RUN": False, "DLG-PT-801": 5.0, "DLG-LT-801": 10.0}
        await override(rig, flow_blockers)
        reason = await refused(deluge, "start_flow")
        for name in (
            "deluge pump P-801 running (DLG-P-801-RUN = false",
            "deluge pump discharge at 10 bar or more (DLG-PT-801 = 5",
            "deluge tank level at 20 % or more (DLG-LT-801 = 10",
        ):
            assert name in reason
        assert deluge.machine_state == "ARMED"
        assert rig.plant.read("DLG-FV-801-CMD").value is False
        await release(rig, flow_blockers)
        rig.context.set("terminal_count", True)
        reason = await refused(deluge, "disarm")
        assert "not in terminal count (the deluge stays armed for liftoff)" in reason
        assert "@terminal_count = true (needs == false)" in reason
        assert deluge.machine_state == "ARMED"
        assert rig.plant.read("DLG-P-801-CMD").value is True
        kinds = await rig.journal_kinds()
        assert kinds.count("command_refused") == 4


async def test_modes_out_of_service_and_auto(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        deluge = rig.subsystems["water_deluge"]
        await deluge.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
            await deluge.command("arm", actor="pad-systems")
        assert await deluge.safe(actor="maintenance", reason="lockout check")
        await deluge.set_mode(Mode.AUTO, actor="tc")
        with pytest.raises(CommandRefused, match="in AUTO"):
            await deluge.command("arm", actor="pad-systems")
        ticket = await deluge.command("arm", actor="count", origin=Origin.SEQUENCE)
        assert await ticket.wait() == "confirmed"
        ticket = await deluge.command("start_flow", actor="count", origin=Origin.SEQUENCE)
        assert await ticket.wait() == "confirmed"
        assert await deluge.safe(actor="safety", reason="abort")  # safing stops the water
        assert deluge.machine_state == "STANDBY"
        assert rig.plant.read("DLG-FT-801").value <= 50


async def test_stuck_deluge_valve_faults_and_safing_stops_the_pump(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        deluge = rig.subsystems["water_deluge"]
        await run(deluge, "arm", "ARMING", "ARMED")
        rig.model.stick_actuator("DLG-FV-801")
        outcome = await (await deluge.command("start_flow", actor="pad-systems")).wait()
        assert outcome.startswith("fault: start_flow: no feedback within 11 s")
        assert "DLG-FV-801-ZSO = false" in outcome and "DLG-FT-801 = 0" in outcome
        assert deluge.machine_state == "FAULT" and deluge.safed
        assert rig.alarms.get("WATER_DELUGE-FAULT").state is AlarmState.UNACK
        assert rig.plant.read("DLG-P-801-RUN").value is False
        assert rig.plant.read("DLG-FV-802-ZSC").value is True
        with pytest.raises(CommandRefused, match="state is FAULT"):
            await deluge.command("arm", actor="pad-systems")
        await deluge.reset(actor="pad-systems")
        assert deluge.machine_state == "STANDBY"


async def test_uncommanded_valve_opening_raises_an_alarm(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        await rig.sim.set_values("SAFE", {"DLG-FV-802-CMD": True})  # opened at a local panel
        assert await rig.wait(
            lambda: rig.alarms.get("WATER_DELUGE-UNCOMMANDED").state is AlarmState.UNACK, 60
        )
        detail = rig.alarms.get("WATER_DELUGE-UNCOMMANDED").detail
        assert "DLG-FV-802-CMD is true, padctl commanded false" in detail
        assert await rig.wait_journal("uncommanded_change")


async def test_checkout_strokes_the_valves_not_the_pump(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        deluge = rig.subsystems["water_deluge"]
        report = await deluge.checkout(actor="pad-systems")
        assert report.passed, report.results
        assert [r.actuator for r in report.results] == ["DLG-FV-801", "DLG-FV-802"]
        assert report.skipped == ("DLG-P-801",)
        assert rig.plant.read("DLG-P-801-RUN").value is False
        rig.model.slow_actuator("DLG-FV-802", 2.0)  # 6 s strokes against a 4.5 s limit
        report = await deluge.checkout(actor="pad-systems")
        assert not report.passed
        failed = [r for r in report.results if not r.passed]
        assert [r.actuator for r in failed] == ["DLG-FV-802"]
        assert "limit 4.5 s" in failed[0].reason
