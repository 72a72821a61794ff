"""Kerosene (RG-1) loading: fuel conditioning, line fill, fill, level adjust, drain.

Storage T-001 (conditioned by heater E-001 / chiller E-002 toward RG1-TC-001-SP, the PLC
modulating them) -> outlet FV-001 -> pump P-001 -> fill control CV-101 -> fill valve
FV-101 -> vehicle tank; the drain DV-101 returns vehicle fuel to storage. The vehicle
vent VV-101 is fail-open and stays open while loading.
"""

from __future__ import annotations

import enum

from padctl.subsystems._spec import CommandSpec, Interlock, SubsystemSpec


class KeroseneLoadingState(enum.Enum):
    SECURED = "secured: no fuel flow, conditioning off, vent open"
    STARTING_CONDITIONING = "starting fuel conditioning"
    CONDITIONING = "fuel conditioning (storage held at the loading temperature)"
    STARTING_LINE_FILL = "filling the transfer line"
    LINE_FILL = "transfer line full up to the vehicle fill valve"
    STARTING_FILL = "opening the fill"
    FILL = "fill"
    STARTING_LEVEL_ADJUST = "throttling for level adjust"
    LEVEL_ADJUST = "level adjust to flight level"
    COMPLETING_FILL = "closing the fill at flight level"
    LOADED = "loaded at flight level, line secured"
    STOPPING_FILL = "stopping the fill (line kept full)"
    OPENING_DRAIN = "opening the drain"
    DRAINING = "draining to storage"
    CLOSING_FOR_FLIGHT = "closing the vent for flight"
    CONFIRMING_LOADED = "confirming the load after a recycle"
    FLIGHT_READY = "loaded, vent closed: ready for flight pressurization"
    SECURING = "securing"
    FAULT = "fault"


S = KeroseneLoadingState

# Set points and thresholds of the loading (degC, percent, bar, m3/h).
FUEL_LOADING_C = 12.0  # conditioning setpoint RG1-TC-001-SP while loading
FUEL_SAFE_C = 15.0  # the PLC watchdog's setpoint
FUEL_MIN_C = 5  # loading window of the storage fuel temperature RG1-TT-001
FUEL_MAX_C = 20
LINE_FILL_CV_PCT = 20.0
FILL_CV_PCT = 100.0
LEVEL_ADJUST_CV_PCT = 10.0
LINE_FULL_BAR = 1.2  # fill line pressure with the fill valve shut: the line is full
LEVEL_ADJUST_PCT = 90  # full-rate fill ends here; level adjust brings it to flight level

