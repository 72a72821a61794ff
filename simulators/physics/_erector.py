"""The erector: hydraulic drive (angle 0 horizontal .. 90 vertical), power unit and locks.

RAISE, LOWER and WITHDRAW are held commands (one at a time; two at once is no motion).
The rate follows ERC-M-501-SPEED-SP and the hydraulic supply pressure, and slows in the
last degrees before a stop. Engaged vertical locks block all motion and can only engage at
vertical; the vehicle grips engage only where the vehicle can be aboard (horizontal or
vertical), and WITHDRAW (to 75 deg, leaving the vehicle on the table) stalls while they hold.
"""

from __future__ import annotations

import math

from simulators.physics._actuators import Actuator, Motor, TwoPositionActuator
from simulators.physics._area import Area
from simulators.physics._common import (
    CommandTable,
    Outputs,
    Value,
    approach,
    as_bool,
    as_float,
    clamp,
    relax,
)

VERTICAL_DEG = 90.0
WITHDRAWN_DEG = 75.0
SWITCH_BAND_DEG = 0.5
# Locks and grips engage only at the end stops: within 0.002 deg, so that an angle the
# encoders prove (89.999 / 0.001 deg, ERC-ZT-502 reads in 0.001 deg) is one where they can.
LOCK_BAND_DEG = 0.002
MAX_RATE_DEG_S = 0.75  # full speed, full pressure: about 2.5 min from horizontal to vertical
CUSHION_DEG = 3.0
MIN_DRIVE_BAR = 100.0
FULL_DRIVE_BAR = 180.0
HPU_PRESSURE_BAR = 210.0
HPU_TIME_CONSTANT_S = 3.0
OIL_TIME_CONSTANT_S = 1800.0


class ErectorDrive(Actuator):
    """The erector's hydraulic cylinders: where the erector is and how fast it moves."""

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix)
        self.angle_deg = 0.0
        self.rate_deg_s = 0.0
        self.raise_cmd = False
        self.lower_cmd = False
        self.withdraw_cmd = False
        self.speed_pct = 0.0

    @property
    def settled(self) -> bool:
        return self.rate_deg_s == 0.0

    def outputs(self, out: Outputs) -> None:
        out["ERC-ZT-501"] = self.angle_deg
        out["ERC-ZT-502"] = self.angle_deg
        out["ERC-ST-501"] = self.rate_deg_s * 60.0
        out["ERC-ZS-501-HORIZONTAL"] = self.angle_deg <= SWITCH_BAND_DEG
        out["ERC-ZS-501-VERTICAL"] = self.angle_deg >= VERTICAL_DEG - SWITCH_BAND_DEG
        out["ERC-ZS-501-WITHDRAWN"] = abs(self.angle_deg - WITHDRAWN_DEG) <= SWITCH_BAND_DEG

    def commands(self) -> CommandTable:
        return {
            f"{self.prefix}-RAISE-CMD": _FlagSetter(self, "raise_cmd"),
            f"{self.prefix}-LOWER-CMD": _FlagSetter(self, "lower_cmd"),
            f"{self.prefix}-WITHDRAW-CMD": _FlagSetter(self, "withdraw_cmd"),
            f"{self.prefix}-SPEED-SP": self._set_speed,
        }

    def _set_speed(self, value: Value) -> None:
        self.speed_pct = clamp(as_float(value, self.speed_pct), 0.0, 100.0)

    def target_deg(self, *, grips_free: bool) -> float | None:
        """Where the held command drives the erector, or None for no motion."""
        held = [self.raise_cmd, self.lower_cmd, self.withdraw_cmd]
        if sum(held) != 1:
            return None
        if self.raise_cmd:
            return VERTICAL_DEG
        if self.lower_cmd:
            return 0.0
        if grips_free and self.angle_deg > WITHDRAWN_DEG:
            return WITHDRAWN_DEG
        return None

    def step(self, dt_s: float, *, supply_bar: float, locked: bool, grips_free: bool) -> None:
        target = None if locked else self.target_deg(grips_free=grips_free)
        if target is None or self.stuck or dt_s <= 0:
            self.rate_deg_s = 0.0
            return
        pressure = clamp((supply_bar - MIN_DRIVE_BAR) / (FULL_DRIVE_BAR - MIN_DRIVE_BAR), 0.0, 1.0)
        cushion = clamp(abs(target - self.angle_deg) / CUSHION_DEG, 0.15, 1.0)
        rate = MAX_RATE_DEG_S * self.speed_pct / 100.0 * pressure * cushion / self.slow_factor
        before = self.angle_deg
        self.angle_deg = approach(self.angle_deg, target, rate * dt_s)
        self.rate_deg_s = (self.angle_deg - before) / dt_s


