"""Gas supply (GN2 purges, GHE spheres and flight pressurization) against the simulated pad."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.subsystems import CommandRefused, Mode, Origin, Subsystem
from padctl.subsystems.gas_supply import GAS_SUPPLY
from tests.pad_rig import override, pad_rig, release

pytestmark = pytest.mark.slow

SPECS = (GAS_SUPPLY,)


async def run(gas: Subsystem, command: str, via: str, dest: str) -> None:
    """Give a command, see its in-progress state, and wait for it to be confirmed in `dest`."""
    ticket = await gas.command(command, actor="gases")
    assert gas.machine_state == via
    assert await ticket.wait() == "confirmed"
    assert gas.machine_state == dest


async def refused(gas: Subsystem, command: str) -> str:
    with pytest.raises(CommandRefused) as refusal:
        await gas.command(command, actor="gases")
    return refusal.value.reason


async def test_every_gas_supply_transition(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        gas = rig.subsystems["gas_supply"]
        assert gas.machine_state == "COMPARTMENT_PURGE"  # recognised: the PLC's safe line-up
        await run(gas, "stop_purge", "CONFIGURING", "IDLE")
        assert rig.plant.read("GN2-FT-211").value == pytest.approx(0.0, abs=0.005)
        await run(gas, "start_purge", "CONFIGURING", "COMPARTMENT_PURGE")
        await run(gas, "start_loading", "CONFIGURING", "PRESSURANT_LOADING")
        assert await rig.wait(lambda: rig.plant.read("GHE-PT-311").value > 2.0, 30)
        await run(gas, "stop_loading", "CONFIGURING", "PRESSURANT_LOADED")
        rig.context.set("terminal_count", True)
        # A full load takes half an hour; the vehicle vents are shut by the loading systems.
        flight_ready = {"GHE-PT-311": 200.0, "LOX-VV-101-ZSC": True, "RG1-VV-101-ZSC": True}
        await override(rig, flight_ready)
        await run(gas, "start_flight_pressurization", "CONFIGURING", "FLIGHT_PRESSURIZATION")
        await run(gas, "stop_flight_pressurization", "CONFIGURING", "PRESSURANT_LOADED")
        await release(rig, {"GHE-PT-311": 200.0})
        for tag in ("LOX-VV-101-ZSC", "RG1-VV-101-ZSC"):
            rig.model.sensor_override(tag, None)
        await run(gas, "vent", "VENTING", "COMPARTMENT_PURGE")
        assert rig.plant.read("GHE-PT-311").value <= 5
        await run(gas, "stop_purge", "CONFIGURING", "IDLE")
        assert await gas.safe(actor="gases", reason="end of shift")  # safing restarts purges
        assert gas.machine_state == "COMPARTMENT_PURGE"
        assert rig.plant.read("GN2-FV-211-ZSO").value is True
        kinds = await rig.journal_kinds()
        assert kinds.count("command_confirmed") == 8


async def test_every_permissive_refuses_and_changes_nothing(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        gas = rig.subsystems["gas_supply"]
        assert "state is COMPARTMENT_PURGE; vent needs PRESSURANT_LOADED" in await refused(
            gas, "vent"
        )
        tanks_full = {"LOX-LT-101": 40.0, "RG1-LT-101": 40.0}
        await override(rig, tanks_full)
        reason = await refused(gas, "stop_purge")
        assert "no LOX aboard (vehicle LOX tank empty) (LOX-LT-101 = 40" in reason
        assert "no RG-1 aboard (vehicle RG-1 tank empty) (RG1-LT-101 = 40" in reason
        await release(rig, tanks_full)
        loading_blockers = {
            "GHE-PT-301": 100.0,
            "GHE-PT-302": 100.0,
            "GN2-PT-203": 2.0,
            "GHE-FV-321-ZSC": False,
            "GHE-FV-322-ZSC": False,
        }
        await override(rig, loading_blockers)
        reason = await refused(gas, "start_loading")
        for name in (
            "GHE bottle bank A above 220 bar",
            "GHE bottle bank B above 220 bar",
            "compartment purge on (GN2 purge regulator holding 8 bar or more) (GN2-PT-203 = 2",
            "flight pressurization valve GHE-FV-321 closed",
            "flight pressurization valve GHE-FV-322 closed",
        ):
            assert name in reason
        assert gas.machine_state == "COMPARTMENT_PURGE"
        assert rig.plant.read("GHE-FV-301-CMD").value is False
        assert rig.plant.read("GHE-VV-311-CMD").value is True
        await release(rig, loading_blockers)
        await run(gas, "stop_purge", "CONFIGURING", "IDLE")
        banks_low = {"GN2-PT-201": 30.0, "GN2-PT-202": 30.0}
        await override(rig, banks_low)
        reason = await refused(gas, "start_purge")
        assert "GN2 bottle bank A above 50 bar (GN2-PT-201 = 30 (needs >= 50)" in reason
        assert "GN2 bottle bank B above 50 bar" in reason
        assert gas.machine_state == "IDLE" and rig.plant.read("GN2-FV-201-CMD").value is False
        await release(rig, banks_low)
        await run(gas, "start_purge", "CONFIGURING", "COMPARTMENT_PURGE")
        await run(gas, "start_loading", "CONFIGURING", "PRESSURANT_LOADING")
        await run(gas, "stop_loading", "CONFIGURING", "PRESSURANT_LOADED")
        header_low = {"GHE-PT-303": 5.0, "GHE-VV-311-ZSC": False}
        await override(rig, header_low)
        reason = await refused(gas, "start_flight_pressurization")
        for name in (
            "terminal count running (@terminal_count = false (needs == true)",
            "pressurant spheres loaded (190 bar or more) (GHE-PT-311 = ",
            "GHE header at 10 bar or more (GHE-PT-303 = 5",
            "GHE spheres vent valve closed (GHE-VV-311-ZSC = false",
            "vehicle LOX tank vent closed (LOX-VV-101-ZSC = false",
            "vehicle RG-1 tank vent closed (RG1-VV-101-ZSC = false",
        ):
            assert name in reason
        await release(rig, header_low)
        vent_blockers = {"GHE-FV-311-ZSC": False, "GHE-FV-321-ZSC": False, "GHE-FV-322-ZSC": False}
        await override(rig, vent_blockers)
        reason = await refused(gas, "vent")
        assert "GHE spheres loading valve closed (GHE-FV-311-ZSC = false" in reason
        assert "flight pressurization valve GHE-FV-321 closed" in reason
        assert "flight pressurization valve GHE-FV-322 closed" in reason
        assert gas.machine_state == "PRESSURANT_LOADED"
        assert rig.plant.read("GHE-VV-311-CMD").value is False
        kinds = await rig.journal_kinds()
        assert kinds.count("command_refused") == 6


async def test_modes_out_of_service_and_auto(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        gas = rig.subsystems["gas_supply"]
        await gas.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
            await gas.command("start_loading", actor="gases")
        assert await gas.safe(actor="maintenance", reason="lockout check")
        await gas.set_mode(Mode.AUTO, actor="tc")
        with pytest.raises(CommandRefused, match="in AUTO"):
            await gas.command("start_loading", actor="gases")
        ticket = await gas.command("start_loading", actor="count", origin=Origin.SEQUENCE)
        assert await ticket.wait() == "confirmed"
        with pytest.raises(CommandRefused, match="out of service needs state COMPARTMENT_PURGE"):
            await gas.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")


async def test_stuck_loading_valve_faults_and_safing_vents_the_spheres(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        gas = rig.subsystems["gas_supply"]
        rig.model.stick_actuator("GHE-FV-311")
        outcome = await (await gas.command("start_loading", actor="gases")).wait()
        assert outcome.startswith("fault: start_loading: no feedback within 20 s")
        assert "GHE-FV-311-ZSO = false" in outcome
        assert gas.machine_state == "FAULT" and gas.safed
        assert rig.alarms.get("GAS_SUPPLY-FAULT").state is AlarmState.UNACK
        for tag, safe in (("GHE-FV-301-ZSC", True), ("GHE-VV-311-ZSO", True)):
            assert rig.plant.read(tag).value is safe
        assert rig.plant.read("GHE-PC-301-SP").value == 0.0
        await gas.reset(actor="gases")
        assert gas.machine_state == "COMPARTMENT_PURGE"


async def test_lost_gas_plc_mid_command_faults_and_safing_is_not_proven(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        gas = rig.subsystems["gas_supply"]
        ticket = await gas.command("start_loading", actor="gases")
        await rig.sim.stall("GAS")  # the OPC UA PLC hangs: no feedback, no safing
        outcome = await ticket.wait()
        assert outcome.startswith("fault:")
        assert gas.machine_state == "FAULT" and not gas.safed
        assert rig.alarms.get("GAS_SUPPLY-SAFING-FAILED").state is AlarmState.UNACK
        with pytest.raises(CommandRefused, match="safe state not proven"):
            await gas.reset(actor="gases")
        await rig.sim.restore_link("GAS")


async def test_uncommanded_helium_isolation_valve_raises_an_alarm(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        await rig.sim.set_values("GAS", {"GHE-FV-301-CMD": True})  # opened at a local panel
        assert await rig.wait(
            lambda: (
                rig.alarms.get("GAS_SUPPLY-UNCOMMANDED").state is AlarmState.UNACK
                and "GHE-FV-301-CMD is true, padctl commanded false"
                in rig.alarms.get("GAS_SUPPLY-UNCOMMANDED").detail
            ),
            60,
        )
        assert await rig.wait_journal("uncommanded_change")


async def test_checkout_passes_on_a_healthy_pad(tmp_path: Path) -> None:
    # Rate 3: comm latency counts in a stroke's clock time, keep it small beside a 3 s limit.
    async with pad_rig(tmp_path, specs=SPECS, rate=3.0) as rig:
        gas = rig.subsystems["gas_supply"]
        report = await gas.checkout(actor="gases")
        assert report.passed, report.results
        assert {r.actuator for r in report.results} == set(GAS_SUPPLY.actuators)
        assert report.skipped == ()
        assert gas.machine_state == "COMPARTMENT_PURGE"


async def test_checkout_names_a_slow_purge_valve(tmp_path: Path) -> None:
    # Rate 3: comm latency counts in a stroke's clock time, keep it small beside a 3 s limit.
    async with pad_rig(tmp_path, specs=SPECS, rate=3.0) as rig:
        gas = rig.subsystems["gas_supply"]
        rig.model.slow_actuator("GN2-FV-212", 2.5)  # 5 s strokes against a 3 s limit
        report = await gas.checkout(actor="gases")
        assert not report.passed
        failed = [r for r in report.results if not r.passed]
        assert [r.actuator for r in failed] == ["GN2-FV-212"]
        assert "limit 3 s" in failed[0].reason
        assert gas.machine_state == "COMPARTMENT_PURGE"
        assert rig.plant.read("GN2-FV-212-CMD").value is True  # stroked back home
