"""Hold-downs: four clamps hold the vehicle on the launch table until thrust is proven.

Arming pressurizes the release accumulator (HDC-ARMED at 180 bar), only in the terminal
count; the release opens all four clamps in under half a second, only with thrust OK. Both
are hazardous. A recycle re-clamps them with the engine stopped.

Safing disarms (the PLC watchdog's safe values) and also drives the clamps closed: a vehicle
left unclamped on the table after an abort is held again, and the safe state CLAMPED is
proven by all four clamp switches.
"""

from __future__ import annotations

import enum

from padctl.subsystems._spec import CommandSpec, Interlock, SubsystemSpec


class HoldDownState(enum.Enum):
    CLAMPED = "clamped, release disarmed"
    ARMING = "pressurizing the release accumulator"
    RELEASE_ARMED = "clamped, release armed"
    DISARMING = "venting the release accumulator"
    RELEASING = "releasing the clamps"
    RELEASED = "clamps released"
    CLAMPING = "re-clamping"
    FAULT = "fault"


S = HoldDownState

CLAMPS = (1, 2, 3, 4)
ARMED_BAR = 180.0

TERMINAL_COUNT = Interlock("terminal count running", "@terminal_count == true")
ALL_CLAMPED = tuple(Interlock(f"clamp {n} clamped", f"HDC-M-70{n}-CLAMPED == true") for n in CLAMPS)
ENGINE_STOPPED = (
    Interlock("engine thrust not OK (engine stopped)", "VEH-THRUST-OK == false"),
    Interlock("engine chamber pressure 5 bar or less", "VEH-PT-901 <= 5"),
)

_CLAMPED = tuple(f"HDC-M-70{n}-CLAMPED == true" for n in CLAMPS)
_RELEASED = tuple(f"HDC-M-70{n}-RELEASED == true" for n in CLAMPS)
_RECLAMP = (("HDC-ARM-CMD", False), ("HDC-RELEASE-CMD", False), ("HDC-CLAMP-CMD", True))

HOLD_DOWNS = SubsystemSpec(
    name="hold_downs",
    title="Hold-downs",
    description="Hold-down clamps HDC-M-701..704 and their release accumulator: arm and "
    "release in the terminal count, re-clamp for a recycle.",
    states=HoldDownState,
    initial=S.CLAMPED,
    safe_state=S.CLAMPED,
    commands=(
        CommandSpec(
            name="arm_release",
            source=(S.CLAMPED,),
            via=S.ARMING,
            dest=S.RELEASE_ARMED,
            permissives=(TERMINAL_COUNT, *ALL_CLAMPED),
            writes=(("HDC-RELEASE-CMD", False), ("HDC-CLAMP-CMD", False), ("HDC-ARM-CMD", True)),
            feedback=("HDC-ARMED == true", f"HDC-PT-700 >= {ARMED_BAR}", *_CLAMPED),
            timeout="hold_down_arm",
            hazardous=True,
            second_person=True,
            description="Pressurize the release accumulator (terminal count only).",
        ),
        CommandSpec(
            name="disarm",
            source=(S.RELEASE_ARMED,),
            via=S.DISARMING,
            dest=S.CLAMPED,
            writes=(("HDC-RELEASE-CMD", False), ("HDC-ARM-CMD", False)),
            feedback=("HDC-ARMED == false", *_CLAMPED),
            timeout="hold_down_arm",
            description="Vent the release accumulator; the clamps stay clamped.",
        ),
        CommandSpec(
            name="release",
            source=(S.RELEASE_ARMED,),
            via=S.RELEASING,
            dest=S.RELEASED,
            permissives=(
                TERMINAL_COUNT,
                Interlock("engine thrust OK", "VEH-THRUST-OK == true"),
                Interlock("engine chamber pressure 220 bar or more", "VEH-PT-901 >= 220"),
                Interlock("release armed (accumulator pressurized)", "HDC-ARMED == true"),
            ),
            writes=(("HDC-RELEASE-CMD", True),),
            feedback=_RELEASED,
            timeout="hold_down_release",
            after=(("HDC-RELEASE-CMD", False), ("HDC-ARM-CMD", False)),
            hazardous=True,
            second_person=True,
            description="Open all four clamps (thrust proven): the vehicle is free to fly.",
        ),
        CommandSpec(
            name="reclamp",
            source=(S.RELEASED,),
            via=S.CLAMPING,
            dest=S.CLAMPED,
            permissives=ENGINE_STOPPED,
            writes=_RECLAMP,
            feedback=("HDC-ARMED == false", *_CLAMPED),
            timeout="hold_down_reclamp",
            after=(("HDC-CLAMP-CMD", False),),
            description="Close the clamps again (recycle, engine stopped).",
        ),
    ),
    safe_writes=_RECLAMP,
    safe_feedback=("HDC-ARMED == false", "HDC-RELEASE-CMD == false", *_CLAMPED),
    safe_timeout="hold_down_reclamp",
    # The pad definition lists no actuator for the clamps: nothing to watch or stroke.
    actuators=(),
    recognise=(
        (S.RELEASE_ARMED, ("HDC-ARMED == true", *_CLAMPED)),
        (S.RELEASED, _RELEASED),
        (S.CLAMPED, ("HDC-ARMED == false", *_CLAMPED)),
    ),
)