MAIN_BUS = Interlock("pad main bus energized (pump and conditioning power)", "PWR-ET-841 >= 360")
STORAGE_LEVEL = Interlock("RG-1 storage level for transfer (>= 20 %)", "RG1-LT-001 >= 20")
HEATER_RUNNING = Interlock("conditioning heater running", "RG1-E-001-RUN == true")
CHILLER_RUNNING = Interlock("conditioning chiller running", "RG1-E-002-RUN == true")
FUEL_NOT_TOO_COLD = Interlock(
    f"fuel temperature within loading limits (>= {FUEL_MIN_C} degC)", f"RG1-TT-001 >= {FUEL_MIN_C}"
)
FUEL_NOT_TOO_WARM = Interlock(
    f"fuel temperature within loading limits (<= {FUEL_MAX_C} degC)", f"RG1-TT-001 <= {FUEL_MAX_C}"
)
FILL_CLOSED = Interlock("vehicle RG-1 fill valve closed", "RG1-FV-101-ZSC == true")
DRAIN_CLOSED = Interlock("vehicle RG-1 drain closed", "RG1-DV-101-ZSC == true")
VENT_OPEN = Interlock("vehicle RG-1 vent open", "RG1-VV-101-ZSO == true")
PUMP_RUNNING = Interlock("RG-1 transfer pump running", "RG1-P-001-RUN == true")
PUMP_STOPPED = Interlock("RG-1 transfer pump stopped", "RG1-P-001-RUN == false")
LINE_FULL = Interlock(
    f"transfer line full (fill line >= {LINE_FULL_BAR} bar)", f"RG1-PT-102 >= {LINE_FULL_BAR}"
)
NOT_OVERFILLED = Interlock("vehicle RG-1 tank not overfilled (LSHH clear)", "RG1-LSHH-101 == false")
ULLAGE_VENTED = Interlock("vehicle RG-1 ullage vented (<= 0.5 bar)", "RG1-PT-101 <= 0.5")
VEHICLE_ERECTED = Interlock("vehicle erected (erector vertical)", "ERC-ZS-501-VERTICAL == true")
BELOW_LEVEL_ADJUST = Interlock(
    f"level below level-adjust level (< {LEVEL_ADJUST_PCT} %)", f"RG1-LT-101 < {LEVEL_ADJUST_PCT}"
)
NEAR_FLIGHT_LEVEL = Interlock(
    f"level near flight level (>= {LEVEL_ADJUST_PCT} %)", f"RG1-LT-101 >= {LEVEL_ADJUST_PCT}"
)
FLIGHT_LEVEL_NOT_REACHED = Interlock(
    "flight level not yet reached (LSH clear)", "RG1-LSH-101 == false"
)
FLIGHT_LEVEL_REACHED = Interlock("flight level reached (LSH made)", "RG1-LSH-101 == true")
NOT_TERMINAL_COUNT = Interlock("countdown not in terminal count", "@terminal_count == false")
TERMINAL_COUNT = Interlock("countdown in terminal count", "@terminal_count == true")

CV_AT_LINE_FILL = (
    f"RG1-CV-101-ZT >= {LINE_FILL_CV_PCT - 1:g}",
    f"RG1-CV-101-ZT <= {LINE_FILL_CV_PCT + 1:g}",
)
SAFE_WRITES = (
    ("RG1-FV-101-CMD", False),
    ("RG1-CV-101-SP", 0.0),
    ("RG1-DV-101-CMD", False),
    ("RG1-P-001-CMD", False),
    ("RG1-FV-001-CMD", False),
    ("RG1-E-001-CMD", False),
    ("RG1-E-002-CMD", False),
    ("RG1-TC-001-SP", FUEL_SAFE_C),
    ("RG1-VV-101-CMD", True),
)
SAFE_FEEDBACK = (
    "RG1-FV-101-ZSC == true",
    "RG1-DV-101-ZSC == true",
    "RG1-FV-001-ZSC == true",
    "RG1-P-001-RUN == false",
    "RG1-E-001-RUN == false",
    "RG1-E-002-RUN == false",
    "RG1-VV-101-ZSO == true",
    "RG1-CV-101-ZT <= 2",
)

