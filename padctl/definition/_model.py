"""The pad definition: PLCs, tags, limits and the writable allow-list, as validated data."""

from __future__ import annotations

import enum
import math
import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Protocol(enum.StrEnum):
    MODBUS = "modbus"
    OPCUA = "opcua"


class TagType(enum.StrEnum):
    BOOL = "bool"
    UINT16 = "uint16"
    INT16 = "int16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"
    FLOAT64 = "float64"

    @property
    def register_count(self) -> int:
        """How many 16-bit Modbus registers one value of this type takes."""
        return _REGISTER_COUNTS[self]

    @property
    def integer_limits(self) -> tuple[int, int] | None:
        """The raw value range of an integer type; None for bool and floats."""
        return _INTEGER_LIMITS.get(self)


_REGISTER_COUNTS = {
    TagType.BOOL: 1,
    TagType.UINT16: 1,
    TagType.INT16: 1,
    TagType.INT32: 2,
    TagType.UINT32: 2,
    TagType.FLOAT32: 2,
    TagType.FLOAT64: 4,
}


_INTEGER_LIMITS = {
    TagType.UINT16: (0, 0xFFFF),
    TagType.INT16: (-0x8000, 0x7FFF),
    TagType.INT32: (-0x8000_0000, 0x7FFF_FFFF),
    TagType.UINT32: (0, 0xFFFF_FFFF),
}


class ModbusTable(enum.StrEnum):
    """The four Modbus data tables, by their usual short names."""

    COIL = "co"
    DISCRETE_INPUT = "di"
    HOLDING_REGISTER = "hr"
    INPUT_REGISTER = "ir"

    @property
    def is_bit_table(self) -> bool:
        return self in (ModbusTable.COIL, ModbusTable.DISCRETE_INPUT)

    @property
    def is_writable(self) -> bool:
        return self in (ModbusTable.COIL, ModbusTable.HOLDING_REGISTER)


class WordOrder(enum.StrEnum):
    """Order of 16-bit words in a multi-register value; bytes in a word are always big-endian."""

    BIG = "big"  # most significant word first (Modbus convention)
    LITTLE = "little"  # least significant word first ("word swapped")


_MODBUS_ADDRESS = re.compile(r"^(co|di|hr|ir):(\d{1,5})$")


class ModbusAddress(_Strict):
    table: ModbusTable
    offset: int = Field(ge=0, le=65535)

    @classmethod
    def parse(cls, text: str) -> ModbusAddress:
        match = _MODBUS_ADDRESS.match(text.strip())
        if match is None:
            raise ValueError(
                f"Modbus address {text!r} is not of the form TABLE:OFFSET "
                "with TABLE one of co, di, hr, ir (e.g. 'hr:100')"
            )
        return cls(table=ModbusTable(match.group(1)), offset=int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.table.value}:{self.offset}"


class Heartbeat(_Strict):
    """The rolling counters padctl and the PLC write for each other, and the PLC's watchdog.

    Times are wall seconds. `watchdog_tag` (optional) is a bool the PLC sets while its
    watchdog holds the outputs safe; without it padctl infers the watchdog from its own
    heartbeat writes.
    """

    padctl_counter_tag: str
    plc_counter_tag: str
    period_s: float = Field(default=0.5, gt=0)
    watchdog_s: float = Field(default=3.0, gt=0)
    watchdog_tag: str | None = None


class OpcUaSecurity(_Strict):
    policy: Literal["None", "Basic256Sha256"] = "None"
    mode: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    certificate: str | None = None  # client certificate (DER or PEM), relative to the definition
    private_key: str | None = None
    server_certificate: str | None = None
    trust_store: str | None = None  # directory of trusted server certificates
    username: str | None = None
    password_env: str | None = None  # name of the environment variable holding the password


