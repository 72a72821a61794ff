"""Erector: raises the vehicle to vertical, locks it there, withdraws to 75 deg for launch.

The hydraulic drive moves on held commands (RAISE, LOWER, WITHDRAW); each motion command
starts the hydraulic power unit P-501, releases the vertical locks and holds its drive
command until the end position is proven on the limit switch and on both angle encoders
(ERC-ZT-501 and the redundant ERC-ZT-502); then the drive command is dropped. Locks 511/512
engage only at vertical (the mechanism refuses below 89.999 deg); grips 513/514 hold the
vehicle while it is aboard and are released for the withdrawal, leaving the vehicle on the
clamped hold-downs.

Safing stops the drive and the pump and commands the vertical locks (the PLC watchdog's safe
values); it leaves the grips as they are (never release or re-grip a vehicle by surprise).
The erector then stands wherever it stopped: the safe state is STOPPED, and every command
may continue from there, its permissives judging the position from the sensors.
"""

from __future__ import annotations

import enum

from padctl.subsystems._spec import CommandSpec, Interlock, SubsystemSpec


class ErectorState(enum.Enum):
    HORIZONTAL = "horizontal, on its supports"
    RAISING = "raising to vertical"
    VERTICAL = "vertical, held by the hydraulics (locks released)"
    LOCKING = "engaging the vertical locks"
    VERTICAL_LOCKED = "vertical, locks engaged"
    WITHDRAWING = "releasing the vehicle, withdrawing to 75 deg"
    WITHDRAWN = "withdrawn to the launch position (75 deg), vehicle on the launch table"
    LOWERING = "lowering to horizontal"
    GRIPPING = "engaging the vehicle grips"
    STOPPED = "drive and pump stopped where it stands"
    FAULT = "fault"


S = ErectorState

RAISE_SPEED_PCT = 100.0
LOWER_SPEED_PCT = 100.0
WITHDRAW_SPEED_PCT = 100.0
VERTICAL_DEG = 89.999  # the locks engage only from here up
HORIZONTAL_DEG = 0.001  # the grips engage only from here down
WITHDRAWN_DEG = 75.5
ABOVE_WITHDRAWN_DEG = 76.0

# The hydraulic power unit P-501 runs on the pad main bus; each motion command starts it.
HPU_READY = (
    Interlock("pad main bus energized (hydraulic pump supply)", "PWR-ET-841 >= 360"),
    Interlock("hydraulic reservoir level 50 % or more", "ERC-LT-501 >= 50"),
    Interlock("hydraulic oil temperature 60 degC or less", "ERC-TT-501 <= 60"),
)
GRIPS_ENGAGED = tuple(
    Interlock(f"vehicle grip {n} engaged", f"ERC-LK-{n}-LOCKED == true") for n in (513, 514)
)
GRIPS_RELEASED = tuple(
    Interlock(f"vehicle grip {n} released (erector empty)", f"ERC-LK-{n}-UNLOCKED == true")
    for n in (513, 514)
)
LOCKS_RELEASED = tuple(
    Interlock(f"vertical lock {n} released", f"ERC-LK-{n}-UNLOCKED == true") for n in (511, 512)
)
AT_VERTICAL = (
    Interlock("erector at vertical (switch)", "ERC-ZS-501-VERTICAL == true"),
    Interlock("erector at vertical (encoder ZT-501)", f"ERC-ZT-501 >= {VERTICAL_DEG}"),
    Interlock("erector at vertical (encoder ZT-502)", f"ERC-ZT-502 >= {VERTICAL_DEG}"),
)
AT_HORIZONTAL = (
    Interlock("erector horizontal (switch)", "ERC-ZS-501-HORIZONTAL == true"),
    Interlock("erector horizontal (encoder ZT-501)", f"ERC-ZT-501 <= {HORIZONTAL_DEG}"),
    Interlock("erector horizontal (encoder ZT-502)", f"ERC-ZT-502 <= {HORIZONTAL_DEG}"),
)
ABOVE_WITHDRAWN = (
    Interlock(
        "erector above the withdrawn position (encoder ZT-501)",
        f"ERC-ZT-501 >= {ABOVE_WITHDRAWN_DEG}",
    ),
    Interlock(
        "erector above the withdrawn position (encoder ZT-502)",
        f"ERC-ZT-502 >= {ABOVE_WITHDRAWN_DEG}",
    ),
)
VEHICLE_CLAMPED = tuple(
    Interlock(
        f"hold-down clamp {n} clamped (vehicle held on the table)", f"HDC-M-70{n}-CLAMPED == true"
    )
    for n in (1, 2, 3, 4)
)
# "No withdrawal while the cable mast is connected and loading is active" is NOT(A AND B),
# which conditions (all ANDed) cannot say: the tighter rule is kept, no loading at all.
NO_LOADING = (
    Interlock("no LOX loading (vehicle fill valve LOX-FV-101 closed)", "LOX-FV-101-ZSC == true"),
    Interlock("no LOX topping (replenish valve LOX-FV-102 closed)", "LOX-FV-102-ZSC == true"),
    Interlock("no RG-1 loading (vehicle fill valve RG1-FV-101 closed)", "RG1-FV-101-ZSC == true"),
)
VEHICLE_SAFE_TO_LOWER = (
    Interlock("cable mast retracted (umbilicals off the vehicle)", "CBM-M-601-RETRACTED == true"),
    Interlock("vehicle LOX tank empty", "LOX-LT-101 <= 1"),
    Interlock("vehicle RG-1 tank empty", "RG1-LT-101 <= 1"),
)