KEROSENE_LOADING = SubsystemSpec(
    name="kerosene_loading",
    title="Kerosene loading",
    description="Vehicle RG-1 tank loading: conditioning, line fill, fill, level adjust, drain.",
    states=KeroseneLoadingState,
    initial=S.SECURED,
    safe_state=S.SECURED,
    commands=(
        CommandSpec(
            name="start_conditioning",
            source=(S.SECURED,),
            via=S.STARTING_CONDITIONING,
            dest=S.CONDITIONING,
            permissives=(MAIN_BUS, STORAGE_LEVEL),
            writes=(
                ("RG1-TC-001-SP", FUEL_LOADING_C),
                ("RG1-E-001-CMD", True),
                ("RG1-E-002-CMD", True),
            ),
            feedback=("RG1-E-001-RUN == true", "RG1-E-002-RUN == true"),
            timeout="RG1-E-002",
            description=f"Heater and chiller on: storage fuel held at {FUEL_LOADING_C:g} degC.",
        ),
        CommandSpec(
            name="start_line_fill",
            source=(S.CONDITIONING,),
            via=S.STARTING_LINE_FILL,
            dest=S.LINE_FILL,
            permissives=(
                HEATER_RUNNING,
                CHILLER_RUNNING,
                FUEL_NOT_TOO_COLD,
                FUEL_NOT_TOO_WARM,
                STORAGE_LEVEL,
                FILL_CLOSED,
                DRAIN_CLOSED,
                MAIN_BUS,
            ),
            writes=(
                ("RG1-CV-101-SP", LINE_FILL_CV_PCT),
                ("RG1-FV-001-CMD", True),
                ("RG1-P-001-CMD", True),
            ),
            feedback=(
                "RG1-FV-001-ZSO == true",
                "RG1-P-001-RUN == true",
                *CV_AT_LINE_FILL,
                f"RG1-PT-102 >= {LINE_FULL_BAR}",
            ),
            timeout="rg1_line_fill",
            hazardous=True,
            description="Start the pump and fill the transfer line up to the shut fill valve.",
        ),
        CommandSpec(
            name="start_fill",
            source=(S.LINE_FILL,),
            via=S.STARTING_FILL,
            dest=S.FILL,
            permissives=(
                LINE_FULL,
                PUMP_RUNNING,
                VENT_OPEN,
                DRAIN_CLOSED,
                NOT_OVERFILLED,
                ULLAGE_VENTED,
                VEHICLE_ERECTED,
                BELOW_LEVEL_ADJUST,
            ),
            writes=(("RG1-FV-101-CMD", True), ("RG1-CV-101-SP", FILL_CV_PCT)),
            feedback=("RG1-FV-101-ZSO == true", "RG1-CV-101-ZT >= 95", "RG1-FT-101 >= 150"),
            timeout="rg1_fill_start",
            hazardous=True,
            description="Open the fill valve and the fill control valve: full-rate fill.",
        ),
        CommandSpec(
            name="start_level_adjust",
            source=(S.FILL, S.LINE_FILL),
            via=S.STARTING_LEVEL_ADJUST,
            dest=S.LEVEL_ADJUST,
            permissives=(
                NEAR_FLIGHT_LEVEL,
                FLIGHT_LEVEL_NOT_REACHED,
                NOT_OVERFILLED,
                PUMP_RUNNING,
                VENT_OPEN,
                DRAIN_CLOSED,
                VEHICLE_ERECTED,
            ),
            writes=(("RG1-CV-101-SP", LEVEL_ADJUST_CV_PCT), ("RG1-FV-101-CMD", True)),
            feedback=(
                "RG1-FV-101-ZSO == true",
                f"RG1-CV-101-ZT >= {LEVEL_ADJUST_CV_PCT - 1:g}",
                f"RG1-CV-101-ZT <= {LEVEL_ADJUST_CV_PCT + 1:g}",
                "RG1-FT-101 >= 10",
            ),
            timeout="rg1_flow_change",
            description="Throttle the fill to bring the level to flight level.",
        ),
        CommandSpec(
            name="complete_fill",
            source=(S.LEVEL_ADJUST,),
            via=S.COMPLETING_FILL,
            dest=S.LOADED,
            permissives=(FLIGHT_LEVEL_REACHED,),
            writes=(
                ("RG1-FV-101-CMD", False),
                ("RG1-CV-101-SP", 0.0),
                ("RG1-P-001-CMD", False),
                ("RG1-FV-001-CMD", False),
                ("RG1-E-001-CMD", False),
                ("RG1-E-002-CMD", False),
            ),
            feedback=(
                "RG1-FV-101-ZSC == true",
                "RG1-FV-001-ZSC == true",
                "RG1-P-001-RUN == false",
                "RG1-E-001-RUN == false",
                "RG1-E-002-RUN == false",
                "RG1-CV-101-ZT <= 2",
            ),
            timeout="rg1_fill_stop",
            description="At flight level: fill closed, pump and conditioning off.",
        ),
        CommandSpec(
            name="stop_fill",
            source=(S.FILL, S.LEVEL_ADJUST),
            via=S.STOPPING_FILL,
            dest=S.LINE_FILL,
            writes=(("RG1-FV-101-CMD", False), ("RG1-CV-101-SP", LINE_FILL_CV_PCT)),
            feedback=("RG1-FV-101-ZSC == true", *CV_AT_LINE_FILL),
            timeout="rg1_fill_stop",
            description="Stop fuel into the vehicle; the line stays full (a hold).",
        ),
        CommandSpec(
            name="close_for_flight",
            source=(S.LOADED,),
            via=S.CLOSING_FOR_FLIGHT,
            dest=S.FLIGHT_READY,
            permissives=(
                TERMINAL_COUNT,
                FLIGHT_LEVEL_REACHED,
                NOT_OVERFILLED,
                FILL_CLOSED,
                DRAIN_CLOSED,
                PUMP_STOPPED,
            ),
            writes=(("RG1-VV-101-CMD", False),),
            feedback=("RG1-VV-101-ZSC == true",),
            timeout="RG1-VV-101",
            hazardous=True,
            description="Terminal count: close the vehicle vent for flight pressurization.",
        ),
        CommandSpec(
            name="confirm_loaded",
            source=(S.SECURED,),
            via=S.CONFIRMING_LOADED,
            dest=S.LOADED,
            permissives=(
                NOT_TERMINAL_COUNT,
                FLIGHT_LEVEL_REACHED,
                NOT_OVERFILLED,
                FILL_CLOSED,
                DRAIN_CLOSED,
                PUMP_STOPPED,
            ),
            writes=(("RG1-VV-101-CMD", True),),
            feedback=("RG1-VV-101-ZSO == true", "RG1-LSH-101 == true"),
            timeout="RG1-VV-101",
            description="Recycle: a tank secured at flight level is taken as loaded again.",
        ),
        CommandSpec(
            name="start_drain",
            source=(S.SECURED, S.LOADED),
            via=S.OPENING_DRAIN,
            dest=S.DRAINING,
            permissives=(FILL_CLOSED, PUMP_STOPPED, VENT_OPEN, NOT_TERMINAL_COUNT),
            writes=(("RG1-VV-101-CMD", True), ("RG1-DV-101-CMD", True)),
            feedback=("RG1-DV-101-ZSO == true",),
            timeout="RG1-DV-101",
            hazardous=True,
            second_person=True,
            description="Drain the vehicle RG-1 tank back to storage.",
        ),
        CommandSpec(
            name="secure",
            source=(
                S.CONDITIONING,
                S.LINE_FILL,
                S.FILL,
                S.LEVEL_ADJUST,
                S.LOADED,
                S.FLIGHT_READY,
                S.DRAINING,
            ),
            via=S.SECURING,
            dest=S.SECURED,
            writes=SAFE_WRITES,
            feedback=SAFE_FEEDBACK,
            timeout="rg1_secure",
            description="Stop fuel flow and conditioning, vent open (also a scrub).",
        ),
    ),
    safe_writes=SAFE_WRITES,
    safe_feedback=SAFE_FEEDBACK,
    safe_timeout="rg1_secure",
    actuators=(
        "RG1-FV-001",
        "RG1-P-001",
        "RG1-FV-101",
        "RG1-DV-101",
        "RG1-VV-101",
        "RG1-E-001",
        "RG1-E-002",
    ),
    recognise=(
        (S.FLIGHT_READY, ("RG1-VV-101-ZSC == true", "RG1-FV-101-ZSC == true")),
        (S.DRAINING, ("RG1-DV-101-ZSO == true", "RG1-FV-101-ZSC == true")),
        (S.FILL, ("RG1-FV-101-ZSO == true", "RG1-CV-101-ZT >= 95")),
        (S.LEVEL_ADJUST, ("RG1-FV-101-ZSO == true", "RG1-CV-101-ZT <= 11")),
        (
            S.LINE_FILL,
            ("RG1-P-001-RUN == true", "RG1-FV-001-ZSO == true", "RG1-FV-101-ZSC == true"),
        ),
        (
            S.CONDITIONING,
            ("RG1-E-001-RUN == true", "RG1-E-002-RUN == true", "RG1-P-001-RUN == false"),
        ),
        (S.LOADED, (*SAFE_FEEDBACK, "RG1-LSH-101 == true")),
        (S.SECURED, SAFE_FEEDBACK),
    ),
)
