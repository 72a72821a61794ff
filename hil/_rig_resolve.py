"""Check a parsed rig file against its pad definition and cut the bench's slice of the pad."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hil._rig_model import FROM_SIM, ContractTest, RigFile
from padctl.definition import (
    DefinitionError,
    ModbusPlc,
    OpcUaPlc,
    PadDefinition,
    Tag,
    TagType,
    load_pad_definition,
    reference_pad_path,
)
from padctl.plant import WriteAllowance
from padctl.subsystems import ALL_SPECS, SpecError, compile_spec
from padctl.yaml_lines import Location

REFERENCE = "reference"
_GLOB_CHARACTERS = set("*?[")


@dataclass
class Resolved:
    problems: list[tuple[Location, str]] = field(default_factory=list)
    pad_path: Path | None = None
    simulators_pad_path: Path | None = None
    definition: PadDefinition | None = None
    endpoints: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    allowances: dict[str, WriteAllowance] = field(default_factory=dict)
    checkout: list[str] = field(default_factory=list)
    watchdog_tags: dict[str, str] = field(default_factory=dict)

    def problem(self, location: Location, message: str) -> None:
        self.problems.append((location, message))


def resolve_rig(parsed: RigFile, rig_path: Path) -> Resolved:
    """Every cross-check of a rig file; `problems` empty means `definition` is the bench."""
    out = Resolved()
    pad = _load_pad(parsed.pad, rig_path, ("pad",), out)
    if parsed.simulators is not None:
        out.simulators_pad_path = out.pad_path
        if parsed.simulators.pad is not None:
            sim_out = Resolved()
            _load_pad(parsed.simulators.pad, rig_path, ("simulators", "pad"), sim_out)
            out.problems.extend(sim_out.problems)
            out.simulators_pad_path = sim_out.pad_path
    if pad is None:
        return out
    plcs = _resolve_plcs(parsed, pad, out)
    tags = _resolve_tags(parsed, pad, plcs, out)
    if not plcs or not tags:
        return out
    tag_names = {tag.name for tag in tags}
    data: dict[str, Any] = pad.model_dump()
    data["plcs"] = [plc.model_dump() for plc in plcs]
    data["tags"] = [tag.model_dump() for tag in tags]
    data["actuators"] = [
        actuator.model_dump()
        for actuator in pad.actuators
        if {actuator.command, actuator.on_feedback, actuator.off_feedback or actuator.command}
        <= tag_names
    ]
    try:
        definition = PadDefinition.model_validate(data)
    except ValidationError as error:
        out.problem(("tags",), f"the rig's slice of the pad is not a pad definition: {error}")
        return out
    out.definition = definition
    _resolve_writes(parsed, pad, definition, out)
    _resolve_contract(parsed, definition, out)
    return out


def _load_pad(text: str, rig_path: Path, at: Location, out: Resolved) -> PadDefinition | None:
    path = reference_pad_path() if text == REFERENCE else (rig_path.parent / text).resolve()
    out.pad_path = path
    try:
        return load_pad_definition(path)
    except DefinitionError as error:
        first = error.problems[0] if error.problems else str(error)
        more = f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
        out.problem(at, f"cannot load pad definition {path}: {first}{more}")
        return None


def _resolve_plcs(parsed: RigFile, pad: PadDefinition, out: Resolved) -> list[ModbusPlc | OpcUaPlc]:
    plcs: list[ModbusPlc | OpcUaPlc] = []
    seen: set[str] = set()
    real: list[str] = []
    for index, entry in enumerate(parsed.plcs):
        at: Location = ("plcs", index)
        if entry.id in seen:
            out.problem((*at, "id"), f"PLC {entry.id} is listed twice")
            continue
        seen.add(entry.id)
        if not any(plc.id == entry.id for plc in pad.plcs):
            known = ", ".join(plc.id for plc in pad.plcs)
            out.problem((*at, "id"), f"no PLC {entry.id!r} in pad {pad.pad!r} (known: {known})")
            continue
        plc = pad.plc(entry.id)
        host, port = _pad_endpoint(plc)
        host = entry.host or host
        rig_port: int | None = port
        if isinstance(entry.port, str):
            if entry.port != FROM_SIM:
                out.problem((*at, "port"), f"port {entry.port!r} is neither a number nor from-sim")
            elif parsed.simulators is None:
                out.problem(
                    (*at, "port"), "port from-sim needs a simulators section (none runs here)"
                )
            rig_port = None
        elif entry.port is not None:
            if not 0 < entry.port < 65536:
                out.problem((*at, "port"), f"port {entry.port} is not 1..65535")
            rig_port = entry.port
        if rig_port is not None:
            real.append(entry.id)
        out.endpoints[entry.id] = (host, rig_port)
        update = {
            name: getattr(entry, name)
            for name in ("timeout_s", "stale_after_s", "poll_period_s")
            if getattr(entry, name) is not None
        }
        if isinstance(plc, ModbusPlc):
            update.update(host=host, port=rig_port or plc.port)
        plcs.append(plc.model_copy(update=update))
        if isinstance(plc, OpcUaPlc) and (entry.host or rig_port is not None):
            plcs[-1] = _with_opcua_endpoint(plcs[-1], host, rig_port or port)
    if parsed.simulators is not None and parsed.simulators.rate != 1.0 and real:
        out.problem(
            ("simulators", "rate"),
            f"a bench with real PLCs ({', '.join(real)}) runs in real time: rate must be 1",
        )
    return plcs


def _pad_endpoint(plc: ModbusPlc | OpcUaPlc) -> tuple[str, int]:
    if isinstance(plc, ModbusPlc):
        return plc.host, plc.port
    authority = plc.endpoint.split("//", 1)[1].split("/", 1)[0]
    host, _, port = authority.rpartition(":")
    return host, int(port) if port.isdigit() else 4840


def _with_opcua_endpoint(plc: ModbusPlc | OpcUaPlc, host: str, port: int) -> ModbusPlc | OpcUaPlc:
    assert isinstance(plc, OpcUaPlc)
    path = plc.endpoint.split("//", 1)[1].partition("/")[2]
    return plc.model_copy(update={"endpoint": f"opc.tcp://{host}:{port}/{path}"})


def _is_glob(text: str) -> bool:
    return bool(_GLOB_CHARACTERS & set(text))


def _resolve_tags(
    parsed: RigFile, pad: PadDefinition, plcs: list[ModbusPlc | OpcUaPlc], out: Resolved
) -> list[Tag]:
    on_rig = {plc.id for plc in plcs}
    candidates = [tag for tag in pad.tags if tag.plc in on_rig]
    chosen: set[str] = set()
    for key in ("include", "exclude"):
        for index, pattern in enumerate(getattr(parsed.tags, key)):
            at: Location = ("tags", key, index)
            matched = _match_tags(pattern, pad, candidates, on_rig, at, out)
            if key == "include":
                chosen |= matched
            else:
                chosen -= matched
    for plc in plcs:
        if plc.heartbeat is None:
            continue
        for counter in (plc.heartbeat.padctl_counter_tag, plc.heartbeat.plc_counter_tag):
            if counter not in chosen:
                out.problem(
                    ("tags",),
                    f"heartbeat counter {counter} of PLC {plc.id} is not on the rig "
                    "(padctl and the PLC watch each other through both counters)",
                )
    for plc in plcs:
        if not any(tag.plc == plc.id and tag.name in chosen for tag in candidates):
            index = next(n for n, entry in enumerate(parsed.plcs) if entry.id == plc.id)
            out.problem(("plcs", index, "id"), f"no tag of PLC {plc.id} is on the rig")
    return [tag for tag in candidates if tag.name in chosen]


def _match_tags(
    pattern: str,
    pad: PadDefinition,
    candidates: list[Tag],
    on_rig: set[str],
    at: Location,
    out: Resolved,
) -> set[str]:
    if not _is_glob(pattern):
        if not pad.has_tag(pattern):
            out.problem(at, f"unknown tag {pattern!r} (not in pad {pad.pad!r})")
        elif pad.tag(pattern).plc not in on_rig:
            plc_id = pad.tag(pattern).plc
            out.problem(at, f"tag {pattern} belongs to PLC {plc_id}, which is not on this rig")
        else:
            return {pattern}
        return set()
    matched = {tag.name for tag in candidates if fnmatchcase(tag.name, pattern)}
    if not matched:
        out.problem(at, f"{pattern!r} matches no tag of the rig's PLCs ({', '.join(on_rig)})")
    return matched


def _resolve_writes(
    parsed: RigFile, pad: PadDefinition, definition: PadDefinition, out: Resolved
) -> None:
    heartbeat_tags = {
        plc.heartbeat.padctl_counter_tag for plc in definition.plcs if plc.heartbeat is not None
    }
    writable = [t for t in definition.tags if t.writable and t.name not in heartbeat_tags]
    named: dict[str, int] = {}
    for index, entry in enumerate(parsed.writes.allow):
        at: Location = ("writes", "allow", index)
        if _is_glob(entry.tag):
            tags = [tag for tag in writable if fnmatchcase(tag.name, entry.tag)]
            if not tags:
                out.problem((*at, "tag"), f"{entry.tag!r} matches no writable tag of this rig")
        else:
            problem = _allow_problem(entry.tag, pad, definition, heartbeat_tags)
            if problem is not None:
                out.problem((*at, "tag"), problem)
                continue
            if entry.tag in named:
                out.problem(
                    (*at, "tag"), f"{entry.tag} is allowed twice (writes.allow[{named[entry.tag]}])"
                )
                continue
            named[entry.tag] = index
            tags = [definition.tag(entry.tag)]
        glob = _is_glob(entry.tag)
        for tag in tags:
            if glob and tag.name in out.allowances:
                continue  # an earlier entry allows it already; explicit names replace globs
            rig_range = entry.range
            if rig_range is not None and glob and tag.type is TagType.BOOL:
                rig_range = None  # a glob's range narrows the numeric tags it matches
            if rig_range is not None and not _range_fits(tag, rig_range, (*at, "range"), out):
                continue
            out.allowances[tag.name] = WriteAllowance(tag=tag.name, range=rig_range)


def _allow_problem(
    name: str, pad: PadDefinition, definition: PadDefinition, heartbeat_tags: set[str]
) -> str | None:
    if not pad.has_tag(name):
        return f"unknown tag {name!r} (not in pad {pad.pad!r})"
    if not definition.has_tag(name):
        return f"tag {name} is not on this rig (its PLC {pad.tag(name).plc} or the tag is left out)"
    if name in heartbeat_tags:
        return f"{name} is padctl's heartbeat counter: the heartbeat writes it, not commands"
    if not definition.tag(name).writable:
        return f"{name} is not writable in the pad definition: a rig cannot allow more than the pad"
    return None


def _range_fits(tag: Tag, rig_range: tuple[float, float], at: Location, out: Resolved) -> bool:
    if tag.type is TagType.BOOL or tag.range is None:
        out.problem(at, f"{tag.name} is a bool tag: it takes no range")
        return False
    low, high = rig_range
    if low < tag.range[0] or high > tag.range[1]:
        out.problem(
            at,
            f"range [{low:g}, {high:g}] of {tag.name} is wider than the pad's "
            f"[{tag.range[0]:g}, {tag.range[1]:g}] {tag.unit}",
        )
        return False
    if tag.safe is not None and not low <= float(tag.safe) <= high:
        out.problem(
            at,
            f"range [{low:g}, {high:g}] of {tag.name} leaves out its safe value {tag.safe:g}: "
            "safing must stay possible",
        )
        return False
    return True


def _resolve_contract(parsed: RigFile, definition: PadDefinition, out: Resolved) -> None:
    contract = parsed.contract
    applicable: dict[str, str | None] = {}
    for spec in ALL_SPECS:
        try:
            compile_spec(spec, definition)
            applicable[spec.name] = None
        except SpecError as error:
            applicable[spec.name] = "; ".join(error.problems[:3])
    if contract.checkout == "all":
        out.checkout = [name for name, why in applicable.items() if why is None]
    else:
        for index, name in enumerate(contract.checkout):
            at: Location = ("contract", "checkout", index)
            if name not in applicable:
                out.problem(at, f"no subsystem {name!r} (known: {', '.join(applicable)})")
            elif applicable[name] is not None:
                out.problem(at, f"subsystem {name} is not on this rig: {applicable[name]}")
            else:
                out.checkout.append(name)
    for plc_id, tag_name in contract.watchdog_tags.items():
        at = ("contract", "watchdog_tags", plc_id)
        if not any(plc.id == plc_id for plc in definition.plcs):
            out.problem(at, f"PLC {plc_id} is not on this rig")
        elif definition.plc(plc_id).heartbeat is None:
            out.problem(at, f"PLC {plc_id} has no heartbeat, so no watchdog to prove")
        elif tag_name not in out.allowances:
            out.problem(at, f"{tag_name} is not on the rig's write allow-list")
        elif definition.tag(tag_name).plc != plc_id:
            out.problem(at, f"{tag_name} belongs to PLC {definition.tag(tag_name).plc}")
        else:
            out.watchdog_tags[plc_id] = tag_name
    if ContractTest.WATCHDOG in contract.tests:
        for plc in definition.plcs:
            if plc.heartbeat is None or plc.id in out.watchdog_tags:
                continue
            probe = next((n for n in out.allowances if definition.tag(n).plc == plc.id), None)
            if probe is not None:
                out.watchdog_tags[plc.id] = probe
