"""A resting subsystem whose plant stops showing its state raises an uncommanded-change alarm.

This covers the systems whose moving parts are held commands rather than bool actuators
(hold-downs, cable mast) and the vehicle interface, which the actuator watch cannot judge.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import AlarmState
from padctl.clock import ManualClock
from padctl.definition import load_pad_definition
from padctl.pace import Pace
from padctl.plant import Quality, Sample
from padctl.subsystems._watch import ActuatorWatch
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


class _ReadBacks:
    """The plant as the watch sees it: the latest sample of each tag, set by the test."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self.samples: dict[str, Sample] = {}
        self.pace = Pace(clock, poll_wall_s=0.02)

    def show(self, tag: str, value: bool) -> None:
        now_s = self._clock.now()
        self.samples[tag] = Sample(
            tag, value, Quality.GOOD, now_s, now_s, t_received_wall_s=self._clock.monotonic()
        )

    def read(self, tag: str) -> Sample:
        return self.samples[tag]


async def test_a_read_back_from_before_the_write_is_not_an_uncommanded_change() -> None:
    """Found in a loaded suite run: a nominal count raised LOX_LOADING-UNCOMMANDED ("LOX-FV-
    102-CMD is false, padctl commanded true") when the read-back that arrived after the
    settling time had been read before the write landed. Only a read-back received after the
    PLC acknowledged the write is judged; a later one that disagrees is still an alarm."""
    clock = ManualClock()
    valve = load_pad_definition().actuator("LOX-FV-102")
    plant = _ReadBacks(clock)
    for tag in (valve.command, valve.on_feedback):
        plant.show(tag, False)
    changes: list[tuple[str, bool]] = []

    async def on_change(detail: str, active: bool) -> None:
        changes.append((detail, active))

    watch = ActuatorWatch(
        subsystem="lox_loading", actuators=[valve], plant=plant, clock=clock, on_change=on_change
    )  # type: ignore[arg-type]
    watch.take_up(valve.command, False)  # as start() does, without its checking task
    watch.commanded(valve.command, True)
    clock.advance(valve.timeout_s + 1.0)  # a slow write: settled before it is acknowledged
    await watch.check()
    assert changes == []  # the write is still on the wire
    stale_read_back = plant.samples[valve.command]
    watch.written(valve.command)
    clock.advance(0.5)
    plant.samples[valve.command] = stale_read_back  # read before the write landed
    await watch.check()
    assert changes == []
    plant.show(valve.command, True)
    plant.show(valve.on_feedback, True)
    await watch.check()
    assert changes == []
    clock.advance(1.0)
    plant.show(valve.command, False)  # now the PLC's output truly changed by itself
    await watch.check()
    assert changes and changes[-1][1] is True and "padctl commanded true" in changes[-1][0]


async def test_a_commanded_stroke_is_a_timing_window_until_it_shows_or_is_judged() -> None:
    """Found in a loaded suite run (the nominal count at rate 200): once the erector's
    withdraw was confirmed, its "after feedback" writes stopped the pump outside the
    command's timing window; the rate went back up and the pump's stroke time passed in
    0.18 s of wall time before the simulator had scanned the stop: ERECTOR-UNCOMMANDED
    "ERC-P-501-RUN at its position without a command". Each watched stroke is a window the
    pace honours, from the command until the feedback shows, or until it is judged."""
    clock = ManualClock()
    definition = load_pad_definition()
    pump, valve = definition.actuator("ERC-P-501"), definition.actuator("LOX-FV-102")
    plant = _ReadBacks(clock)
    for tag in (pump.command, pump.on_feedback, valve.command, valve.on_feedback):
        plant.show(tag, True)
    changes: list[tuple[str, bool]] = []

    async def on_change(detail: str, active: bool) -> None:
        changes.append((detail, active))

    watch = ActuatorWatch(
        subsystem="erector", actuators=[pump, valve], plant=plant, clock=clock, on_change=on_change
    )  # type: ignore[arg-type]
    for actuator in (pump, valve):
        watch.take_up(actuator.command, True)
    assert plant.pace.windows_in_play == []  # taken up, not commanded
    watch.commanded(pump.command, False)
    watch.commanded(valve.command, False)
    assert plant.pace.windows_in_play == ["ERC-P-501 stroke", "LOX-FV-102 stroke"]
    watch.written(pump.command)
    watch.written(valve.command)
    clock.advance(0.1)
    for tag in (pump.command, valve.command):
        plant.show(tag, False)
    await watch.check()
    assert len(plant.pace.windows_in_play) == 2  # on their way: the feedback still shows true
    plant.show(pump.on_feedback, False)
    await watch.check()
    assert plant.pace.windows_in_play == ["LOX-FV-102 stroke"]  # the pump has stopped
    clock.advance(valve.timeout_s + 1.0)
    await watch.check()
    assert plant.pace.windows_in_play == []  # judged: the valve never left its seat
    assert changes and "LOX-FV-102" in changes[-1][0] and changes[-1][1] is True
    watch.commanded(pump.command, True)
    await watch.stop()
    assert plant.pace.windows_in_play == []  # a stopped watch holds no window
