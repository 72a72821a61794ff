"""Thermal conditioning (TCA air to stage 1, stage 2 and the payload fairing) on the simulated pad."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.subsystems import CommandRefused, Mode, Origin, Subsystem
from padctl.subsystems.thermal_conditioning import THERMAL_CONDITIONING
from tests.pad_rig import PadRig, override, pad_rig, release

pytestmark = pytest.mark.slow

SPECS = (THERMAL_CONDITIONING,)
RATE = 30.0  # dampers stroke in 30 s, supply air settles in about a minute


async def run(tca: Subsystem, command: str, via: str, dest: str) -> None:
    ticket = await tca.command(command, actor="pad-systems")
    assert tca.machine_state == via
    assert await ticket.wait() == "confirmed"
    assert tca.machine_state == dest


def fairing_air(rig: PadRig) -> float:
    return float(rig.plant.read("TCA-FT-413").value or 0.0)


async def test_transitions_starting_with_the_fairing_circuit(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS, rate=RATE) as rig:
        tca = rig.subsystems["thermal_conditioning"]
        assert tca.machine_state == "OFF"
        await run(tca, "start", "STARTING", "CONDITIONING")
        assert fairing_air(rig) >= 0.8
        assert rig.plant.read("TCA-TC-401-SP").value == 20.0
        assert rig.plant.read("TCA-TT-401").value >= 17
        rig.context.set("count_active", True)
        await run(tca, "disconnect", "STOPPING", "DISCONNECTED")
        assert rig.plant.read("TCA-FT-411").value <= 0.05
        await run(tca, "start_without_fairing", "STARTING", "CONDITIONING")  # recycle, no payload
        assert fairing_air(rig) <= 0.05 and rig.plant.read("TCA-CV-413-ZT").value <= 2
        assert rig.plant.read("TCA-FT-411").value >= 2.0
        rig.context.set("count_active", False)
        await run(tca, "stop", "STOPPING", "OFF")


async def test_transitions_starting_without_the_fairing_circuit(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS, rate=RATE) as rig:
        tca = rig.subsystems["thermal_conditioning"]
        await run(tca, "start_without_fairing", "STARTING", "CONDITIONING")
        assert fairing_air(rig) <= 0.05
        assert rig.plant.read("TCA-FT-412").value >= 1.2
        rig.context.set("count_active", True)
        await run(tca, "disconnect", "STOPPING", "DISCONNECTED")
        await run(tca, "start", "STARTING", "CONDITIONING")
        assert fairing_air(rig) >= 0.8
        await run(tca, "disconnect", "STOPPING", "DISCONNECTED")
        rig.context.set("count_active", False)
        await run(tca, "stop", "STOPPING", "OFF")  # count over: secure the unit
        assert rig.plant.read("TCA-TC-401-SP").value == 15.0
        kinds = await rig.journal_kinds()
        assert kinds.count("command_confirmed") == 5


async def test_every_permissive_refuses_and_changes_nothing(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS, rate=RATE) as rig:
        tca = rig.subsystems["thermal_conditioning"]
        with pytest.raises(CommandRefused, match="state is OFF; disconnect needs CONDITIONING"):
            await tca.command("disconnect", actor="pad-systems")
        cold = {"TCA-TT-400": -30.0, "PWR-ET-841": 300.0}
        await override(rig, cold)
        for command in ("start", "start_without_fairing"):
            with pytest.raises(CommandRefused) as refusal:
                await tca.command(command, actor="pad-systems")
            assert "pad main bus energized (fan and heater supply) (PWR-ET-841 = 300" in (
                refusal.value.reason
            )
            assert "outside air not below -20 degC" in refusal.value.reason
            assert "TCA-TT-400 = -30 (needs >= -20)" in refusal.value.reason
        await release(rig, cold)
        hot = {"TCA-TT-400": 35.0}
        await override(rig, hot)
        with pytest.raises(CommandRefused, match=r"outside air not above 30 degC \(the unit"):
            await tca.command("start", actor="pad-systems")
        assert tca.machine_state == "OFF"
        assert rig.plant.read("TCA-FAN-401-CMD").value is False
        await release(rig, hot)
        await run(tca, "start", "STARTING", "CONDITIONING")
        with pytest.raises(CommandRefused, match=r"countdown running \(disconnect is a count step"):
            await tca.command("disconnect", actor="pad-systems")
        rig.context.set("count_active", True)
        with pytest.raises(CommandRefused, match=r"no countdown running \(in a count the air"):
            await tca.command("stop", actor="pad-systems")
        assert tca.machine_state == "CONDITIONING"
        assert rig.plant.read("TCA-FAN-401-CMD").value is True
        kinds = await rig.journal_kinds()
        assert kinds.count("command_refused") == 6


async def test_modes_out_of_service_and_auto(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS, rate=RATE) as rig:
        tca = rig.subsystems["thermal_conditioning"]
        await tca.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
            await tca.command("start_without_fairing", actor="pad-systems")
        assert await tca.safe(actor="maintenance", reason="lockout check")
        await tca.set_mode(Mode.AUTO, actor="tc")
        with pytest.raises(CommandRefused, match="in AUTO"):
            await tca.command("start", actor="pad-systems")
        ticket = await tca.command("start_without_fairing", actor="count", origin=Origin.SEQUENCE)
        assert await ticket.wait() == "confirmed"
        assert await tca.safe(actor="tc", reason="hold")  # safing from CONDITIONING
        assert tca.machine_state == "OFF"
        assert rig.plant.read("TCA-CV-411-ZT").value <= 2


async def test_fan_that_does_not_start_faults_and_safes(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS, rate=RATE) as rig:
        tca = rig.subsystems["thermal_conditioning"]
        rig.model.stick_actuator("TCA-FAN-401")
        outcome = await (await tca.command("start", actor="pad-systems")).wait()
        assert outcome.startswith("fault: start: no feedback within 90 s")
        assert "TCA-FAN-401-RUN = false" in outcome and "TCA-FT-411 = 0" in outcome
        assert tca.machine_state == "FAULT" and tca.safed
        assert rig.alarms.get("THERMAL_CONDITIONING-FAULT").state is AlarmState.UNACK
        assert rig.plant.read("TCA-E-401-RUN").value is False
        assert rig.plant.read("TCA-CV-413-ZT").value <= 2
        await tca.reset(actor="pad-systems")
        assert tca.machine_state == "OFF"


async def test_uncommanded_heater_raises_an_alarm(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS, rate=RATE) as rig:
        await rig.sim.set_values("GAS", {"TCA-E-401-CMD": True})  # switched on at the unit
        assert await rig.wait(
            lambda: rig.alarms.get("THERMAL_CONDITIONING-UNCOMMANDED").state is AlarmState.UNACK,
            120,
        )
        detail = rig.alarms.get("THERMAL_CONDITIONING-UNCOMMANDED").detail
        assert "TCA-E-401-CMD is true, padctl commanded false" in detail
        assert await rig.wait_journal("uncommanded_change", 30)


async def test_checkout_passes_then_names_a_slow_heater(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS, rate=20.0) as rig:
        tca = rig.subsystems["thermal_conditioning"]
        report = await tca.checkout(actor="pad-systems")
        assert report.passed, report.results
        assert [r.actuator for r in report.results] == ["TCA-FAN-401", "TCA-E-401"]
        # The checkout stops the heater as soon as RUN drops (below half output): let it
        # run down to rest first, or the slowed run-down leaves it half spun up for the next
        # stroke (measured 7.16 s to running instead of 10 s).
        assert await rig.wait(lambda: rig.model.actuator_settled("TCA-E-401"), 60)
        rig.model.slow_actuator("TCA-E-401", 4.0)  # 10 s to running, limit 7.5 s
        report = await tca.checkout(actor="pad-systems")
        assert not report.passed
        failed = [r for r in report.results if not r.passed]
        assert [r.actuator for r in failed] == ["TCA-E-401"]
        assert "limit 7.5 s" in failed[0].reason
        assert tca.machine_state == "OFF"