class PlcBase(_Strict):
    """One PLC. Its communication timings are wall seconds at any clock rate: networks and
    PLC scans cannot be sped up."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]*$")
    area: str
    description: str = ""
    poll_period_s: float = Field(default=0.05, gt=0)
    scan_period_s: float = Field(default=0.02, gt=0)  # the PLC's own program cycle
    stale_after_s: float = Field(default=1.0, gt=0)
    timeout_s: float = Field(default=1.0, gt=0)
    reconnect_min_s: float = Field(default=0.1, gt=0)
    reconnect_max_s: float = Field(default=5.0, gt=0)
    heartbeat: Heartbeat | None = None


class ModbusPlc(PlcBase):
    protocol: Literal[Protocol.MODBUS]
    host: str
    port: int = Field(ge=0, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    word_order: WordOrder = WordOrder.BIG


class OpcUaPlc(PlcBase):
    protocol: Literal[Protocol.OPCUA]
    endpoint: str = Field(pattern=r"^opc\.tcp://")
    namespace: str
    publishing_interval_ms: float = Field(default=50, gt=0)
    security: OpcUaSecurity = OpcUaSecurity()


Plc = Annotated[ModbusPlc | OpcUaPlc, Field(discriminator="protocol")]


class Tag(_Strict):
    """A named plant point: P&ID name, type, unit, scaling, range and address."""

    name: str = Field(pattern=r"^[A-Z0-9]+(-[A-Z0-9]+)+$")
    plc: str
    type: TagType
    unit: str
    address: str
    range: tuple[float, float] | None = None  # engineering range; None for bool
    scale: float = 1.0  # engineering = raw * scale + offset (integer types only)
    offset: float = 0.0
    word_order: WordOrder | None = None  # overrides the PLC's
    writable: bool = False
    safe: float | bool | None = None  # value the PLC drives when padctl's heartbeat stops
    # How the PLC reports a failed channel (read as BAD, never as a value): a sentinel raw
    # register value of an integer tag, and/or a bool tag that is true while it has failed.
    fail_raw: StrictInt | None = None
    status_tag: str | None = None
    description: str = ""

    @field_validator("range")
    @classmethod
    def _range_ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError(f"range low {value[0]} must be below range high {value[1]}")
        return value

    def in_range(self, value: float) -> bool:
        """Whether an engineering value lies in this tag's range (bools always do)."""
        if self.range is None:
            return True
        return self.range[0] <= value <= self.range[1]

    def raw_of(self, value: float) -> int:
        """The raw integer that carries engineering `value` of an integer tag."""
        return round((value - self.offset) / self.scale)

    def reads_failed(self, value: float) -> bool:
        """Whether an engineering value is this tag's failed-channel sentinel (or NaN, which a
        decoded sentinel becomes)."""
        if self.fail_raw is None:
            return False
        return math.isnan(value) or (math.isfinite(value) and self.raw_of(value) == self.fail_raw)


class ActuatorKind(enum.StrEnum):
    VALVE = "valve"
    MOTOR = "motor"  # pumps, fans, heaters: run command and running feedback
    LOCK = "lock"
    BREAKER = "breaker"


class Actuator(_Strict):
    """Something that moves on a bool command, with feedback that proves it moved."""

    name: str = Field(pattern=r"^[A-Z0-9]+(-[A-Z0-9]+)+$")  # the P&ID prefix, `LOX-FV-101`
    kind: ActuatorKind
    command: str  # writable bool tag: true = open / run / engage / close
    on_feedback: str  # bool tag, true once the actuator is at its `true` position
    off_feedback: str | None = None  # bool tag, true once at its `false` position
    on_limit_s: float = Field(gt=0)  # checkout: longest acceptable stroke to `true`
    off_limit_s: float = Field(gt=0)  # ... and back to `false`
    timeout_s: float = Field(gt=0)  # a command's feedback must arrive within this
    checkout: bool = True  # False: too hazardous to stroke in a checkout


class Mechanism(_Strict):
    """Something driven between end positions (an erector, a mast, a clamp): a bool switch
    proves each end, a writable bool command drives it toward one (held, or latched)."""

    name: str = Field(pattern=r"^[A-Z0-9]+(-[A-Z0-9]+)+$")  # the P&ID prefix, `CBM-M-601`
    title: str = ""
    positions: dict[str, str] = Field(min_length=2)  # position -> switch tag, true at that end
    commands: dict[str, str] = Field(default_factory=dict)  # position -> command driving there
    timeout_s: float = Field(gt=0)  # the longest travel from end to end


class StationSettings(_Strict):
    """Limits of the padctl station itself (wall time)."""

    loop_lag_alarm_ms: float = Field(default=50.0, gt=0)  # control loop lag p99 over this: alarm


class HistorySettings(_Strict):
    """The station's tag history (SQLite): how long rows are kept, and how finely."""

    retention_days: float = Field(default=30.0, gt=0)
    # An analog value is kept at most this often (wall seconds) while it drifts; a change of
    # quality or of a switch is always kept at once.
    min_interval_s: float = Field(default=1.0, ge=0)
    # Smaller moves than this share of the tag's range (%) are not kept.
    deadband_pct: float = Field(default=0.1, ge=0, le=100)


