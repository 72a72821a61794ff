"""The simulated vehicle behind the interface: power, onboard sequencer, engine, liftoff.

External power comes through the cable mast umbilical from the ground power supply, so
the vehicle must be on internal power before the mast retracts. The sequencer is ready
5 s after power comes on. A rising engine start command (ready, no cutoff held) starts the
engine: ignition, then chamber pressure builds and THRUST-OK is made about 3 s later.
Cutoff or loss of power shuts it down. With thrust OK and all four clamps released the
vehicle lifts off and the liftoff contacts are made (and stay made).
"""

from __future__ import annotations

import enum

from simulators.physics._actuators import Actuator, TwoPositionActuator
from simulators.physics._area import Area
from simulators.physics._common import CommandTable, Outputs, Value, approach, as_bool, relax

BATTERY_FULL_V = 29.0
BATTERY_MIN_V = 24.0
BATTERY_DISCHARGE_V_S = 0.002
BATTERY_CHARGE_V_S = 0.0005
EXTERNAL_MIN_V = 24.0
UMBILICAL_DROP_V = 0.3
AVIONICS_A = 22.0
ENGINE_SEQUENCE_A = 15.0
SEQUENCER_BOOT_S = 5.0
IGNITION_DELAY_S = 2.0
CHAMBER_NOMINAL_BAR = 245.0
THRUST_OK_FRACTION = 0.9
TURBOPUMP_RATED_RPM = 13_800.0
LIFTOFF_DELAY_S = 0.3


class EngineState(enum.StrEnum):
    OFF = "off"
    IGNITION = "ignition"
    RUNNING = "running"
    SHUTDOWN = "shutdown"


