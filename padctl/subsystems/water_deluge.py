"""Water deluge: pump P-801, launch deluge valve FV-801 and flame trench cooling valve FV-802.

Armed means the pump runs against closed valves at shut-off head, so water reaches the launch
table within a valve stroke. Flow is proven by the flow transmitters, not the valve switches.
Every output is fail-closed / off at the PLC's watchdog: the safe state is STANDBY.
"""

from __future__ import annotations

import enum

from padctl.subsystems._spec import CommandSpec, Interlock, SubsystemSpec

DELUGE_MIN_M3_H = 3000.0  # launch deluge FT-801 (full flow 4000 m3/h)
COOLING_MIN_M3_H = 900.0  # flame trench cooling FT-802 (full flow 1200 m3/h)
ARMED_MIN_BAR = 10.0  # pump discharge at shut-off head (12 bar at rated speed)


class WaterDelugeState(enum.Enum):
    STANDBY = "pump stopped, valves closed"
    ARMING = "starting the deluge pump"
    ARMED = "pump at shut-off head, valves closed"
    FLOW_STARTING = "opening deluge and trench cooling valves"
    FLOWING = "deluge and trench cooling water flowing"
    STOPPING = "closing valves, stopping the pump"
    STOPPED = "flow stopped after a deluge"
    FAULT = "fault"


S = WaterDelugeState

VALVES = ("DLG-FV-801", "DLG-FV-802")
VALVES_CLOSED = tuple(f"{valve}-ZSC == true" for valve in VALVES)
PUMP_RUNNING = Interlock("deluge pump P-801 running", "DLG-P-801-RUN == true")
PUMP_PRESSURE = Interlock(
    f"deluge pump discharge at {ARMED_MIN_BAR:g} bar or more", f"DLG-PT-801 >= {ARMED_MIN_BAR:g}"
)
_STOP_WRITES = (("DLG-FV-801-CMD", False), ("DLG-FV-802-CMD", False), ("DLG-P-801-CMD", False))
_STOPPED_FEEDBACK = (*VALVES_CLOSED, "DLG-P-801-RUN == false")

WATER_DELUGE = SubsystemSpec(
    name="water_deluge",
    title="Water deluge",
    description="Launch deluge and flame trench cooling water (pump P-801, FV-801, FV-802).",
    states=WaterDelugeState,
    initial=S.STANDBY,
    safe_state=S.STANDBY,
    commands=(
        CommandSpec(
            name="arm",
            source=(S.STANDBY, S.STOPPED),
            via=S.ARMING,
            dest=S.ARMED,
            permissives=(
                Interlock("deluge tank level at 80 % or more", "DLG-LT-801 >= 80"),
                Interlock("pad main bus energized (pump supply)", "PWR-ET-841 >= 360"),
                *(
                    Interlock(f"{valve} closed (pump starts against closed valves)", closed)
                    for valve, closed in zip(VALVES, VALVES_CLOSED, strict=True)
                ),
            ),
            writes=(("DLG-P-801-CMD", True),),
            feedback=("DLG-P-801-RUN == true", f"DLG-PT-801 >= {ARMED_MIN_BAR:g}"),
            timeout="DLG-P-801",
            description="Start the deluge pump against closed valves.",
        ),
        CommandSpec(
            name="start_flow",
            source=(S.ARMED,),
            via=S.FLOW_STARTING,
            dest=S.FLOWING,
            permissives=(
                PUMP_RUNNING,
                PUMP_PRESSURE,
                Interlock("deluge tank level at 20 % or more", "DLG-LT-801 >= 20"),
            ),
            writes=(("DLG-FV-801-CMD", True), ("DLG-FV-802-CMD", True)),
            feedback=(
                *(f"{valve}-ZSO == true" for valve in VALVES),
                f"DLG-FT-801 >= {DELUGE_MIN_M3_H:g}",
                f"DLG-FT-802 >= {COOLING_MIN_M3_H:g}",
            ),
            timeout="DLG-FV-801",
            hazardous=True,
            description="Open the launch deluge and trench cooling valves; flow proven by FT.",
        ),
        CommandSpec(
            name="stop_flow",
            source=(S.FLOWING,),
            via=S.STOPPING,
            dest=S.STOPPED,
            writes=_STOP_WRITES,
            feedback=(*_STOPPED_FEEDBACK, "DLG-FT-801 <= 50", "DLG-FT-802 <= 50"),
            timeout="deluge_stop",
            description="Close both valves and stop the pump.",
        ),
        CommandSpec(
            name="disarm",
            source=(S.ARMED, S.STOPPED),
            via=S.STOPPING,
            dest=S.STANDBY,
            permissives=(
                Interlock(
                    "not in terminal count (the deluge stays armed for liftoff)",
                    "@terminal_count == false",
                ),
            ),
            writes=_STOP_WRITES,
            feedback=_STOPPED_FEEDBACK,
            timeout="deluge_stop",
            description="Stop the pump: deluge back to standby.",
        ),
    ),
    safe_writes=_STOP_WRITES,
    safe_feedback=_STOPPED_FEEDBACK,
    safe_timeout="deluge_stop",
    actuators=("DLG-FV-801", "DLG-FV-802", "DLG-P-801"),
    recognise=(
        (S.FLOWING, ("DLG-P-801-RUN == true", *(f"{v}-ZSO == true" for v in VALVES))),
        (S.ARMED, ("DLG-P-801-RUN == true", *VALVES_CLOSED)),
        (S.STANDBY, _STOPPED_FEEDBACK),
    ),
)
