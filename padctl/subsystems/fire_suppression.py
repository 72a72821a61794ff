"""Fire detection and suppression: flame detectors FD-811..816, PLC alarm XA-801, agent FV-831.

It acts on its own, apart from the countdown: `FireAutoRelease` watches the detectors and,
with the subsystem in AUTO (the panel's automatic-release position), commands `alarm` and
then `suppress` as a sequence would. In MANUAL the operators command every step (a manual
call point, manual release); closing the agent valve and resetting the latched alarm are
always an operator's decision.
"""

from __future__ import annotations

import asyncio
import enum

import structlog

from padctl.clock import Clock
from padctl.plant import Plant
from padctl.subsystems._errors import CommandRefused
from padctl.subsystems._spec import CommandSpec, Interlock, Mode, Origin, SubsystemSpec
from padctl.subsystems._subsystem import Subsystem
from padctl.tasks import cancel_and_wait

log = structlog.get_logger()


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
    recognise=(
        (S.SUPPRESSING, ("FIR-FV-831-ZSO == true",)),
        (S.FIRE_ALARM, (f"{ALARM_TAG} == true", "FIR-FV-831-ZSC == true")),
        (S.MONITORING, (f"{ALARM_TAG} == false", "FIR-FV-831-ZSC == true")),
    ),
)


class FireAutoRelease:
    """Automatic release: a detected fire takes the subsystem to FIRE_ALARM, then SUPPRESSING.

    Acts only with the subsystem in AUTO, as a sequence (Origin.SEQUENCE), and judges only
    GOOD samples. The alarm is given on the PLC's latched alarm XA-801 or on two detectors
    (2 out of 6, should the PLC's latch fail); the agent is released while the fire is
    confirmed: two detectors, or the latched alarm and one detector. A command refused (an
    empty agent bottle, stale data) is retried every `retry_s` while the fire lasts.
    """

    def __init__(
        self,
        subsystem: Subsystem,
        *,
        plant: Plant,
        clock: Clock,
        actor: str = "fire_suppression.auto",
        retry_s: float = 10.0,
    ) -> None:
        if subsystem.spec is not FIRE_SUPPRESSION:
            raise ValueError(f"FireAutoRelease drives fire_suppression, not {subsystem.name}")
        self._subsystem = subsystem
        self._plant = plant
        self._clock = clock
        self.actor = actor
        self._retry_s = retry_s
        self._seen_state = ""
        self._attempted_s: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="fire-auto-release")

    async def stop(self) -> None:
        self._stopping = True  # ends the loop even if a cancellation is lost in a write
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def __aenter__(self) -> FireAutoRelease:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _is_true(self, tag: str) -> bool:
        sample = self._plant.read(tag)
        return sample.is_good and sample.value is True

    def detectors_active(self) -> list[str]:
        """The flame detectors that see a flame now (GOOD samples only)."""
        return [tag for tag in DETECTORS if self._is_true(tag)]

    def fire_alarm(self) -> bool:
        """The PLC's latched alarm, or two detectors."""
        return self._is_true(ALARM_TAG) or len(self.detectors_active()) >= 2

    def fire_confirmed(self) -> bool:
        """A fire burning now: two detectors, or the latched alarm and one detector."""
        active = len(self.detectors_active())
        return active >= 2 or (active >= 1 and self._is_true(ALARM_TAG))

    def due(self) -> str | None:
        """The command the automatic release would give now, if any."""
        subsystem = self._subsystem
        if subsystem.mode is not Mode.AUTO or subsystem.busy:
            return None
        state = subsystem.machine_state
        if state != self._seen_state:
            self._seen_state = state
            self._attempted_s.clear()
        if state == S.MONITORING.name and self.fire_alarm():
            name = "alarm"
        elif state == S.FIRE_ALARM.name and self.fire_confirmed():
            name = "suppress"
        else:
            return None
        last_s = self._attempted_s.get(name)
        if last_s is not None and self._clock.now() - last_s < self._retry_s:
            return None
        return name

    async def check(self) -> None:
        """Give the command that is due, if any (never waits for its feedback)."""
        name = self.due()
        if name is None:
            return
        self._attempted_s[name] = self._clock.now()
        log.warning(
            "fire_auto_command", command=name, detectors=self.detectors_active(), actor=self.actor
        )
        try:
            await self._subsystem.command(name, actor=self.actor, origin=Origin.SEQUENCE)
        except CommandRefused as refusal:  # journaled by the subsystem; retried later
            log.error("fire_auto_command_refused", command=name, reason=refusal.reason)

    async def _run(self) -> None:
        while not self._stopping:
            await self._plant.table.wait_for(lambda _t: self.due() is not None, timeout_s=1.0)
            if not self._stopping:
                await self.check()
