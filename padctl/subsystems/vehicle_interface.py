"""Vehicle interface: the ground's view of the vehicle's onboard sequencer and engine.

The engine cutoff command is held (the PLC watchdog's safe value) everywhere but during an
engine start. `engine_start` (hazardous, terminal count only) releases the cutoff and gives a
start pulse, dropped once thrust is proven; `cutoff` is always allowed once the engine runs,
and safing is the cutoff too (it also interrupts an engine start in flight). Liftoff is
confirmed on the liftoff contacts.

A condition cannot vote 2-of-3: `confirm_liftoff` needs all three contacts (a refusal is
harmless: nothing is written and nothing faults). The cable mast's automatic rule, which
votes 2-of-3, retracts the mast at liftoff if it is still connected.
"""

from __future__ import annotations

import enum

from padctl.subsystems._spec import CommandSpec, Interlock, SubsystemSpec


class VehicleInterfaceState(enum.Enum):
    NOT_READY = "onboard sequencer not ready"
    READY = "onboard sequencer ready, engine cutoff held"
    ENGINE_START_COMMANDED = "engine start commanded, awaiting thrust OK"
    THRUST_OK = "engine running, thrust OK"
    LIFTOFF = "liftoff"
    CUTOFF = "engine cutoff held, engine stopped"
    FAULT = "fault"


S = VehicleInterfaceState

THRUST_OK_BAR = 220.0  # 90 % of the nominal chamber pressure
STOPPED_BAR = 5.0
STOPPED_RPM = 100.0

SEQUENCER_READY = Interlock("onboard sequencer ready", "VEH-SEQ-READY == true")
ENGINE_START_PERMISSIVES = (
    Interlock("terminal count running", "@terminal_count == true"),
    SEQUENCER_READY,
    Interlock("vehicle on internal power", "VEH-PWR-INT == true"),
    Interlock("erector withdrawn to the launch position", "ERC-ZS-501-WITHDRAWN == true"),
    *(
        Interlock(f"hold-down clamp {n} clamped", f"HDC-M-70{n}-CLAMPED == true")
        for n in (1, 2, 3, 4)
    ),
    Interlock("hold-down release armed", "HDC-ARMED == true"),
    Interlock("launch deluge flowing (2000 m3/h or more)", "DLG-FT-801 >= 2000"),
)
_ENGINE_STOPPED = (
    "VEH-THRUST-OK == false",
    f"VEH-PT-901 <= {STOPPED_BAR}",
    f"VEH-ST-901 <= {STOPPED_RPM}",
)
_CUTOFF = (("VEH-ENG-START-CMD", False), ("VEH-ENG-CUTOFF-CMD", True))

VEHICLE_INTERFACE = SubsystemSpec(
    name="vehicle_interface",
    title="Vehicle interface",
    description="Onboard sequencer readiness, engine start and cutoff, liftoff contacts.",
    states=VehicleInterfaceState,
    initial=S.NOT_READY,
    safe_state=S.CUTOFF,
    commands=(
        CommandSpec(
            name="confirm_ready",
            source=(S.NOT_READY, S.CUTOFF),
            dest=S.READY,
            permissives=(
                SEQUENCER_READY,
                Interlock("vehicle main bus 26 V or more", "VEH-ET-901 >= 26"),
                Interlock("engine stopped (turbopump 100 rpm or less)", "VEH-ST-901 <= 100"),
            ),
            writes=_CUTOFF,
            feedback=("VEH-ENG-START-CMD == false", "VEH-ENG-CUTOFF-CMD == true"),
            timeout="engine_cutoff",
            description="Take the onboard sequencer as ready (cutoff held).",
        ),
        CommandSpec(
            name="engine_start",
            source=(S.READY,),
            via=S.ENGINE_START_COMMANDED,
            dest=S.THRUST_OK,
            permissives=ENGINE_START_PERMISSIVES,
            writes=(("VEH-ENG-CUTOFF-CMD", False), ("VEH-ENG-START-CMD", True)),
            feedback=("VEH-THRUST-OK == true", f"VEH-PT-901 >= {THRUST_OK_BAR}"),
            timeout="engine_start",
            after=(("VEH-ENG-START-CMD", False),),  # the start is a pulse
            hazardous=True,
            second_person=True,
            description="Release the cutoff and start the engine; thrust OK proves it.",
        ),
        CommandSpec(
            name="cutoff",
            source=(S.THRUST_OK,),
            dest=S.CUTOFF,
            writes=_CUTOFF,
            feedback=("VEH-ENG-CUTOFF-CMD == true", *_ENGINE_STOPPED),
            timeout="engine_cutoff",
            description="Engine cutoff (during a start in flight, `safe` is the cutoff).",
        ),
        CommandSpec(
            name="confirm_liftoff",
            source=(S.THRUST_OK,),
            dest=S.LIFTOFF,
            permissives=tuple(
                Interlock(f"liftoff contact {n} made", f"VEH-LIFTOFF-{n} == true")
                for n in (1, 2, 3)
            ),
            description="Record liftoff, proven on the liftoff contacts.",
        ),
    ),
    safe_writes=_CUTOFF,
    safe_feedback=("VEH-ENG-START-CMD == false", "VEH-ENG-CUTOFF-CMD == true", *_ENGINE_STOPPED),
    safe_timeout="engine_cutoff",
    # The pad definition lists no actuator on the VEH PLC: nothing to watch or stroke.
    actuators=(),
    recognise=(
        (S.LIFTOFF, tuple(f"VEH-LIFTOFF-{n} == true" for n in (1, 2, 3))),
        (S.THRUST_OK, ("VEH-THRUST-OK == true",)),
        (S.READY, ("VEH-SEQ-READY == true", "VEH-ENG-CUTOFF-CMD == true", *_ENGINE_STOPPED)),
        (S.NOT_READY, ("VEH-SEQ-READY == false",)),
    ),
    unwatched_at_rest=(S.NOT_READY,),  # the onboard sequencer boots once power comes on
)