_RELEASE_LOCKS = (("ERC-LK-511-CMD", False), ("ERC-LK-512-CMD", False))
_STOP_DRIVE = (
    ("ERC-M-501-RAISE-CMD", False),
    ("ERC-M-501-LOWER-CMD", False),
    ("ERC-M-501-WITHDRAW-CMD", False),
    ("ERC-M-501-SPEED-SP", 0.0),
)
_PUMP_ON = (("ERC-P-501-CMD", True),)
_PUMP_OFF = (("ERC-P-501-CMD", False),)
_AT_VERTICAL = (
    "ERC-ZS-501-VERTICAL == true",
    f"ERC-ZT-501 >= {VERTICAL_DEG}",
    f"ERC-ZT-502 >= {VERTICAL_DEG}",
)
_AT_HORIZONTAL = (
    "ERC-ZS-501-HORIZONTAL == true",
    f"ERC-ZT-501 <= {HORIZONTAL_DEG}",
    f"ERC-ZT-502 <= {HORIZONTAL_DEG}",
)


def _lowering(
    name: str,
    *,
    source: tuple[S, ...],
    permissives: tuple[Interlock, ...],
    hazardous: bool,
    description: str,
) -> CommandSpec:
    """A lowering to horizontal: locks released, pump started, LOWER held until proven."""
    return CommandSpec(
        name=name,
        source=source,
        via=S.LOWERING,
        dest=S.HORIZONTAL,
        permissives=(*HPU_READY, *permissives),
        writes=(
            *_RELEASE_LOCKS,
            *_PUMP_ON,
            ("ERC-M-501-SPEED-SP", LOWER_SPEED_PCT),
            ("ERC-M-501-RAISE-CMD", False),
            ("ERC-M-501-WITHDRAW-CMD", False),
            ("ERC-M-501-LOWER-CMD", True),
        ),
        feedback=_AT_HORIZONTAL,
        timeout="erector_lower",
        after=(*_STOP_DRIVE, *_PUMP_OFF),
        hazardous=hazardous,
        description=description,
    )


