"""A resting subsystem whose plant stops showing its state raises an uncommanded-change alarm.

This covers the systems whose moving parts are held commands rather than bool actuators
(hold-downs, cable mast) and the vehicle interface, which the actuator watch cannot judge.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.subsystems.cable_mast import CABLE_MAST
from padctl.subsystems.hold_downs import HOLD_DOWNS
from padctl.subsystems.vehicle_interface import VEHICLE_INTERFACE
from tests.pad_rig import pad_rig

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("spec", "state", "switch", "value"),
    [
        (HOLD_DOWNS, "CLAMPED", "HDC-M-703-CLAMPED", False),
        (CABLE_MAST, "CONNECTED", "CBM-M-601-CONNECTED", False),
    ],
)
async def test_a_resting_state_that_changes_by_itself_raises_an_alarm(
    tmp_path: Path,
    spec,
    state: str,
    switch: str,
    value: bool,  # type: ignore[no-untyped-def]
) -> None:
    async with pad_rig(tmp_path, rate=10, specs=(spec,)) as rig:
        subsystem = rig.subsystems[spec.name]
        assert subsystem.machine_state == state
        alarm = f"{spec.name.upper()}-UNCOMMANDED"
        rig.model.sensor_override(switch, value)
        assert await rig.wait(lambda: rig.alarms.get(alarm).state is AlarmState.UNACK, 30)
        assert f"{state} no longer shown" in rig.alarms.get(alarm).detail
        assert switch in rig.alarms.get(alarm).detail
        assert subsystem.machine_state == state  # an alarm, not a guess at a new state
        rig.model.sensor_override(switch, None)
        assert await rig.wait(lambda: rig.alarms.get(alarm).state is AlarmState.RTN_UNACK, 30)


async def test_a_vehicle_that_boots_by_itself_is_not_an_uncommanded_change(
    tmp_path: Path,
) -> None:
    async with pad_rig(tmp_path, rate=10, specs=(VEHICLE_INTERFACE,)) as rig:
        vehicle = rig.subsystems["vehicle_interface"]
        assert vehicle.machine_state == "NOT_READY"
        rig.model.sensor_override("VEH-SEQ-READY", True)  # the sequencer boots on ground power
        assert await rig.wait(lambda: rig.plant.read("VEH-SEQ-READY").value is True, 30)
        # NOT_READY is recognised at start-up but not watched at rest: nothing to report.
        assert vehicle._rest.discrepancy("NOT_READY", busy=False) is None
        assert rig.alarms.get("VEHICLE_INTERFACE-UNCOMMANDED").state is AlarmState.NORMAL
        assert vehicle.machine_state == "NOT_READY"
