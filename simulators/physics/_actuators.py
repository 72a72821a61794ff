"""Things that move: two-position valves, locks and breakers, control valves, motors.

Every actuator has a P&ID prefix (`LOX-FV-101`) and two faults an instructor can inject:
stuck (it stops where it is) and slow (its travel or ramp time multiplied by a factor).
"""

from __future__ import annotations

from simulators.physics._common import CommandTable, Outputs, Value, approach, as_bool, as_float

SWITCH_BAND = 0.02
"""A limit switch is made within this fraction of travel from its end."""


class Actuator:
    """The fault state shared by everything that moves."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.stuck = False
        self.slow_factor = 1.0

    def clear_faults(self) -> None:
        """Free a stuck actuator and restore its nominal speed."""
        self.stuck = False
        self.slow_factor = 1.0

    @property
    def settled(self) -> bool:
        """At rest where its command sends it (not still travelling or ramping)."""
        raise NotImplementedError

    def outputs(self, out: Outputs) -> None:
        """Write this actuator's feedback tags into `out`."""
        raise NotImplementedError

    def commands(self) -> CommandTable:
        """This actuator's writable tags and their setters."""
        return {}

    def _travel_step(self, dt_s: float, full_travel_time_s: float) -> float:
        """Fraction of full travel this actuator can cover in `dt_s` (0 when stuck)."""
        if self.stuck:
            return 0.0
        if full_travel_time_s <= 0:
            return 1.0
        return dt_s / (full_travel_time_s * self.slow_factor)


class TwoPositionActuator(Actuator):
    """Travels between position 0 and 1; a limit switch is made near each end.

    Valves: command true -> open (1), switches ZSO at 1 and ZSC at 0. Locks, breakers,
    clamps and the cable mast reuse it with their own switch names. `target` None holds.
    """

    def __init__(
        self,
        prefix: str,
        *,
        travel_time_s: float,
        position: float = 0.0,
        high_switch: str | None = "ZSO",
        low_switch: str | None = "ZSC",
        command_suffix: str | None = "CMD",
        return_time_s: float | None = None,
    ) -> None:
        super().__init__(prefix)
        self.travel_time_s = travel_time_s
        self.return_time_s = travel_time_s if return_time_s is None else return_time_s
        self.position = position
        self.target: float | None = position
        self._high_switch = high_switch
        self._low_switch = low_switch
        self._command_suffix = command_suffix

    def command(self, value: Value) -> None:
        """Drive toward the high end (true) or the low end (false)."""
        self.target = 1.0 if as_bool(value) else 0.0

    @property
    def at_high(self) -> bool:
        return self.position >= 1.0 - SWITCH_BAND

    @property
    def settled(self) -> bool:
        return self.target is None or self.position == self.target

    @property
    def at_low(self) -> bool:
        return self.position <= SWITCH_BAND

    def step(self, dt_s: float, *, may_rise: bool = True, may_fall: bool = True) -> None:
        """Travel toward the target; `may_rise`/`may_fall` model mechanical blocks."""
        if self.target is None or self.target == self.position:
            return
        rising = self.target > self.position
        if (rising and not may_rise) or (not rising and not may_fall):
            return
        travel_s = self.travel_time_s if rising else self.return_time_s
        self.position = approach(self.position, self.target, self._travel_step(dt_s, travel_s))

    def outputs(self, out: Outputs) -> None:
        if self._high_switch is not None:
            out[f"{self.prefix}-{self._high_switch}"] = self.at_high
        if self._low_switch is not None:
            out[f"{self.prefix}-{self._low_switch}"] = self.at_low

    def commands(self) -> CommandTable:
        if self._command_suffix is None:
            return {}
        return {f"{self.prefix}-{self._command_suffix}": self.command}


def on_off_valve(
    prefix: str, *, travel_time_s: float = 2.0, open_: bool = False
) -> TwoPositionActuator:
    """An on/off valve XX-FV-NNN with -CMD (true = open), -ZSO and -ZSC."""
    return TwoPositionActuator(prefix, travel_time_s=travel_time_s, position=1.0 if open_ else 0.0)


class ControlValve(Actuator):
    """A modulating valve or damper: -SP setpoint % and -ZT position %, rate-limited stroke."""

    def __init__(
        self, prefix: str, *, stroke_time_s: float = 10.0, position_pct: float = 0.0
    ) -> None:
        super().__init__(prefix)
        self.stroke_time_s = stroke_time_s
        self.setpoint_pct = position_pct
        self.position_pct = position_pct

    def command(self, value: Value) -> None:
        self.setpoint_pct = min(max(as_float(value, self.setpoint_pct), 0.0), 100.0)

    @property
    def settled(self) -> bool:
        return self.position_pct == self.setpoint_pct

    @property
    def fraction(self) -> float:
        return self.position_pct / 100.0

    def step(self, dt_s: float) -> None:
        max_step_pct = 100.0 * self._travel_step(dt_s, self.stroke_time_s)
        self.position_pct = approach(self.position_pct, self.setpoint_pct, max_step_pct)

    def outputs(self, out: Outputs) -> None:
        out[f"{self.prefix}-ZT"] = self.position_pct

    def commands(self) -> CommandTable:
        return {f"{self.prefix}-SP": self.command}


class Motor(Actuator):
    """A pump, fan, heater or chiller: -CMD (true = run), -RUN feedback, optional speed tag.

    `output` ramps between 0 and 1 (speed or heat fraction); a stuck motor keeps its output,
    a slow one ramps slower. RUN is made above half output.
    """

    def __init__(
        self,
        prefix: str,
        *,
        start_time_s: float,
        stop_time_s: float | None = None,
        rated_speed_rpm: float = 0.0,
        speed_tag: str | None = None,
    ) -> None:
        super().__init__(prefix)
        self.start_time_s = start_time_s
        self.stop_time_s = start_time_s if stop_time_s is None else stop_time_s
        self.rated_speed_rpm = rated_speed_rpm
        self.speed_tag = speed_tag
        self.commanded = False
        self.output = 0.0

    def command(self, value: Value) -> None:
        self.commanded = as_bool(value)

    @property
    def running(self) -> bool:
        return self.output > 0.5

    @property
    def settled(self) -> bool:
        return self.output == (1.0 if self.commanded else 0.0)

    @property
    def speed_rpm(self) -> float:
        return self.rated_speed_rpm * self.output

    def step(self, dt_s: float, *, powered: bool = True) -> None:
        """Ramp toward full output when commanded and powered, toward zero otherwise."""
        if self.commanded and powered:
            self.output = approach(self.output, 1.0, self._travel_step(dt_s, self.start_time_s))
        else:
            self.output = approach(self.output, 0.0, self._travel_step(dt_s, self.stop_time_s))

    def outputs(self, out: Outputs) -> None:
        out[f"{self.prefix}-RUN"] = self.running
        if self.speed_tag is not None:
            out[self.speed_tag] = self.speed_rpm

    def commands(self) -> CommandTable:
        return {f"{self.prefix}-CMD": self.command}
