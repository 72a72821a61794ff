"""Cable mast: the umbilicals to the vehicle, retracted at liftoff (pneumatic drive M-601).

The ground power reaches the vehicle through the mast, so an operator's retract needs the
vehicle on internal power and is two-step: `arm_retract`, then `retract` (hazardous). At
liftoff, if it is still connected, its automatic rule retracts it with `retract_at_liftoff`
(two of the three liftoff contacts made, the mast in AUTO as a count leaves it): that command
needs a liftoff contact instead of internal power. RETRACT and CONNECT are held commands,
dropped once the end position is proven.

Safing drops both held commands (the PLC watchdog's safe values): the mast stops where it
is, so the safe state is STOPPED and `connect` or `retract_at_liftoff` continue from there.
"""

from __future__ import annotations

import enum

from padctl.subsystems._liftoff import LIFTOFF_CONTACT_TAGS, LIFTOFF_VOTE
from padctl.subsystems._spec import AutomaticRule, CommandSpec, Interlock, SubsystemSpec, Vote


class CableMastState(enum.Enum):
    CONNECTED = "connected to the vehicle"
    RETRACT_ARMED = "connected, retract armed"
    RETRACTING = "retracting"
    RETRACTED = "retracted clear of the vehicle"
    CONNECTING = "connecting to the vehicle"
    STOPPED = "drive stopped where it stands"
    FAULT = "fault"


S = CableMastState

VEHICLE_ON_INTERNAL = Interlock(
    "vehicle on internal power (the mast carries ground power)", "VEH-PWR-INT == true"
)
PNEUMATIC_SUPPLY = Interlock("mast pneumatic supply 5 bar or more", "CBM-PT-601 >= 5")
# The automatic rule votes the contacts 2 of 3; the command itself checks contact 1 as a guard.
LIFTOFF_CONTACTS = tuple(f"{tag} == true" for tag in LIFTOFF_CONTACT_TAGS)
LIFTOFF_CONTACT = Interlock("liftoff contact 1 made", "VEH-LIFTOFF-1 == true")

_RETRACT = (("CBM-M-601-CONNECT-CMD", False), ("CBM-M-601-RETRACT-CMD", True))
_RETRACTED = (
    "CBM-M-601-RETRACTED == true",
    "CBM-M-601-CONNECTED == false",
    "CBM-ZT-601 >= 98",
)
_STOP = (("CBM-M-601-RETRACT-CMD", False), ("CBM-M-601-CONNECT-CMD", False))

CABLE_MAST = SubsystemSpec(
    name="cable_mast",
    title="Cable mast",
    description="Cable mast M-601 (umbilicals, ground power): two-step retract, automatic "
    "retract at liftoff, reconnect for a recycle.",
    states=CableMastState,
    initial=S.STOPPED,
    safe_state=S.STOPPED,
    commands=(
        CommandSpec(
            name="arm_retract",
            source=(S.CONNECTED,),
            dest=S.RETRACT_ARMED,
            permissives=(VEHICLE_ON_INTERNAL, PNEUMATIC_SUPPLY),
            description="First step of an operator's retract (nothing moves).",
        ),
        CommandSpec(
            name="disarm_retract",
            source=(S.RETRACT_ARMED,),
            dest=S.CONNECTED,
            description="Withdraw the retract arm.",
        ),
        CommandSpec(
            name="retract",
            source=(S.RETRACT_ARMED,),
            via=S.RETRACTING,
            dest=S.RETRACTED,
            permissives=(VEHICLE_ON_INTERNAL, PNEUMATIC_SUPPLY),
            writes=_RETRACT,
            feedback=_RETRACTED,
            timeout="cable_mast_retract",
            after=_STOP,
            hazardous=True,
            description="Retract the mast from the vehicle (armed, vehicle on internal power).",
        ),
        CommandSpec(
            name="retract_at_liftoff",
            source=(S.CONNECTED, S.RETRACT_ARMED, S.STOPPED),
            via=S.RETRACTING,
            dest=S.RETRACTED,
            permissives=(LIFTOFF_CONTACT,),
            writes=_RETRACT,
            feedback=_RETRACTED,
            timeout="cable_mast_retract",
            after=_STOP,
            description="The countdown's automatic retract at liftoff (no arming).",
        ),
        CommandSpec(
            name="connect",
            source=(S.RETRACTED, S.STOPPED),
            via=S.CONNECTING,
            dest=S.CONNECTED,
            permissives=(
                Interlock("engine not running (chamber 5 bar or less)", "VEH-PT-901 <= 5"),
                Interlock(
                    "vehicle ground power off (no live umbilical pins)",
                    "PWR-CB-842-OPEN == true",
                ),
                PNEUMATIC_SUPPLY,
            ),
            writes=(("CBM-M-601-RETRACT-CMD", False), ("CBM-M-601-CONNECT-CMD", True)),
            feedback=(
                "CBM-M-601-CONNECTED == true",
                "CBM-M-601-RETRACTED == false",
                "CBM-ZT-601 <= 2",
            ),
            timeout="cable_mast_connect",
            after=_STOP,
            description="Swing the mast back and mate the umbilicals (recycle).",
        ),
    ),
    safe_writes=_STOP,
    safe_feedback=("CBM-M-601-RETRACT-CMD == false", "CBM-M-601-CONNECT-CMD == false"),
    safe_timeout="cable_mast_stop",
    automatic=(
        AutomaticRule(
            f"retract at liftoff ({LIFTOFF_VOTE} of {len(LIFTOFF_CONTACTS)} liftoff contacts)",
            "retract_at_liftoff",
            when=(Vote(LIFTOFF_CONTACTS, count=LIFTOFF_VOTE),),
        ),
    ),
    # The pad definition lists no actuator for M-601: nothing for the watch or a checkout.
    actuators=(),
    recognise=(
        (S.CONNECTED, ("CBM-M-601-CONNECTED == true", "CBM-M-601-RETRACT-CMD == false")),
        (S.RETRACTED, ("CBM-M-601-RETRACTED == true", "CBM-M-601-CONNECT-CMD == false")),
    ),
)
