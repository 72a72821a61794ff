"""Fire detection and suppression: flame detectors FD-811..816, PLC alarm XA-801, agent FV-831.

It acts on its own, apart from the countdown: its automatic rules (data in the spec, run
by the station, see padctl.subsystems._automatic) watch the detectors and, with the
subsystem in AUTO (the panel's automatic-release position), command `alarm` and then
`suppress` as a sequence would; a refused release (an empty agent bottle, stale data) is
tried again every 10 s while the fire lasts. In MANUAL the operators command every step (a
manual call point, manual release); closing the agent valve and resetting the latched alarm
are always an operator's decision.
"""

from __future__ import annotations

import enum

from padctl.subsystems._spec import AutomaticRule, CommandSpec, Interlock, SubsystemSpec, Vote


class FireSuppressionState(enum.Enum):
    MONITORING = "detectors watched, agent valve closed"
    FIRE_ALARM = "fire alarm"
    RELEASING = "opening the agent valve"
    SUPPRESSING = "extinguishing agent flowing"
    CLOSING = "closing the agent valve"
    RESETTING = "resetting the fire alarm"
    FAULT = "fault"


S = FireSuppressionState

ZONES = {
    1: "launch table",
    2: "flame trench",
    3: "LOX storage",
    4: "RG-1 storage",
    5: "pump room",
    6: "cable mast",
}
DETECTORS = tuple(f"FIR-FD-81{zone}" for zone in ZONES)
ALARM_TAG = "FIR-XA-801"
AGENT_MIN_KG_S = 2.0  # the agent flow that puts a fire out
NO_FLAME = tuple(
    Interlock(f"no flame in zone {zone} ({where})", f"{detector} == false")
    for (zone, where), detector in zip(ZONES.items(), DETECTORS, strict=True)
)
FLAME_SEEN = tuple(f"{detector} == true" for detector in DETECTORS)
AGENT_VALVE_CLOSED = Interlock("agent valve FV-831 closed", "FIR-FV-831-ZSC == true")

FIRE_SUPPRESSION = SubsystemSpec(
    name="fire_suppression",
    title="Fire detection and suppression",
    description="Flame detectors in six zones, PLC fire alarm, extinguishing agent valve FV-831.",
    states=FireSuppressionState,
    initial=S.MONITORING,
    safe_state=S.MONITORING,
    commands=(
        CommandSpec(
            name="alarm",
            source=(S.MONITORING,),
            dest=S.FIRE_ALARM,
            # No permissive: a manual call point must always work, and the automatic
            # release gives it only on a detected fire.
            description="Declare a fire alarm (automatic on detection, or a manual call point).",
        ),
        CommandSpec(
            name="suppress",
            source=(S.FIRE_ALARM,),
            via=S.RELEASING,
            dest=S.SUPPRESSING,
            permissives=(
                Interlock(
                    "agent bottle at 5 bar or more (a discharge would be ineffective)",
                    "FIR-PT-831 >= 5",
                ),
            ),
            writes=(("FIR-FV-831-CMD", True),),
            feedback=("FIR-FV-831-ZSO == true", f"FIR-FT-831 >= {AGENT_MIN_KG_S:g}"),
            timeout="FIR-FV-831",
            hazardous=True,
            description="Open the agent valve; agent flow proven by FT-831.",
        ),
        CommandSpec(
            name="stop_suppression",
            source=(S.SUPPRESSING,),
            via=S.CLOSING,
            dest=S.FIRE_ALARM,
            permissives=NO_FLAME,
            writes=(("FIR-FV-831-CMD", False),),
            feedback=("FIR-FV-831-ZSC == true", "FIR-FT-831 <= 0.5"),
            timeout="FIR-FV-831",
            description="Close the agent valve once every zone is clear (the alarm stays latched).",
        ),
        CommandSpec(
            name="reset_alarm",
            source=(S.FIRE_ALARM,),
            via=S.RESETTING,
            dest=S.MONITORING,
            permissives=(*NO_FLAME, AGENT_VALVE_CLOSED),
            writes=(("FIR-XA-801-RESET-CMD", True),),
            feedback=(f"{ALARM_TAG} == false",),
            timeout="fire_alarm_reset",
            after=(("FIR-XA-801-RESET-CMD", False),),
            description="Reset the PLC's latched fire alarm (every zone clear, agent valve shut).",
        ),
    ),
    safe_writes=(("FIR-FV-831-CMD", False), ("FIR-XA-801-RESET-CMD", False)),
    safe_feedback=("FIR-FV-831-ZSC == true",),
    safe_timeout="FIR-FV-831",
    actuators=("FIR-FV-831",),
    automatic=(
        # The alarm on the PLC's latched alarm, or on two detectors should its latch fail.
        AutomaticRule(
            "fire alarm on the PLC's latched alarm",
            "alarm",
            when=(Vote((f"{ALARM_TAG} == true",)),),
        ),
        AutomaticRule(
            "fire alarm on two flame detectors",
            "alarm",
            when=(Vote(FLAME_SEEN, count=2),),
        ),
        # The agent while the fire is confirmed: two detectors, or the latched alarm and one.
        AutomaticRule(
            "agent release on two flame detectors",
            "suppress",
            when=(Vote(FLAME_SEEN, count=2),),
        ),
        AutomaticRule(
            "agent release on the latched alarm and one flame detector",
            "suppress",
            when=(Vote((f"{ALARM_TAG} == true",)), Vote(FLAME_SEEN)),
        ),
    ),
    recognise=(
        (S.SUPPRESSING, ("FIR-FV-831-ZSO == true",)),
        (S.FIRE_ALARM, (f"{ALARM_TAG} == true", "FIR-FV-831-ZSC == true")),
        (S.MONITORING, (f"{ALARM_TAG} == false", "FIR-FV-831-ZSC == true")),
    ),
)
