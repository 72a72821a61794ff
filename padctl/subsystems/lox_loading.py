"""LOX loading: line chilldown, slow/fast fill, topping, replenish and drain of the vehicle tank.

Storage T-001 -> outlet FV-001 -> pump P-001 -> fill control CV-101 + fill valve FV-101
(or the replenish line FV-102) -> vehicle tank; the chilldown bleed FV-103 returns line
flow to storage; the drain DV-101 returns vehicle LOX to storage. The vents VV-101
(vehicle) and VV-001 (storage) are fail-open and stay open while loading.
"""

from __future__ import annotations

import enum

from padctl.subsystems._spec import CommandSpec, Interlock, SubsystemSpec


class LoxLoadingState(enum.Enum):
    SECURED = "secured: no LOX flow, vents open"
    STARTING_CHILLDOWN = "starting line chilldown"
    LINE_CHILLDOWN = "line chilldown (bleed to storage)"
    STARTING_SLOW_FILL = "setting slow fill"
    SLOW_FILL = "slow fill"
    STARTING_FAST_FILL = "setting fast fill"
    FAST_FILL = "fast fill"
    STARTING_TOPPING = "setting topping"
    TOPPING = "topping to flight level"
    STARTING_REPLENISH = "setting replenish"
    REPLENISH = "replenish (boil-off make-up at flight level)"
    STOPPING_FILL = "stopping the fill (line kept cold)"
    OPENING_DRAIN = "opening the drain"
    DRAINING = "draining to storage"
    CLOSING_FOR_FLIGHT = "closing for flight"
    FLIGHT_READY = "replenish stopped, vent closed: ready for flight pressurization"
    SECURING = "securing"
    FAULT = "fault"


S = LoxLoadingState

# Set points and thresholds of the loading (percent of the vehicle tank, kelvin, bar).
SLOW_FILL_CV_PCT = 15.0
TOPPING_CV_PCT = 10.0
FAST_FILL_CV_PCT = 100.0
LINE_CHILLED_K = 110  # below this everything reaching the vehicle arrives liquid
SLOW_FILL_DONE_PCT = 5  # tank bottom chilled and covered: fast fill allowed
TOPPING_LEVEL_PCT = 90  # fast fill ends here; topping brings the level to flight level
ULLAGE_MAX_BAR = 1.5  # vented tank while loading

STORAGE_LEVEL = Interlock("LOX storage level for transfer (>= 20 %)", "LOX-LT-001 >= 20")
STORAGE_VENT_OPEN = Interlock("LOX storage vent open", "LOX-VV-001-ZSO == true")
VEHICLE_VENT_OPEN = Interlock("vehicle LOX vent open", "LOX-VV-101-ZSO == true")
DRAIN_CLOSED = Interlock("vehicle LOX drain closed", "LOX-DV-101-ZSC == true")
FILL_CLOSED = Interlock("vehicle LOX fill valve closed", "LOX-FV-101-ZSC == true")
REPLENISH_CLOSED = Interlock("LOX replenish valve closed", "LOX-FV-102-ZSC == true")
MAIN_BUS = Interlock("pad main bus energized (pump power)", "PWR-ET-841 >= 360")
PUMP_RUNNING = Interlock("LOX transfer pump running", "LOX-P-001-RUN == true")
PUMP_STOPPED = Interlock("LOX transfer pump stopped", "LOX-P-001-RUN == false")
LINE_CHILLED = Interlock(
    f"transfer line chilled (<= {LINE_CHILLED_K} K)", f"LOX-TT-103 <= {LINE_CHILLED_K}"
)
NOT_OVERFILLED = Interlock("vehicle LOX tank not overfilled (LSHH clear)", "LOX-LSHH-101 == false")
ULLAGE_LOW = Interlock(
    f"vehicle LOX ullage pressure low (<= {ULLAGE_MAX_BAR} bar)", f"LOX-PT-101 <= {ULLAGE_MAX_BAR}"
)
VEHICLE_ERECTED = Interlock("vehicle erected (erector vertical)", "ERC-ZS-501-VERTICAL == true")
SLOW_FILL_DONE = Interlock(
    f"slow fill done (level >= {SLOW_FILL_DONE_PCT} %)", f"LOX-LT-101 >= {SLOW_FILL_DONE_PCT}"
)
BELOW_TOPPING = Interlock(
    f"level below topping level (< {TOPPING_LEVEL_PCT} %)", f"LOX-LT-101 < {TOPPING_LEVEL_PCT}"
)
NEAR_FLIGHT_LEVEL = Interlock(
    f"level near flight level (>= {TOPPING_LEVEL_PCT} %)", f"LOX-LT-101 >= {TOPPING_LEVEL_PCT}"
)
FLIGHT_LEVEL_NOT_REACHED = Interlock(
    "flight level not yet reached (LSH clear)", "LOX-LSH-101 == false"
)
FLIGHT_LEVEL_REACHED = Interlock("flight level reached (LSH made)", "LOX-LSH-101 == true")
NOT_TERMINAL_COUNT = Interlock("countdown not in terminal count", "@terminal_count == false")
TERMINAL_COUNT = Interlock("countdown in terminal count", "@terminal_count == true")

