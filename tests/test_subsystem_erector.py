"""Erector against the simulated pad: raise, lock, withdraw, lower, faults, watch, checkout.

A raise takes about 140 clock seconds: these tests run the clock 50 times faster.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.subsystems import CommandRefused, Mode, Subsystem
from padctl.subsystems.erector import ERECTOR
from tests.pad_rig import PadRig, pad_rig

pytestmark = pytest.mark.slow

SPECS = (ERECTOR,)
RATE = 50.0


def angle(rig: PadRig) -> float:
    return float(rig.plant.read("ERC-ZT-501").value or 0)


def flag(rig: PadRig, tag: str) -> bool:
    return rig.plant.read(tag).value is True


async def confirmed(erector: Subsystem, command: str, via: str = "") -> None:
    ticket = await erector.command(command, actor="pad-systems")
    if via:
        assert erector.machine_state == via
    assert await ticket.wait() == "confirmed", erector.last_fault


async def stop_part_way(
    rig: PadRig, erector: Subsystem, command: str, reached: Callable[[], bool]
) -> None:
    """Start `command`, safe the erector once `reached()` holds: it stops there, STOPPED."""
    ticket = await erector.command(command, actor="pad-systems")
    assert await rig.wait(reached, 200)
    assert await erector.safe(actor="pad-systems", reason="stop part way")
    assert await ticket.wait() == "fault: interrupted by safing"
    assert erector.machine_state == "STOPPED"
    assert not flag(rig, "ERC-P-501-RUN")


async def test_raise_lock_withdraw_lower_and_grip(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=RATE, specs=SPECS) as rig:
        erector = rig.subsystems["erector"]
        assert erector.machine_state == "HORIZONTAL"
        await stop_part_way(rig, erector, "raise", lambda: angle(rig) > 30)
        assert 30 < angle(rig) < 60
        await confirmed(erector, "raise", via="RAISING")  # continues from STOPPED
        assert erector.machine_state == "VERTICAL"
        assert float(rig.plant.read("ERC-ZT-502").value or 0) >= 89.999
        assert await rig.wait(lambda: rig.plant.read("ERC-M-501-RAISE-CMD").value is False, 10)
        assert flag(rig, "ERC-P-501-RUN")  # the hydraulics hold it until the locks are in
        await confirmed(erector, "lock", via="LOCKING")
        assert erector.machine_state == "VERTICAL_LOCKED"
        assert await rig.wait(lambda: not flag(rig, "ERC-P-501-RUN"), 20)
        assert await erector.safe(actor="pad-systems", reason="test")
        await confirmed(erector, "lock", via="LOCKING")  # from STOPPED: already locked
        assert erector.machine_state == "VERTICAL_LOCKED"

        await stop_part_way(rig, erector, "withdraw", lambda: angle(rig) < 85)
        await confirmed(erector, "withdraw", via="WITHDRAWING")
        assert erector.machine_state == "WITHDRAWN"
        assert flag(rig, "ERC-ZS-501-WITHDRAWN") and flag(rig, "ERC-LK-513-UNLOCKED")
        await stop_part_way(rig, erector, "lower", lambda: angle(rig) < 60)
        await confirmed(erector, "lower", via="LOWERING")
        assert erector.machine_state == "HORIZONTAL"
        await confirmed(erector, "grip_vehicle", via="GRIPPING")
        assert erector.machine_state == "HORIZONTAL"
        assert flag(rig, "ERC-LK-513-LOCKED") and flag(rig, "ERC-LK-514-LOCKED")
        assert await erector.safe(actor="pad-systems", reason="test")
        await confirmed(erector, "grip_vehicle", via="GRIPPING")
        assert erector.machine_state == "HORIZONTAL"
        # padctl commanded every move: the watch saw nothing uncommanded
        assert erector.watch.discrepancies == {}
        assert rig.alarms.get("ERECTOR-UNCOMMANDED").state is AlarmState.NORMAL
        kinds = await rig.journal_kinds()
        assert kinds.count("command_confirmed") == 7


async def test_lower_the_vehicle_back_from_vertical(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=RATE, specs=SPECS) as rig:
        erector = rig.subsystems["erector"]
        await confirmed(erector, "raise")
        with pytest.raises(CommandRefused, match="cable mast retracted"):
            await erector.command("lower_vehicle", actor="pad-systems")
        await rig.plant.write("CBM-M-601-RETRACT-CMD", True, actor="test")  # umbilicals off
        assert await rig.wait(lambda: flag(rig, "CBM-M-601-RETRACTED"), 30)
        await stop_part_way(rig, erector, "lower_vehicle", lambda: angle(rig) < 80)
        await confirmed(erector, "raise")
        await confirmed(erector, "lock")
        assert erector.machine_state == "VERTICAL_LOCKED"
        await stop_part_way(rig, erector, "lower_vehicle", lambda: angle(rig) < 80)
        await confirmed(erector, "lower_vehicle", via="LOWERING")
        assert erector.machine_state == "HORIZONTAL"
        assert flag(rig, "ERC-LK-513-LOCKED")  # the vehicle came down in its grips
        assert erector.watch.discrepancies == {}


async def test_every_permissive_refuses_by_name_and_changes_nothing(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=RATE, specs=SPECS) as rig:
        erector = rig.subsystems["erector"]
        with pytest.raises(
            CommandRefused, match="state is HORIZONTAL; withdraw needs VERTICAL_LOCKED or STOPPED"
        ):
            await erector.command("withdraw", actor="op")
        assert await erector.safe(actor="pad-systems", reason="test")  # STOPPED: all allowed
        overrides: dict[str, float | bool] = {
            "PWR-ET-841": 0.0,
            "ERC-LT-501": 10.0,
            "ERC-TT-501": 90.0,
            "ERC-ZT-501": 45.0,
            "ERC-ZT-502": 45.0,
            "ERC-ZS-501-HORIZONTAL": False,
            "LOX-LT-101": 50.0,
            "RG1-LT-101": 50.0,
            "LOX-FV-101-ZSC": False,
            "LOX-FV-102-ZSC": False,
            "RG1-FV-101-ZSC": False,
        }
        for n in (511, 512, 513, 514):
            overrides[f"ERC-LK-{n}-UNLOCKED"] = False
            overrides[f"ERC-LK-{n}-LOCKED"] = False
        for n in (1, 2, 3, 4):
            overrides[f"HDC-M-70{n}-CLAMPED"] = False
        for tag, value in overrides.items():
            rig.model.sensor_override(tag, value)
        assert await rig.wait(
            lambda: all(rig.plant.read(t).value == v for t, v in overrides.items()), 30
        )
        for command in ERECTOR.commands:
            with pytest.raises(CommandRefused) as refused:
                await erector.command(command.name, actor="op")
            for interlock in command.permissives:
                assert f"{interlock.name} (" in refused.value.reason, (command.name, interlock)
        assert erector.machine_state == "STOPPED"
        for tag in ("ERC-P-501-CMD", "ERC-M-501-RAISE-CMD", "ERC-M-501-LOWER-CMD"):
            assert rig.plant.read(tag).value is False
        assert rig.plant.read("ERC-LK-513-CMD").value is True  # the grips were not touched
        kinds = await rig.journal_kinds()
        assert kinds.count("command_refused") == 1 + len(ERECTOR.commands)
        assert "command_accepted" not in kinds


async def test_a_jammed_drive_faults_and_safing_stops_the_pump(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=RATE, specs=SPECS) as rig:
        erector = rig.subsystems["erector"]
        ticket = await erector.command("raise", actor="pad-systems")
        assert await rig.wait(lambda: angle(rig) > 5, 60)
        rig.model.stick_actuator("ERC-M-501")
        outcome = await ticket.wait()
        assert outcome.startswith("fault: raise: no feedback within 200 s")
        assert "ERC-ZS-501-VERTICAL = false" in outcome
        assert erector.machine_state == "FAULT" and erector.safed
        assert rig.alarms.get("ERECTOR-FAULT").state is AlarmState.UNACK
        assert rig.plant.read("ERC-M-501-RAISE-CMD").value is False
        assert not flag(rig, "ERC-P-501-RUN")
        with pytest.raises(CommandRefused, match="state is FAULT"):
            await erector.command("lower_vehicle", actor="pad-systems")
        await erector.reset(actor="pad-systems")
        assert erector.machine_state == "STOPPED"
        assert 5 < angle(rig) < 89


async def test_uncommanded_pump_start_and_grip_drop_raise_an_alarm(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, rate=RATE, specs=SPECS) as rig:
        await rig.sim.set_values("MECH", {"ERC-P-501-CMD": True})  # a local panel starts it
        rig.model.sensor_override("ERC-LK-514-LOCKED", False)  # a grip switch drops out
        alarm = "ERECTOR-UNCOMMANDED"
        assert await rig.wait(
            lambda: (
                rig.alarms.get(alarm).state is AlarmState.UNACK
                and "ERC-LK-514" in rig.alarms.get(alarm).detail
                and "ERC-P-501" in rig.alarms.get(alarm).detail
            ),
            60,
        )
        detail = rig.alarms.get(alarm).detail
        assert "ERC-P-501-CMD is true, padctl commanded false" in detail
        assert "ERC-LK-514-LOCKED off its position without a command" in detail
        assert await rig.wait_journal("uncommanded_change", timeout_s=60)


async def test_checkout_strokes_the_pump_and_out_of_service_refuses(tmp_path: Path) -> None:
    async with pad_rig(tmp_path, specs=SPECS) as rig:
        erector = rig.subsystems["erector"]
        with pytest.raises(CommandRefused, match="needs state STOPPED"):
            await erector.checkout(actor="pad-systems")
        assert await erector.safe(actor="pad-systems", reason="before checkout")
        report = await erector.checkout(actor="pad-systems")
        assert report.passed, report
        assert [r.actuator for r in report.results] == ["ERC-P-501"]
        assert report.skipped == ("ERC-LK-513", "ERC-LK-514")  # grips hold the vehicle
        # RUN drops at half speed: let the pump run down before timing it again
        assert await rig.wait(lambda: float(rig.plant.read("ERC-PT-501").value or 0) < 1, 60)
        rig.model.slow_actuator("ERC-P-501", 5)
        report = await erector.checkout(actor="pad-systems")
        assert not report.passed
        (pump,) = report.results
        assert (
            pump.actuator == "ERC-P-501"
            and "to on:" in pump.reason
            and "limit 4.5 s" in (pump.reason)
        )
        await erector.set_mode(Mode.OUT_OF_SERVICE, actor="maintenance")
        with pytest.raises(CommandRefused, match="OUT OF SERVICE"):
            await erector.command("raise", actor="op")
        assert rig.plant.read("ERC-P-501-CMD").value is False