class AlarmSettings(_Strict):
    """How the pad's alarms may be handled from a console (pad clock seconds)."""

    # The longest an alarm may be shelved: past it, the alarm is annunciated again.
    max_shelve_s: float = Field(default=2 * 3600.0, gt=0, le=24 * 3600.0)


class PadDefinition(_Strict):
    pad: str
    description: str = ""
    station: StationSettings = StationSettings()
    history: HistorySettings = HistorySettings()
    alarms: AlarmSettings = AlarmSettings()
    plcs: list[Plc] = Field(min_length=1)
    tags: list[Tag] = Field(min_length=1)
    actuators: list[Actuator] = Field(default_factory=list)
    mechanisms: list[Mechanism] = Field(default_factory=list)  # drawn as devices by consoles
    timeouts_s: dict[str, float] = Field(default_factory=dict)  # named operation time limits

    @field_validator("timeouts_s")
    @classmethod
    def _positive_timeouts(cls, value: dict[str, float]) -> dict[str, float]:
        for name, seconds in value.items():
            if not seconds > 0:
                raise ValueError(f"timeout {name!r} must be above 0 s, got {seconds}")
        return value

    @cached_property
    def _tags_by_name(self) -> dict[str, Tag]:
        return {tag.name: tag for tag in self.tags}

    @cached_property
    def _plcs_by_id(self) -> dict[str, ModbusPlc | OpcUaPlc]:
        return {plc.id: plc for plc in self.plcs}

    def tag(self, name: str) -> Tag:
        """The tag called `name`; KeyError naming it if the pad has none."""
        try:
            return self._tags_by_name[name]
        except KeyError:
            raise KeyError(f"no tag {name!r} in pad definition {self.pad!r}") from None

    def has_tag(self, name: str) -> bool:
        return name in self._tags_by_name

    def plc(self, plc_id: str) -> ModbusPlc | OpcUaPlc:
        """The PLC with id `plc_id`; KeyError naming it if the pad has none."""
        try:
            return self._plcs_by_id[plc_id]
        except KeyError:
            raise KeyError(f"no PLC {plc_id!r} in pad definition {self.pad!r}") from None

    @cached_property
    def _actuators_by_name(self) -> dict[str, Actuator]:
        return {actuator.name: actuator for actuator in self.actuators}

    def actuator(self, name: str) -> Actuator:
        """The actuator called `name`; KeyError naming it if the pad has none."""
        try:
            return self._actuators_by_name[name]
        except KeyError:
            raise KeyError(f"no actuator {name!r} in pad definition {self.pad!r}") from None

    def timeout_s(self, name: str) -> float:
        """A named operation time limit; KeyError naming it if the pad has none."""
        try:
            return self.timeouts_s[name]
        except KeyError:
            raise KeyError(f"no timeout {name!r} in pad definition {self.pad!r}") from None

    def tags_of(self, plc_id: str) -> list[Tag]:
        """The tags of one PLC, in file order."""
        return [tag for tag in self.tags if tag.plc == plc_id]

    def with_plc_endpoint(
        self, plc_id: str, *, host: str, port: int, path: str = ""
    ) -> PadDefinition:
        """A copy whose PLC `plc_id` is reached at `host:port` (a simulator's ephemeral port)."""
        plcs: list[ModbusPlc | OpcUaPlc] = []
        for plc in self.plcs:
            if plc.id != plc_id:
                plcs.append(plc)
            elif isinstance(plc, ModbusPlc):
                plcs.append(plc.model_copy(update={"host": host, "port": port}))
            else:
                url_path = (
                    path or plc.endpoint.split("/", 3)[3] if plc.endpoint.count("/") >= 3 else ""
                )
                plcs.append(
                    plc.model_copy(update={"endpoint": f"opc.tcp://{host}:{port}/{url_path}"})
                )
        if not any(plc.id == plc_id for plc in self.plcs):
            raise KeyError(f"no PLC {plc_id!r} in pad definition {self.pad!r}")
        return self._with_plcs(plcs)

    def _with_plcs(self, plcs: list[ModbusPlc | OpcUaPlc]) -> PadDefinition:
        copy = self.model_copy(update={"plcs": plcs})
        for cached in (
            "_plcs_by_id",
            "_tags_by_name",
            "_actuators_by_name",
        ):  # model_copy copies cached lookups
            copy.__dict__.pop(cached, None)
        return copy
