"""Thermal conditioning: heated air from fan FAN-401 and heater E-401 to the vehicle compartments.

Three damper circuits: stage 1 (CV-411), stage 2 (CV-412) and the payload fairing (CV-413).
A test flight flies without payload: `start_without_fairing` keeps the fairing damper shut
and proves that no air flows there. `disconnect` is the count's step that stops the air
before launch; `stop` is the end of conditioning outside a count.
"""

from __future__ import annotations

import enum

from padctl.subsystems._spec import CommandSpec, Interlock, SubsystemSpec, Writes


class ThermalConditioningState(enum.Enum):
    OFF = "off"
    STARTING = "starting fan and heater, opening dampers"
    CONDITIONING = "conditioning air flowing at the setpoint"
    STOPPING = "stopping fan and heater, closing dampers"
    DISCONNECTED = "air stopped for launch by the count"
    FAULT = "fault"


S = ThermalConditioningState

SETPOINT_C = 20.0  # supply air to the compartments
SAFE_SETPOINT_C = 15.0  # the PLC's watchdog safe value
STAGE_DAMPERS = ("TCA-CV-411", "TCA-CV-412")
FAIRING_DAMPER = "TCA-CV-413"
MIN_FLOW_KG_S = {"TCA-FT-411": 2.0, "TCA-FT-412": 1.2, "TCA-FT-413": 0.8}  # 80 % of full flow

MAIN_BUS = Interlock("pad main bus energized (fan and heater supply)", "PWR-ET-841 >= 360")
OUTSIDE_AIR_LOW = Interlock(
    "outside air not below -20 degC (heater cannot reach the setpoint)", "TCA-TT-400 >= -20"
)
OUTSIDE_AIR_HIGH = Interlock(
    "outside air not above 30 degC (the unit has no cooler)", "TCA-TT-400 <= 30"
)


def _start(*, fairing: bool) -> tuple[Writes, tuple[str, ...]]:
    """Writes and feedback of a start, with the fairing circuit open or left out."""
    fairing_pct = 100.0 if fairing else 0.0
    writes: Writes = (
        ("TCA-TC-401-SP", SETPOINT_C),
        *((f"{damper}-SP", 100.0) for damper in STAGE_DAMPERS),
        (f"{FAIRING_DAMPER}-SP", fairing_pct),
        ("TCA-FAN-401-CMD", True),
        ("TCA-E-401-CMD", True),
    )
    fairing_feedback = (
        (f"{FAIRING_DAMPER}-ZT >= 95", f"TCA-FT-413 >= {MIN_FLOW_KG_S['TCA-FT-413']}")
        if fairing
        else (f"{FAIRING_DAMPER}-ZT <= 2", "TCA-FT-413 <= 0.05")
    )
    feedback = (
        "TCA-FAN-401-RUN == true",
        "TCA-E-401-RUN == true",
        *(f"{damper}-ZT >= 95" for damper in STAGE_DAMPERS),
        f"TCA-FT-411 >= {MIN_FLOW_KG_S['TCA-FT-411']}",
        f"TCA-FT-412 >= {MIN_FLOW_KG_S['TCA-FT-412']}",
        *fairing_feedback,
        f"TCA-TT-401 >= {SETPOINT_C - 3:g}",
    )
    return writes, feedback


_START_WRITES, _START_FEEDBACK = _start(fairing=True)
_NO_FAIRING_WRITES, _NO_FAIRING_FEEDBACK = _start(fairing=False)
_DAMPERS = (*STAGE_DAMPERS, FAIRING_DAMPER)
_STOP_WRITES: Writes = (
    ("TCA-E-401-CMD", False),  # heater first: never heat without air
    ("TCA-FAN-401-CMD", False),
    ("TCA-TC-401-SP", SAFE_SETPOINT_C),
    *((f"{damper}-SP", 0.0) for damper in _DAMPERS),
)
_STOP_FEEDBACK = (
    "TCA-E-401-RUN == false",
    "TCA-FAN-401-RUN == false",
    *(f"{damper}-ZT <= 2" for damper in _DAMPERS),
)
_START_PERMISSIVES = (MAIN_BUS, OUTSIDE_AIR_LOW, OUTSIDE_AIR_HIGH)

THERMAL_CONDITIONING = SubsystemSpec(
    name="thermal_conditioning",
    title="Thermal conditioning",
    description="Conditioning air (TCA) to stage 1, stage 2 and the payload fairing.",
    states=ThermalConditioningState,
    initial=S.OFF,
    safe_state=S.OFF,
    commands=(
        CommandSpec(
            name="start",
            source=(S.OFF, S.DISCONNECTED),
            via=S.STARTING,
            dest=S.CONDITIONING,
            permissives=_START_PERMISSIVES,
            writes=_START_WRITES,
            feedback=_START_FEEDBACK,
            timeout="tca_start",
            description=f"Air at {SETPOINT_C:g} degC to stage 1, stage 2 and the payload fairing.",
        ),
        CommandSpec(
            name="start_without_fairing",
            source=(S.OFF, S.DISCONNECTED),
            via=S.STARTING,
            dest=S.CONDITIONING,
            permissives=_START_PERMISSIVES,
            writes=_NO_FAIRING_WRITES,
            feedback=_NO_FAIRING_FEEDBACK,
            timeout="tca_start",
            description=(
                f"Air at {SETPOINT_C:g} degC to stage 1 and stage 2 only; the fairing damper "
                "stays shut (test flight without payload)."
            ),
        ),
        CommandSpec(
            name="disconnect",
            source=(S.CONDITIONING,),
            via=S.STOPPING,
            dest=S.DISCONNECTED,
            permissives=(
                Interlock(
                    "countdown running (disconnect is a count step)", "@count_active == true"
                ),
            ),
            writes=_STOP_WRITES,
            feedback=_STOP_FEEDBACK,
            timeout="tca_stop",
            description="Stop the air for launch: heater, fan off, dampers shut.",
        ),
        CommandSpec(
            name="stop",
            source=(S.CONDITIONING, S.DISCONNECTED),
            via=S.STOPPING,
            dest=S.OFF,
            permissives=(
                Interlock(
                    "no countdown running (in a count the air stops by disconnect)",
                    "@count_active == false",
                ),
            ),
            writes=_STOP_WRITES,
            feedback=_STOP_FEEDBACK,
            timeout="tca_stop",
            description="End conditioning outside a count: heater, fan off, dampers shut.",
        ),
    ),
    safe_writes=_STOP_WRITES,
    safe_feedback=_STOP_FEEDBACK,
    safe_timeout="tca_stop",
    actuators=("TCA-FAN-401", "TCA-E-401"),
    recognise=(
        (S.CONDITIONING, ("TCA-FAN-401-RUN == true", *(f"{d}-ZT >= 95" for d in STAGE_DAMPERS))),
        (S.OFF, ("TCA-FAN-401-RUN == false", "TCA-E-401-RUN == false")),
    ),
)
