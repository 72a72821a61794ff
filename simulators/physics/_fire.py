"""Fire detection and suppression: six zones, flame detectors, gas analyzers, agent system.

A zone burns only when an instructor starts a fire (`start_fire`). The PLC latches the
alarm when any detector, as the PLC senses it, is active; RESET clears it once none is.
A burning zone goes out after agent flow (any zone) or deluge water (launch table and
flame trench) has been on it long enough.
"""

from __future__ import annotations

import math

from simulators.physics._actuators import Actuator, on_off_valve
from simulators.physics._area import Area
from simulators.physics._common import CommandTable, Outputs, Value, as_bool, relax

ZONES = 6
DETECTOR_TAGS = tuple(f"FIR-FD-81{zone}" for zone in range(1, ZONES + 1))
DELUGE_ZONES = (1, 2)  # launch table and flame trench
AGENT_BOTTLE_BAR = 60.0
AGENT_FULL_KG_S = 15.0
AGENT_EMPTYING_TIME_CONSTANT_S = 20.0
AGENT_EXTINGUISH_S = 5.0
DELUGE_EXTINGUISH_S = 10.0
DELUGE_EFFECTIVE_M3_H = 1000.0
AGENT_EFFECTIVE_KG_S = 2.0
AIR_OXYGEN_PCT = 20.9
ANALYZER_TIME_CONSTANT_S = 30.0


class FireSystem(Area):
    """Zones 1..6 (launch table, flame trench, LOX storage, RG-1 storage, pump room, mast)."""

    def __init__(self) -> None:
        self.burning = [False] * ZONES
        self.suppressed_s = [0.0] * ZONES
        self.alarm = False
        self.reset_cmd = False
        self.agent_valve = on_off_valve("FIR-FV-831", travel_time_s=1.0)
        self.agent_bottle_bar = AGENT_BOTTLE_BAR
        self.agent_kg_s = 0.0
        self.oxygen_pct = AIR_OXYGEN_PCT
        self.vapour_lel_pct = 0.0

    def start_fire(self, zone: int) -> None:
        """Set zone 1..6 burning (instructor back door)."""
        if not 1 <= zone <= ZONES:
            raise ValueError(f"fire zone {zone} does not exist (zones are 1..{ZONES})")
        self.burning[zone - 1] = True
        self.suppressed_s[zone - 1] = 0.0

    def actuators(self) -> list[Actuator]:
        return [self.agent_valve]

    def _own_commands(self) -> CommandTable:
        return {"FIR-XA-801-RESET-CMD": self._set_reset}

    def _set_reset(self, value: Value) -> None:
        self.reset_cmd = as_bool(value)

    def step(
        self,
        dt_s: float,
        *,
        sensed_detectors: list[bool],
        deluge_m3_h: float,
        oxygen_vented_kg_s: float,
        fuel_vapour_kg_s: float,
    ) -> None:
        self.agent_valve.step(dt_s)
        opening = self.agent_valve.position
        self.agent_kg_s = (
            AGENT_FULL_KG_S * opening * math.sqrt(self.agent_bottle_bar / AGENT_BOTTLE_BAR)
        )
        self.agent_bottle_bar *= math.exp(-dt_s * opening / AGENT_EMPTYING_TIME_CONSTANT_S)
        for index in range(ZONES):
            if not self.burning[index]:
                continue
            needed_s = None
            if self.agent_kg_s >= AGENT_EFFECTIVE_KG_S:
                needed_s = AGENT_EXTINGUISH_S
            elif index + 1 in DELUGE_ZONES and deluge_m3_h >= DELUGE_EFFECTIVE_M3_H:
                needed_s = DELUGE_EXTINGUISH_S
            if needed_s is None:
                continue
            self.suppressed_s[index] += dt_s
            if self.suppressed_s[index] >= needed_s:
                self.burning[index] = False
                self.suppressed_s[index] = 0.0
        if any(sensed_detectors):
            self.alarm = True
        elif self.reset_cmd:
            self.alarm = False
        oxygen_target = AIR_OXYGEN_PCT + 15.0 * (1.0 - math.exp(-oxygen_vented_kg_s / 20.0))
        self.oxygen_pct = relax(self.oxygen_pct, oxygen_target, ANALYZER_TIME_CONSTANT_S, dt_s)
        vapour_target = 40.0 * (1.0 - math.exp(-fuel_vapour_kg_s / 0.5))
        self.vapour_lel_pct = relax(
            self.vapour_lel_pct, vapour_target, ANALYZER_TIME_CONSTANT_S, dt_s
        )

    def _measure(self, out: Outputs) -> None:
        for tag, burning in zip(DETECTOR_TAGS, self.burning, strict=True):
            out[tag] = burning
        out["FIR-XA-801"] = self.alarm
        out["FIR-AT-821"] = self.oxygen_pct
        out["FIR-AT-822"] = self.vapour_lel_pct
        out["FIR-PT-831"] = self.agent_bottle_bar
        out["FIR-FT-831"] = self.agent_kg_s