FILLING = (S.SLOW_FILL, S.FAST_FILL, S.TOPPING, S.REPLENISH)

SAFE_WRITES = (
    ("LOX-FV-101-CMD", False),
    ("LOX-FV-102-CMD", False),
    ("LOX-CV-101-SP", 0.0),
    ("LOX-DV-101-CMD", False),
    ("LOX-FV-103-CMD", False),
    ("LOX-P-001-CMD", False),
    ("LOX-FV-001-CMD", False),
    ("LOX-VV-101-CMD", True),
    ("LOX-VV-001-CMD", True),
)
SAFE_FEEDBACK = (
    "LOX-FV-101-ZSC == true",
    "LOX-FV-102-ZSC == true",
    "LOX-DV-101-ZSC == true",
    "LOX-FV-103-ZSC == true",
    "LOX-FV-001-ZSC == true",
    "LOX-P-001-RUN == false",
    "LOX-VV-101-ZSO == true",
    "LOX-VV-001-ZSO == true",
    "LOX-CV-101-ZT <= 2",
)

LOX_LOADING = SubsystemSpec(
    name="lox_loading",
    title="LOX loading",
    description="Vehicle LOX tank loading: chilldown, slow/fast fill, topping, replenish, drain.",
    states=LoxLoadingState,
    initial=S.SECURED,
    safe_state=S.SECURED,
    commands=(
        CommandSpec(
            name="start_chilldown",
            source=(S.SECURED,),
            via=S.STARTING_CHILLDOWN,
            dest=S.LINE_CHILLDOWN,
            permissives=(
                STORAGE_LEVEL,
                STORAGE_VENT_OPEN,
                VEHICLE_VENT_OPEN,
                DRAIN_CLOSED,
                FILL_CLOSED,
                MAIN_BUS,
            ),
            writes=(
                ("LOX-VV-101-CMD", True),
                ("LOX-FV-001-CMD", True),
                ("LOX-FV-103-CMD", True),
                ("LOX-P-001-CMD", True),
            ),
            feedback=(
                "LOX-FV-001-ZSO == true",
                "LOX-FV-103-ZSO == true",
                "LOX-P-001-RUN == true",
                "LOX-FT-001 >= 4",
            ),
            timeout="lox_chilldown_start",
            hazardous=True,
            description="Start the pump and bleed LOX through the line back to storage.",
        ),
        CommandSpec(
            name="start_slow_fill",
            source=(S.LINE_CHILLDOWN, S.FAST_FILL),
            via=S.STARTING_SLOW_FILL,
            dest=S.SLOW_FILL,
            permissives=(
                LINE_CHILLED,
                PUMP_RUNNING,
                VEHICLE_VENT_OPEN,
                DRAIN_CLOSED,
                NOT_OVERFILLED,
                ULLAGE_LOW,
                VEHICLE_ERECTED,
            ),
            writes=(
                ("LOX-CV-101-SP", SLOW_FILL_CV_PCT),
                ("LOX-FV-101-CMD", True),
                ("LOX-FV-103-CMD", False),
            ),
            feedback=(
                "LOX-FV-101-ZSO == true",
                "LOX-FV-103-ZSC == true",
                f"LOX-CV-101-ZT >= {SLOW_FILL_CV_PCT - 2:g}",
                f"LOX-CV-101-ZT <= {SLOW_FILL_CV_PCT + 2:g}",
                "LOX-FT-101 >= 5",
            ),
            timeout="lox_fill_rate_change",
            hazardous=True,
            description="Slow fill: chills the tank bottom (also fast fill backed off).",
        ),
        CommandSpec(
            name="start_fast_fill",
            source=(S.SLOW_FILL,),
            via=S.STARTING_FAST_FILL,
            dest=S.FAST_FILL,
            permissives=(
                SLOW_FILL_DONE,
                BELOW_TOPPING,
                LINE_CHILLED,
                VEHICLE_VENT_OPEN,
                NOT_OVERFILLED,
                ULLAGE_LOW,
            ),
            writes=(("LOX-CV-101-SP", FAST_FILL_CV_PCT),),
            feedback=("LOX-CV-101-ZT >= 95", "LOX-FT-101 >= 60"),
            timeout="lox_fill_rate_change",
            description="Open the fill control valve fully: fast fill.",
        ),
        CommandSpec(
            name="start_topping",
            source=(S.SLOW_FILL, S.FAST_FILL),
            via=S.STARTING_TOPPING,
            dest=S.TOPPING,
            permissives=(
                NEAR_FLIGHT_LEVEL,
                FLIGHT_LEVEL_NOT_REACHED,
                NOT_OVERFILLED,
                VEHICLE_VENT_OPEN,
            ),
            writes=(("LOX-CV-101-SP", TOPPING_CV_PCT),),
            feedback=(
                "LOX-FV-101-ZSO == true",
                f"LOX-CV-101-ZT >= {TOPPING_CV_PCT - 1:g}",
                f"LOX-CV-101-ZT <= {TOPPING_CV_PCT + 1:g}",
            ),
            timeout="lox_fill_rate_change",
            description="Throttle the fill to the topping rate up to flight level.",
        ),
        CommandSpec(
            name="start_replenish",
            source=(S.TOPPING, S.LINE_CHILLDOWN),
            via=S.STARTING_REPLENISH,
            dest=S.REPLENISH,
            permissives=(
                FLIGHT_LEVEL_REACHED,
                NOT_OVERFILLED,
                LINE_CHILLED,
                PUMP_RUNNING,
                VEHICLE_VENT_OPEN,
                DRAIN_CLOSED,
            ),
            writes=(
                ("LOX-FV-103-CMD", True),
                ("LOX-FV-102-CMD", True),
                ("LOX-FV-101-CMD", False),
                ("LOX-CV-101-SP", 0.0),
            ),
            feedback=(
                "LOX-FV-102-ZSO == true",
                "LOX-FV-103-ZSO == true",
                "LOX-FV-101-ZSC == true",
                "LOX-CV-101-ZT <= 2",
            ),
            timeout="lox_fill_rate_change",
            description="Close the fill; make up boil-off through the replenish line, bleed open.",
        ),
        CommandSpec(
            name="stop_fill",
            source=FILLING,
            via=S.STOPPING_FILL,
            dest=S.LINE_CHILLDOWN,
            writes=(
                ("LOX-FV-101-CMD", False),
                ("LOX-FV-102-CMD", False),
                ("LOX-CV-101-SP", 0.0),
                ("LOX-FV-103-CMD", True),
            ),
            feedback=(
                "LOX-FV-101-ZSC == true",
                "LOX-FV-102-ZSC == true",
                "LOX-FV-103-ZSO == true",
                "LOX-CV-101-ZT <= 2",
            ),
            timeout="lox_fill_stop",
            description="Stop LOX into the vehicle; keep the line cold through the bleed (a hold).",
        ),
        CommandSpec(
            name="close_for_flight",
            source=(S.REPLENISH,),
            via=S.CLOSING_FOR_FLIGHT,
            dest=S.FLIGHT_READY,
            permissives=(TERMINAL_COUNT, FLIGHT_LEVEL_REACHED, NOT_OVERFILLED),
            writes=(
                ("LOX-FV-102-CMD", False),
                ("LOX-FV-101-CMD", False),
                ("LOX-CV-101-SP", 0.0),
                ("LOX-FV-103-CMD", False),
                ("LOX-P-001-CMD", False),
                ("LOX-FV-001-CMD", False),
                ("LOX-VV-101-CMD", False),
            ),
            feedback=(
                "LOX-FV-102-ZSC == true",
                "LOX-FV-101-ZSC == true",
                "LOX-FV-103-ZSC == true",
                "LOX-FV-001-ZSC == true",
                "LOX-P-001-RUN == false",
                "LOX-VV-101-ZSC == true",
            ),
            timeout="lox_flight_ready",
            hazardous=True,
            description="Terminal count: stop replenish, shut the vehicle vent for pressurization.",
        ),
        CommandSpec(
            name="start_drain",
            source=(S.SECURED,),
            via=S.OPENING_DRAIN,
            dest=S.DRAINING,
            permissives=(
                FILL_CLOSED,
                REPLENISH_CLOSED,
                PUMP_STOPPED,
                VEHICLE_VENT_OPEN,
                STORAGE_VENT_OPEN,
                NOT_TERMINAL_COUNT,
            ),
            writes=(("LOX-VV-101-CMD", True), ("LOX-DV-101-CMD", True)),
            feedback=("LOX-DV-101-ZSO == true",),
            timeout="LOX-DV-101",
            hazardous=True,
            second_person=True,
            description="Drain the vehicle LOX tank back to storage.",
        ),
        CommandSpec(
            name="secure",
            source=(S.LINE_CHILLDOWN, *FILLING, S.FLIGHT_READY, S.DRAINING),
            via=S.SECURING,
            dest=S.SECURED,
            writes=SAFE_WRITES,
            feedback=SAFE_FEEDBACK,
            timeout="lox_secure",
            description="Stop all LOX flow: valves closed, pump off, vents open (also a scrub).",
        ),
    ),
    safe_writes=SAFE_WRITES,
    safe_feedback=SAFE_FEEDBACK,
    safe_timeout="lox_secure",
    actuators=(
        "LOX-VV-001",
        "LOX-FV-001",
        "LOX-P-001",
        "LOX-FV-103",
        "LOX-FV-101",
        "LOX-FV-102",
        "LOX-DV-101",
        "LOX-VV-101",
    ),
    recognise=(
        (
            S.FLIGHT_READY,
            ("LOX-VV-101-ZSC == true", "LOX-FV-101-ZSC == true", "LOX-FV-102-ZSC == true"),
        ),
        (S.DRAINING, ("LOX-DV-101-ZSO == true", "LOX-FV-101-ZSC == true")),
        (S.REPLENISH, ("LOX-FV-102-ZSO == true", "LOX-FV-101-ZSC == true")),
        (S.FAST_FILL, ("LOX-FV-101-ZSO == true", "LOX-CV-101-ZT >= 95")),
        (
            S.SLOW_FILL,
            ("LOX-FV-101-ZSO == true", "LOX-CV-101-ZT >= 13", "LOX-CV-101-ZT <= 17"),
        ),
        (S.TOPPING, ("LOX-FV-101-ZSO == true", "LOX-CV-101-ZT <= 11")),
        (
            S.LINE_CHILLDOWN,
            ("LOX-P-001-RUN == true", "LOX-FV-103-ZSO == true", "LOX-FV-101-ZSC == true"),
        ),
        (S.SECURED, SAFE_FEEDBACK),
    ),
)