class Vehicle(Area):
    """The vehicle as the pad sees it through the VEH PLC."""

    def __init__(self) -> None:
        self.power_transfer = TwoPositionActuator(
            "VEH-PWR-XFR", travel_time_s=0.3, high_switch=None, low_switch=None,
            command_suffix=None,
        )  # fmt: skip
        self.internal_cmd = False
        self.start_cmd = False
        self.cutoff_cmd = True
        self.start_released = True
        self.battery_v = BATTERY_FULL_V
        self.on_internal = False
        self.on_external = False
        self.bridged = False  # transfer switch travelling: both sources feed the bus
        self.bus_v = 0.0
        self.bus_a = 0.0
        self.boot_s = 0.0
        self.engine = EngineState.OFF
        self.ignition_s = 0.0
        self.chamber_bar = 0.0
        self.turbopump_rpm = 0.0
        self.liftoff_s = 0.0
        self.lifted_off = False

    @property
    def powered(self) -> bool:
        return self.on_internal or self.on_external or self.bridged

    @property
    def sequencer_ready(self) -> bool:
        return self.powered and self.boot_s >= SEQUENCER_BOOT_S

    @property
    def thrust_ok(self) -> bool:
        return self.chamber_bar >= THRUST_OK_FRACTION * CHAMBER_NOMINAL_BAR

    @property
    def ground_load_a(self) -> float:
        """Current the vehicle draws from the ground power supply."""
        return self.bus_a if self.on_external else 0.0

    def actuators(self) -> list[Actuator]:
        return [self.power_transfer]

    def _own_commands(self) -> CommandTable:
        return {
            "VEH-PWR-INT-CMD": self._set_internal,
            "VEH-ENG-START-CMD": self._set_start,
            "VEH-ENG-CUTOFF-CMD": self._set_cutoff,
        }

    def _set_internal(self, value: Value) -> None:
        self.internal_cmd = as_bool(value)

    def _set_start(self, value: Value) -> None:
        self.start_cmd = as_bool(value)

    def _set_cutoff(self, value: Value) -> None:
        self.cutoff_cmd = as_bool(value)

    def step(
        self,
        dt_s: float,
        *,
        ground_supply_v: float,
        umbilical_connected: bool,
        clamps_released: bool,
    ) -> None:
        self._step_power(dt_s, ground_supply_v=ground_supply_v, umbilical=umbilical_connected)
        self._step_engine(dt_s)
        if not self.lifted_off and self.thrust_ok and clamps_released:
            self.liftoff_s += dt_s
            self.lifted_off = self.liftoff_s >= LIFTOFF_DELAY_S
        elif not self.lifted_off:
            self.liftoff_s = 0.0

    def _step_power(self, dt_s: float, *, ground_supply_v: float, umbilical: bool) -> None:
        self.power_transfer.target = 1.0 if self.internal_cmd else 0.0
        self.power_transfer.step(dt_s)
        external_v = ground_supply_v if umbilical and not self.lifted_off else 0.0
        battery_ok = self.battery_v > BATTERY_MIN_V
        external_ok = external_v > EXTERNAL_MIN_V
        at_internal, at_external = self.power_transfer.at_high, self.power_transfer.at_low
        self.on_internal = at_internal and battery_ok
        self.on_external = at_external and external_ok
        # A make-before-break transfer: the bus (and the sequencer) stay up while it travels.
        self.bridged = not (at_internal or at_external) and (battery_ok or external_ok)
        if self.on_internal or (self.bridged and not external_ok):
            self.bus_v = self.battery_v
            self.battery_v = max(self.battery_v - BATTERY_DISCHARGE_V_S * dt_s, 0.0)
        elif self.on_external or self.bridged:
            self.bus_v = external_v - UMBILICAL_DROP_V
            self.battery_v = approach(self.battery_v, BATTERY_FULL_V, BATTERY_CHARGE_V_S * dt_s)
        else:
            self.bus_v = 0.0
        engine_a = ENGINE_SEQUENCE_A if self.engine is not EngineState.OFF else 0.0
        self.bus_a = AVIONICS_A + engine_a if self.powered else 0.0
        self.boot_s = self.boot_s + dt_s if self.powered else 0.0

    def _step_engine(self, dt_s: float) -> None:
        if not self.start_cmd:
            self.start_released = True
        stop = self.cutoff_cmd or not self.sequencer_ready
        if self.engine is EngineState.OFF:
            if self.start_cmd and self.start_released and not stop:
                self.engine = EngineState.IGNITION
                self.ignition_s = 0.0
                self.start_released = False
        elif stop:
            self.engine = EngineState.SHUTDOWN
        elif self.engine is EngineState.IGNITION:
            self.ignition_s += dt_s
            if self.ignition_s >= IGNITION_DELAY_S:
                self.engine = EngineState.RUNNING
        running = self.engine in (EngineState.IGNITION, EngineState.RUNNING)
        chamber_target = CHAMBER_NOMINAL_BAR if self.engine is EngineState.RUNNING else 0.0
        self.chamber_bar = relax(self.chamber_bar, chamber_target, 0.5 if running else 0.3, dt_s)
        pump_target = TURBOPUMP_RATED_RPM if running else 0.0
        self.turbopump_rpm = relax(self.turbopump_rpm, pump_target, 0.8, dt_s)
        idle = self.chamber_bar < 1.0 and self.turbopump_rpm < 100.0
        if self.engine is EngineState.SHUTDOWN and idle:
            self.engine = EngineState.OFF

    def _measure(self, out: Outputs) -> None:
        out["VEH-PWR-INT"] = self.on_internal
        out["VEH-PWR-EXT"] = self.on_external
        out["VEH-ET-901"] = self.bus_v
        out["VEH-IT-901"] = self.bus_a
        out["VEH-ET-902"] = self.battery_v
        out["VEH-SEQ-READY"] = self.sequencer_ready
        out["VEH-THRUST-OK"] = self.thrust_ok
        out["VEH-PT-901"] = self.chamber_bar
        out["VEH-ST-901"] = self.turbopump_rpm
        for contact in (1, 2, 3):
            out[f"VEH-LIFTOFF-{contact}"] = self.lifted_off
