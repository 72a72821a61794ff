"""Ground power: the vehicle ground power supply and the transfer to internal power."""

from __future__ import annotations

import enum

from padctl.subsystems._spec import CommandSpec, Interlock, SubsystemSpec


class GroundPowerState(enum.Enum):
    DE_ENERGIZED = "de-energized"
    ENERGIZING = "energizing"
    ON_EXTERNAL = "vehicle on external power"
    TRANSFERRING = "transfer"
    ON_INTERNAL = "vehicle on internal power"
    DE_ENERGIZING = "de-energizing"
    FAULT = "fault"


S = GroundPowerState

MAIN_BUS = Interlock("pad main bus energized", "PWR-ET-841 >= 360")
MAST_CONNECTED = Interlock(
    "cable mast connected (umbilical carries power)", "CBM-M-601-CONNECTED == true"
)

GROUND_POWER = SubsystemSpec(
    name="ground_power",
    title="Ground power",
    description="Vehicle ground power supply (breaker CB-842) and power transfer.",
    states=GroundPowerState,
    initial=S.DE_ENERGIZED,
    safe_state=S.DE_ENERGIZED,
    commands=(
        CommandSpec(
            name="energize",
            source=(S.DE_ENERGIZED,),
            via=S.ENERGIZING,
            dest=S.ON_EXTERNAL,
            permissives=(MAIN_BUS, MAST_CONNECTED),
            writes=(("VEH-PWR-INT-CMD", False), ("PWR-CB-842-CMD", True)),
            feedback=("PWR-CB-842-CLOSED == true", "PWR-ET-842 >= 27", "VEH-PWR-EXT == true"),
            timeout="ground_power_on",
            description="Close the vehicle ground power breaker: vehicle on external power.",
        ),
        CommandSpec(
            name="transfer_to_internal",
            source=(S.ON_EXTERNAL,),
            via=S.TRANSFERRING,
            dest=S.ON_INTERNAL,
            permissives=(Interlock("vehicle battery charged", "VEH-ET-902 >= 27"),),
            writes=(("VEH-PWR-INT-CMD", True),),
            feedback=("VEH-PWR-INT == true", "VEH-ET-901 >= 26"),
            timeout="ground_power_on",
            description="Vehicle to internal (battery) power.",
        ),
        CommandSpec(
            name="transfer_to_external",
            source=(S.ON_INTERNAL,),
            via=S.TRANSFERRING,
            dest=S.ON_EXTERNAL,
            permissives=(
                MAST_CONNECTED,
                Interlock("ground supply on", "PWR-CB-842-CLOSED == true"),
            ),
            writes=(("VEH-PWR-INT-CMD", False),),
            feedback=("VEH-PWR-EXT == true",),
            timeout="ground_power_on",
            description="Vehicle back to external (ground) power.",
        ),
        CommandSpec(
            name="de_energize",
            source=(S.ON_EXTERNAL, S.ON_INTERNAL),
            via=S.DE_ENERGIZING,
            dest=S.DE_ENERGIZED,
            writes=(("PWR-CB-842-CMD", False),),
            feedback=("PWR-CB-842-OPEN == true", "PWR-ET-842 <= 2"),
            timeout="ground_power_off",
            description="Open the vehicle ground power breaker.",
        ),
    ),
    safe_writes=(("PWR-CB-842-CMD", False),),
    safe_feedback=("PWR-CB-842-OPEN == true",),
    safe_timeout="ground_power_off",
    actuators=("PWR-CB-842",),
    recognise=(
        (S.ON_INTERNAL, ("VEH-PWR-INT == true", "PWR-CB-842-CLOSED == true")),
        (S.ON_EXTERNAL, ("VEH-PWR-EXT == true", "PWR-CB-842-CLOSED == true")),
        (S.DE_ENERGIZED, ("PWR-CB-842-OPEN == true",)),
    ),
)