class _FlagSetter:
    """A command setter for one held-command flag of the drive (a picklable callable)."""

    def __init__(self, drive: ErectorDrive, attribute: str) -> None:
        self._drive = drive
        self._attribute = attribute

    def __call__(self, value: Value) -> None:
        setattr(self._drive, self._attribute, as_bool(value))


class Erector(Area):
    """Erector drive, hydraulic power unit P-501, vertical locks 511/512, grips 513/514."""

    def __init__(self, *, ambient_c: float = 15.0) -> None:
        self.ambient_c = ambient_c
        self.drive = ErectorDrive("ERC-M-501")
        self.pump = Motor("ERC-P-501", start_time_s=3.0)
        self.locks = [self._lock(n, engaged=False) for n in (511, 512)]
        self.grips = [self._lock(n, engaged=True) for n in (513, 514)]
        self.supply_bar = 0.0
        self.cylinder_bar = 0.0
        self.oil_c = ambient_c

    @staticmethod
    def _lock(number: int, *, engaged: bool) -> TwoPositionActuator:
        return TwoPositionActuator(
            f"ERC-LK-{number}", travel_time_s=5.0, position=1.0 if engaged else 0.0,
            high_switch="LOCKED", low_switch="UNLOCKED",
        )  # fmt: skip

    def actuators(self) -> list[Actuator]:
        return [self.drive, self.pump, *self.locks, *self.grips]

    def step(self, dt_s: float, *, powered: bool) -> None:
        self.pump.step(dt_s, powered=powered)
        self.supply_bar = relax(
            self.supply_bar, HPU_PRESSURE_BAR * self.pump.output, HPU_TIME_CONSTANT_S, dt_s
        )
        angle = self.drive.angle_deg
        vertical = angle >= VERTICAL_DEG - LOCK_BAND_DEG
        for lock in self.locks:
            lock.step(dt_s, may_rise=vertical)
        for grip in self.grips:
            grip.step(dt_s, may_rise=vertical or angle <= LOCK_BAND_DEG)
        locked = any(not lock.at_low for lock in self.locks)
        grips_free = all(grip.at_low for grip in self.grips)
        self.drive.step(dt_s, supply_bar=self.supply_bar, locked=locked, grips_free=grips_free)
        aboard = 1.0 if any(not grip.at_low for grip in self.grips) else 0.35
        resting = self.drive.angle_deg <= SWITCH_BAND_DEG  # on its supports
        tilt = math.cos(math.radians(self.drive.angle_deg))
        load_bar = 0.0 if resting else (40.0 + 110.0 * tilt) * aboard
        moving = self.drive.rate_deg_s != 0.0
        target_bar = min(load_bar + 15.0, self.supply_bar) if moving else load_bar
        self.cylinder_bar = relax(self.cylinder_bar, target_bar, 1.0, dt_s)
        self.oil_c = relax(
            self.oil_c, self.ambient_c + 30.0 * self.pump.output, OIL_TIME_CONSTANT_S, dt_s
        )

    def _measure(self, out: Outputs) -> None:
        out["ERC-PT-501"] = self.supply_bar
        out["ERC-PT-502"] = self.cylinder_bar
        out["ERC-TT-501"] = self.oil_c
        out["ERC-LT-501"] = 70.0 - 15.0 * self.drive.angle_deg / VERTICAL_DEG
