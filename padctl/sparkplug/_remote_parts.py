"""The parts of a station seen through Sparkplug: each holds what the mirror last showed of
one device (the countdown, the subsystems, the alarms) in the shape the console reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from padctl.alarms import AlarmPriority, AlarmState, AlarmView
from padctl.clock import Clock
from padctl.countdown import (
    CountdownSequence,
    CountEvent,
    CountState,
    CountStatus,
    FaultedStep,
)
from padctl.subsystems import Mode, SubsystemSpec

FEED_ALARM_ID = "SPARKPLUG-FEED"
_ACTIVE = (AlarmState.UNACK, AlarmState.ACKED)

Values = Mapping[str, object]  # one device's metrics by name: their last values


def _text(values: Values, name: str, default: str = "") -> str:
    value = values.get(name)
    return default if value is None else str(value)


def _number(values: Values, name: str, default: float = 0.0) -> float:
    value = values.get(name)
    return float(value) if isinstance(value, int | float) else default


class MirroredClock:
    """padctl's own real-time clock (a remote console drives nothing by the pad's clock),
    with `rate` the pad's as last published, for display."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.rate = 1.0

    def now(self) -> float:
        return self._clock.now()

    def monotonic(self) -> float:
        return self._clock.monotonic()

    def wall_now(self) -> float:
        return self._clock.wall_now()


@dataclass
class MirroredSubsystem:
    """One subsystem's state, mode and last fault as the pad published them."""

    spec: SubsystemSpec
    machine_state: str
    mode: Mode = Mode.MANUAL
    busy: str = ""  # a remote console never knows of a command in flight
    safed: bool = False  # nor whether outputs are proven safe: never claimed from afar
    last_fault: str = ""

    def update(self, values: Values) -> None:
        name = self.spec.name
        state = _text(values, f"{name}/State", self.machine_state)
        if state in {s.name for s in self.spec.states}:
            self.machine_state = state
        mode = _text(values, f"{name}/Mode", self.mode.value)
        self.mode = Mode(mode) if mode in Mode.__members__ else self.mode
        self.last_fault = _text(values, f"{name}/Fault")


class UnknownPastT:
    """A mirror sees T as published now, not the count's past starts and stops."""

    def t_at(self, clock_s: float) -> float | None:
        return None


@dataclass
class MirroredCountdown:
    """The count's state, T and L clocks (as last published) and hold reason."""

    sequence: CountdownSequence
    state: CountState = CountState.IDLE
    status: CountStatus = field(default_factory=CountStatus)
    timeline: Sequence[CountEvent] = ()  # the pad publishes no timeline events
    t_s: float = 0.0
    l_s: float = 0.0
    clocks: UnknownPastT = field(default_factory=UnknownPastT)  # T at a past moment

    def __post_init__(self) -> None:
        self.t_s = self.sequence.start_t_s

    def update(self, values: Values) -> None:
        state = _text(values, "State", self.state.name)
        if state in CountState.__members__:
            self.state = CountState[state]
        self.t_s = _number(values, "T", self.t_s)
        self.l_s = _number(values, "L", self.l_s)
        self.status.hold_reason = _text(values, "Hold reason")

    @property
    def faulted_steps(self) -> list[FaultedStep]:
        """The pad does not publish its faulted steps: a remote console shows none."""
        return []

    def t_now(self) -> float:
        return self.t_s

    def l_now(self) -> float:
        return self.l_s


@dataclass
class MirroredPace:
    requested_rate: float = 1.0
    reason: str = "the pad's rate, as published over Sparkplug"


class MirroredAlarms:
    """The pad's annunciated alarms as its `Alarms/Summary` names them (id, state, priority),
    and one of the remote console's own: no data from the pad (FEED_ALARM_ID)."""

    def __init__(self, clock: MirroredClock) -> None:
        self._clock = clock
        self._views: dict[str, AlarmView] = {}
        self._listeners: list[Callable[[AlarmView], None]] = []

    def views(self) -> list[AlarmView]:
        return list(self._views.values())

    def get(self, alarm_id: str) -> AlarmView:
        return self._views[alarm_id]

    def add_listener(self, listener: Callable[[AlarmView], None]) -> None:
        self._listeners.append(listener)

    def update(self, summary: str, *, feed_lost: str) -> None:
        """The pad's summary now, and why no data comes from the pad ("" when it does)."""
        active: dict[str, tuple[AlarmState, AlarmPriority, str]] = {}
        for item in summary.split(";"):
            parts = item.split()
            if len(parts) == 3 and parts[1] in AlarmState.__members__:
                priority = AlarmPriority.__members__.get(parts[2], AlarmPriority.HIGH)
                active[parts[0]] = (AlarmState[parts[1]], priority, "as the pad annunciates it")
        if feed_lost:
            active[FEED_ALARM_ID] = (AlarmState.UNACK, AlarmPriority.HIGH, feed_lost)
        for alarm_id, (state, priority, detail) in active.items():
            self._set(alarm_id, state, priority, detail)
        for alarm_id, view in list(self._views.items()):
            if alarm_id not in active:  # no longer annunciated: back to normal
                self._set(alarm_id, AlarmState.NORMAL, view.priority, "")

    def _set(self, alarm_id: str, state: AlarmState, priority: AlarmPriority, detail: str) -> None:
        known = self._views.get(alarm_id)
        if known is not None and (known.state, known.priority, known.detail) == (
            state,
            priority,
            detail,
        ):
            return
        now_s = self._clock.now()
        message = (
            "no data from the pad's Sparkplug edge node: every value is STALE"
            if alarm_id == FEED_ALARM_ID
            else alarm_id
        )
        view = AlarmView(
            id=alarm_id,
            message=message,
            priority=priority,
            state=state,
            condition_active=state in _ACTIVE,
            since_s=now_s,
            shelved_until_s=None,
            detail=detail,
            occurred_s=now_s if state in _ACTIVE else None,
        )
        self._views[alarm_id] = view
        for listener in list(self._listeners):
            listener(view)