ERECTOR = SubsystemSpec(
    name="erector",
    title="Erector",
    description="Hydraulic erector M-501 with power unit P-501, vertical locks 511/512 and "
    "vehicle grips 513/514: raise, lock, withdraw to 75 deg for launch, lower.",
    states=ErectorState,
    initial=S.STOPPED,
    safe_state=S.STOPPED,
    commands=(
        CommandSpec(
            name="raise",
            source=(S.HORIZONTAL, S.STOPPED),
            via=S.RAISING,
            dest=S.VERTICAL,
            permissives=(*HPU_READY, *GRIPS_ENGAGED, *LOCKS_RELEASED),
            writes=(
                *_RELEASE_LOCKS,
                *_PUMP_ON,
                ("ERC-M-501-SPEED-SP", RAISE_SPEED_PCT),
                ("ERC-M-501-LOWER-CMD", False),
                ("ERC-M-501-WITHDRAW-CMD", False),
                ("ERC-M-501-RAISE-CMD", True),
            ),
            feedback=_AT_VERTICAL,
            timeout="erector_raise",
            after=_STOP_DRIVE,  # the pump runs on: the hydraulics hold it until locked
            hazardous=True,
            description="Start the pump, raise the vehicle to vertical (both encoders 89.999).",
        ),
        CommandSpec(
            name="lock",
            source=(S.VERTICAL, S.STOPPED),
            via=S.LOCKING,
            dest=S.VERTICAL_LOCKED,
            permissives=AT_VERTICAL,
            writes=(("ERC-LK-511-CMD", True), ("ERC-LK-512-CMD", True)),
            feedback=("ERC-LK-511-LOCKED == true", "ERC-LK-512-LOCKED == true", *_AT_VERTICAL),
            timeout="ERC-LK-511",
            after=_PUMP_OFF,  # the locks carry the load now
            description="Engage the vertical locks, then stop the hydraulic pump.",
        ),
        CommandSpec(
            name="withdraw",
            source=(S.VERTICAL_LOCKED, S.STOPPED),
            via=S.WITHDRAWING,
            dest=S.WITHDRAWN,
            permissives=(*HPU_READY, *ABOVE_WITHDRAWN, *VEHICLE_CLAMPED, *NO_LOADING),
            writes=(
                ("ERC-LK-513-CMD", False),
                ("ERC-LK-514-CMD", False),
                *_RELEASE_LOCKS,
                *_PUMP_ON,
                ("ERC-M-501-SPEED-SP", WITHDRAW_SPEED_PCT),
                ("ERC-M-501-RAISE-CMD", False),
                ("ERC-M-501-LOWER-CMD", False),
                ("ERC-M-501-WITHDRAW-CMD", True),
            ),
            feedback=(
                "ERC-ZS-501-WITHDRAWN == true",
                f"ERC-ZT-501 <= {WITHDRAWN_DEG}",
                f"ERC-ZT-502 <= {WITHDRAWN_DEG}",
                "ERC-LK-513-UNLOCKED == true",
                "ERC-LK-514-UNLOCKED == true",
            ),
            timeout="erector_withdraw",
            after=(*_STOP_DRIVE, *_PUMP_OFF),
            hazardous=True,
            description="Release grips and locks, withdraw to 75 deg (vehicle on the table).",
        ),
        _lowering(
            "lower",
            source=(S.WITHDRAWN, S.STOPPED),
            permissives=GRIPS_RELEASED,
            hazardous=False,
            description="Lower the empty erector to horizontal.",
        ),
        _lowering(
            "lower_vehicle",
            source=(S.VERTICAL, S.VERTICAL_LOCKED, S.STOPPED),
            permissives=(*GRIPS_ENGAGED, *VEHICLE_SAFE_TO_LOWER),
            hazardous=True,
            description="Lower the (empty) vehicle back to horizontal: a rollback.",
        ),
        CommandSpec(
            name="grip_vehicle",
            source=(S.HORIZONTAL, S.STOPPED),
            via=S.GRIPPING,
            dest=S.HORIZONTAL,
            permissives=AT_HORIZONTAL,
            writes=(("ERC-LK-513-CMD", True), ("ERC-LK-514-CMD", True)),
            feedback=("ERC-LK-513-LOCKED == true", "ERC-LK-514-LOCKED == true"),
            timeout="ERC-LK-513",
            description="Engage the vehicle grips (erector horizontal, vehicle loaded).",
        ),
    ),
    safe_writes=(*_STOP_DRIVE, *_PUMP_OFF, ("ERC-LK-511-CMD", True), ("ERC-LK-512-CMD", True)),
    safe_feedback=(
        "ERC-M-501-RAISE-CMD == false",
        "ERC-M-501-LOWER-CMD == false",
        "ERC-M-501-WITHDRAW-CMD == false",
        "ERC-ST-501 <= 0.01",
        "ERC-ST-501 >= -0.01",
        "ERC-P-501-RUN == false",
    ),
    safe_timeout="erector_stop",
    # Locks 511/512 are not watched: their PLC safe value (engage) holds at every angle, but
    # they can engage only at vertical, so the watch would report them as off position.
    actuators=("ERC-P-501", "ERC-LK-513", "ERC-LK-514"),
    recognise=(
        (
            S.VERTICAL_LOCKED,
            (*_AT_VERTICAL, "ERC-LK-511-LOCKED == true", "ERC-LK-512-LOCKED == true"),
        ),
        (S.VERTICAL, (*_AT_VERTICAL, "ERC-LK-511-UNLOCKED == true", "ERC-LK-512-UNLOCKED == true")),
        (S.WITHDRAWN, ("ERC-ZS-501-WITHDRAWN == true",)),
        (S.HORIZONTAL, _AT_HORIZONTAL),
    ),
)
