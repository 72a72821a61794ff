"""Gas supply: GN2 compartment purges and GHE (vehicle pressurant spheres, flight pressurization).

The PLC's watchdog leaves the nitrogen purges flowing (fail-open valves, regulator at 10 bar)
and the helium isolated with the spheres venting: that line-up is COMPARTMENT_PURGE, the safe
state. Helium goes to the vehicle only from it, through PRESSURANT_LOADING (spheres filling)
and PRESSURANT_LOADED (header live, loading valve shut), to FLIGHT_PRESSURIZATION in the
terminal count; VENTING returns the spheres to zero through the vent valve.
"""

from __future__ import annotations

import enum

from padctl.subsystems._spec import CommandSpec, Interlock, SubsystemSpec


class GasSupplyState(enum.Enum):
    IDLE = "purges stopped, helium isolated"
    COMPARTMENT_PURGE = "compartments purged with GN2, helium isolated, spheres vented"
    CONFIGURING = "valve line-up in progress"
    PRESSURANT_LOADING = "loading helium into the vehicle pressurant spheres"
    PRESSURANT_LOADED = "spheres loaded, helium header live"
    FLIGHT_PRESSURIZATION = "helium pressurizing the vehicle tanks"
    VENTING = "venting the vehicle pressurant spheres"
    FAULT = "fault"


S = GasSupplyState

GN2_PURGE_SETPOINT_BAR = 10.0  # also the PLC's watchdog safe value
GHE_LOADING_SETPOINT_BAR = 210.0
GN2_PURGE_VALVES = ("GN2-FV-211", "GN2-FV-212", "GN2-FV-213")
GHE_PRESSURIZATION_VALVES = ("GHE-FV-321", "GHE-FV-322")

GN2_BANK_A = Interlock("GN2 bottle bank A above 50 bar", "GN2-PT-201 >= 50")
GN2_BANK_B = Interlock("GN2 bottle bank B above 50 bar", "GN2-PT-202 >= 50")
GHE_BANK_A = Interlock(
    "GHE bottle bank A above 220 bar (spheres load to 210 bar)", "GHE-PT-301 >= 220"
)
GHE_BANK_B = Interlock(
    "GHE bottle bank B above 220 bar (spheres load to 210 bar)", "GHE-PT-302 >= 220"
)
PURGE_ON = Interlock(
    "compartment purge on (GN2 purge regulator holding 8 bar or more)", "GN2-PT-203 >= 8"
)
LOADING_VALVE_CLOSED = Interlock("GHE spheres loading valve closed", "GHE-FV-311-ZSC == true")
PRESSURIZATION_CLOSED = tuple(
    Interlock(f"flight pressurization valve {valve} closed", f"{valve}-ZSC == true")
    for valve in GHE_PRESSURIZATION_VALVES
)

_PURGE_OPEN = tuple((f"{v}-CMD", True) for v in ("GN2-FV-201", *GN2_PURGE_VALVES))
_PURGE_CLOSE = tuple((f"{v}-CMD", False) for v in (*GN2_PURGE_VALVES, "GN2-FV-201"))
_PURGE_OPEN_FEEDBACK = tuple(f"{v}-ZSO == true" for v in ("GN2-FV-201", *GN2_PURGE_VALVES))

