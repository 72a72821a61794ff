"""The rig file as written: pad definition fields for the bench's PLCs, plus rig facts."""

from __future__ import annotations

import enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FROM_SIM = "from-sim"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RigPlcFile(_Strict):
    """A PLC of the pad that is on this bench, and how it is reached here."""

    id: str
    host: str | None = None  # default: the pad definition's host
    port: int | str | None = None  # a number, or `from-sim` (the simulators' ephemeral port)
    # Pad definition timings, for a bench reached over a slower network than the pad's.
    timeout_s: float | None = Field(default=None, gt=0)
    stale_after_s: float | None = Field(default=None, gt=0)
    poll_period_s: float | None = Field(default=None, gt=0)


class RigTagsFile(_Strict):
    """Which tags of the bench's PLCs exist on it: names or globs (`LOX-*`)."""

    include: list[str] = Field(default_factory=lambda: ["*"])
    exclude: list[str] = Field(default_factory=list)


class AllowFile(_Strict):
    tag: str  # a name or a glob over the rig's writable tags
    range: tuple[float, float] | None = None  # narrower than the tag's own

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError(f"range low {value[0]} must be below range high {value[1]}")
        return value


class RigWritesFile(_Strict):
    """What padctl may write on this bench, and how fast."""

    allow: list[AllowFile] = Field(default_factory=list)
    max_writes_per_s_per_tag: int = Field(default=2, ge=1)
    max_writes_per_s: int = Field(default=20, ge=1)

    @field_validator("allow", mode="before")
    @classmethod
    def _names_as_entries(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"tag": item} if isinstance(item, str) else item for item in value]
        return value


class ContractTest(enum.StrEnum):
    READS = "reads"  # every tag reads GOOD with a plausible value
    ROUND_TRIP = "round_trip"  # every allowed writable tag round-trips within its range
    WATCHDOG = "watchdog"  # the PLC drives outputs safe when padctl's heartbeat stops
    CHECKOUT = "checkout"  # each subsystem on the bench passes its checkout


class RigContractFile(_Strict):
    """Which contract tests apply to this bench."""

    tests: list[ContractTest] = Field(default_factory=lambda: list(ContractTest))
    checkout: list[str] | Literal["all"] = "all"  # subsystem names; all: every one on the rig
    watchdog_tags: dict[str, str] = Field(default_factory=dict)  # PLC -> output to prove it on


class RigSimulatorsFile(_Strict):
    """The bench is (partly) simulators: `padctl sim` in a child process serves them."""

    pad: str | None = None  # the pad the simulators serve (default: the rig's pad)
    rate: float = Field(default=1.0, gt=0)  # clock rate of simulators and padctl alike
    physics: bool = True


class RigFile(_Strict):
    rig: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    pad: str  # pad definition file, relative to the rig file; `reference` for the shipped one
    plcs: list[RigPlcFile] = Field(min_length=1)
    tags: RigTagsFile = RigTagsFile()
    writes: RigWritesFile = RigWritesFile()
    contract: RigContractFile = RigContractFile()
    simulators: RigSimulatorsFile | None = None

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("a rig file is a mapping (rig, pad, plcs, tags, writes, ...)")
        return value