GAS_SUPPLY = SubsystemSpec(
    name="gas_supply",
    title="Gas supply",
    description="GN2 compartment purges; GHE pressurant spheres loading, flight pressurization.",
    states=GasSupplyState,
    initial=S.IDLE,
    safe_state=S.COMPARTMENT_PURGE,
    commands=(
        CommandSpec(
            name="start_purge",
            source=(S.IDLE,),
            via=S.CONFIGURING,
            dest=S.COMPARTMENT_PURGE,
            permissives=(GN2_BANK_A, GN2_BANK_B),
            writes=(("GN2-PC-201-SP", GN2_PURGE_SETPOINT_BAR), *_PURGE_OPEN),
            feedback=(
                *_PURGE_OPEN_FEEDBACK,
                "GN2-PT-203 >= 8",
                *(f"GN2-FT-{n} >= 0.04" for n in (211, 212, 213)),
            ),
            timeout="gn2_purge",
            description="Regulator to 10 bar, open the GN2 supply and the three purge valves.",
        ),
        CommandSpec(
            name="stop_purge",
            source=(S.COMPARTMENT_PURGE,),
            via=S.CONFIGURING,
            dest=S.IDLE,
            permissives=(
                Interlock("no LOX aboard (vehicle LOX tank empty)", "LOX-LT-101 <= 1"),
                Interlock("no RG-1 aboard (vehicle RG-1 tank empty)", "RG1-LT-101 <= 1"),
            ),
            writes=_PURGE_CLOSE,
            feedback=(
                *(f"{v}-ZSC == true" for v in ("GN2-FV-201", *GN2_PURGE_VALVES)),
                *(f"GN2-FT-{n} <= 0.005" for n in (211, 212, 213)),
            ),
            timeout="gn2_purge",
            description="Close the purge valves and the GN2 supply (only with empty tanks).",
        ),
        CommandSpec(
            name="start_loading",
            source=(S.COMPARTMENT_PURGE,),
            via=S.CONFIGURING,
            dest=S.PRESSURANT_LOADING,
            permissives=(GHE_BANK_A, GHE_BANK_B, PURGE_ON, *PRESSURIZATION_CLOSED),
            writes=(
                ("GHE-VV-311-CMD", False),
                ("GHE-PC-301-SP", GHE_LOADING_SETPOINT_BAR),
                ("GHE-FV-301-CMD", True),
                ("GHE-FV-311-CMD", True),
            ),
            feedback=(
                "GHE-VV-311-ZSC == true",
                "GHE-FV-301-ZSO == true",
                "GHE-FV-311-ZSO == true",
                "GHE-PT-303 >= 200",
            ),
            timeout="ghe_loading_start",
            description="Close the spheres vent, regulator to 210 bar, open isolation and loading.",
        ),
        CommandSpec(
            name="stop_loading",
            source=(S.PRESSURANT_LOADING,),
            via=S.CONFIGURING,
            dest=S.PRESSURANT_LOADED,
            writes=(("GHE-FV-311-CMD", False),),
            feedback=("GHE-FV-311-ZSC == true",),
            timeout="GHE-FV-311",
            description="Close the spheres loading valve; the helium header stays live.",
        ),
        CommandSpec(
            name="start_flight_pressurization",
            source=(S.PRESSURANT_LOADED,),
            via=S.CONFIGURING,
            dest=S.FLIGHT_PRESSURIZATION,
            permissives=(
                Interlock("terminal count running", "@terminal_count == true"),
                Interlock("pressurant spheres loaded (190 bar or more)", "GHE-PT-311 >= 190"),
                Interlock("GHE header at 10 bar or more", "GHE-PT-303 >= 10"),
                Interlock("GHE spheres vent valve closed", "GHE-VV-311-ZSC == true"),
                Interlock("vehicle LOX tank vent closed", "LOX-VV-101-ZSC == true"),
                Interlock("vehicle RG-1 tank vent closed", "RG1-VV-101-ZSC == true"),
            ),
            writes=tuple((f"{v}-CMD", True) for v in GHE_PRESSURIZATION_VALVES),
            feedback=tuple(f"{v}-ZSO == true" for v in GHE_PRESSURIZATION_VALVES),
            timeout="GHE-FV-321",
            description="Open the LOX and RG-1 tank flight pressurization valves.",
        ),
        CommandSpec(
            name="stop_flight_pressurization",
            source=(S.FLIGHT_PRESSURIZATION,),
            via=S.CONFIGURING,
            dest=S.PRESSURANT_LOADED,
            writes=tuple((f"{v}-CMD", False) for v in GHE_PRESSURIZATION_VALVES),
            feedback=tuple(f"{v}-ZSC == true" for v in GHE_PRESSURIZATION_VALVES),
            timeout="GHE-FV-321",
            description="Close the flight pressurization valves.",
        ),
        CommandSpec(
            name="vent",
            source=(S.PRESSURANT_LOADED,),
            via=S.VENTING,
            dest=S.COMPARTMENT_PURGE,
            permissives=(LOADING_VALVE_CLOSED, *PRESSURIZATION_CLOSED),
            writes=(
                ("GHE-FV-301-CMD", False),
                ("GHE-PC-301-SP", 0.0),
                ("GHE-VV-311-CMD", True),
            ),
            feedback=("GHE-FV-301-ZSC == true", "GHE-VV-311-ZSO == true", "GHE-PT-311 <= 5"),
            timeout="ghe_spheres_vent",
            description="Isolate the helium and vent the spheres to 5 bar or less.",
        ),
    ),
    # The PLC watchdog's safe values: purges flowing at 10 bar, helium isolated, spheres venting.
    safe_writes=(
        *((f"{v}-CMD", False) for v in GHE_PRESSURIZATION_VALVES),
        ("GHE-FV-311-CMD", False),
        ("GHE-FV-301-CMD", False),
        ("GHE-PC-301-SP", 0.0),
        ("GHE-VV-311-CMD", True),
        ("GN2-PC-201-SP", GN2_PURGE_SETPOINT_BAR),
        *_PURGE_OPEN,
    ),
    safe_feedback=(
        *(f"{v}-ZSC == true" for v in (*GHE_PRESSURIZATION_VALVES, "GHE-FV-311", "GHE-FV-301")),
        "GHE-VV-311-ZSO == true",
        *_PURGE_OPEN_FEEDBACK,
    ),
    safe_timeout="gas_safing",
    actuators=(
        "GN2-FV-201",
        *GN2_PURGE_VALVES,
        "GHE-FV-301",
        "GHE-FV-311",
        "GHE-VV-311",
        *GHE_PRESSURIZATION_VALVES,
    ),
    recognise=(
        (S.FLIGHT_PRESSURIZATION, tuple(f"{v}-ZSO == true" for v in GHE_PRESSURIZATION_VALVES)),
        (S.PRESSURANT_LOADING, ("GHE-FV-301-ZSO == true", "GHE-FV-311-ZSO == true")),
        (
            S.PRESSURANT_LOADED,
            ("GHE-FV-301-ZSO == true", "GHE-FV-311-ZSC == true", "GHE-VV-311-ZSC == true"),
        ),
        (
            S.COMPARTMENT_PURGE,
            (*_PURGE_OPEN_FEEDBACK, "GHE-FV-301-ZSC == true", "GHE-VV-311-ZSO == true"),
        ),
        (
            S.IDLE,
            (
                *(f"{v}-ZSC == true" for v in ("GN2-FV-201", *GN2_PURGE_VALVES)),
                "GHE-FV-301-ZSC == true",
            ),
        ),
    ),
)
