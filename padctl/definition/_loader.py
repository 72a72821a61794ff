"""Load and validate a pad definition; each problem is reported as file:line: field: problem."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from padctl.definition._model import (
    Actuator,
    Mechanism,
    ModbusAddress,
    ModbusPlc,
    ModbusTable,
    OpcUaPlc,
    PadDefinition,
    Tag,
    TagType,
)
from padctl.yaml_lines import DataFileError, Location, YamlWithLines, load_yaml_with_lines

# A list item in an error is named by these keys: a tag by its name, a PLC by its id.
_LABELS = ("name", "id")


class DefinitionError(Exception):
    """A definition file is invalid; `problems` lists each as 'file:line: field: problem'."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        summary = f"{path}: {len(problems)} problem(s) in definition file"
        super().__init__(summary + "\n" + "\n".join(problems))


def reference_pad_path() -> Path:
    """The reference pad definition shipped inside the package."""
    return Path(str(resources.files("padctl.definition") / "reference_pad.yaml"))


def load_pad_definition(path: Path | str | None = None) -> PadDefinition:
    """Load and fully validate a pad definition; raise DefinitionError listing every problem."""
    file_path = Path(path) if path is not None else reference_pad_path()
    try:
        document = load_yaml_with_lines(file_path)
    except DataFileError as error:
        raise DefinitionError(file_path, [str(error)]) from None
    return validate_pad_document(document, file_path)


def validate_pad_document(document: YamlWithLines, file_path: Path) -> PadDefinition:
    """Validate parsed YAML as a pad definition (structure, then cross-references)."""
    problems: list[tuple[Location, str]] = []
    if not isinstance(document.data, dict):
        raise DefinitionError(file_path, [f"{file_path}:1: document: must be a mapping"])
    try:
        definition = PadDefinition.model_validate(document.data)
    except ValidationError as error:
        for item in error.errors():
            problems.append((_clean_location(item["loc"]), item["msg"]))
        raise DefinitionError(
            file_path, document.located_problems(file_path, problems, _LABELS)
        ) from None
    problems.extend(_cross_check(definition))
    if problems:
        raise DefinitionError(file_path, document.located_problems(file_path, problems, _LABELS))
    return definition


def _clean_location(location: tuple[Any, ...]) -> Location:
    # pydantic puts the discriminator's tag ("modbus"/"opcua") into the path of union members.
    return tuple(part for part in location if part not in ("modbus", "opcua"))


_INTEGER_TYPES = {TagType.UINT16, TagType.INT16, TagType.INT32, TagType.UINT32}


def _cross_check(definition: PadDefinition) -> Iterator[tuple[Location, str]]:
    seen_plcs: dict[str, int] = {}
    for index, plc in enumerate(definition.plcs):
        if plc.id in seen_plcs:
            yield (
                ("plcs", index, "id"),
                f"duplicate PLC id {plc.id!r} (first at plcs[{seen_plcs[plc.id]}])",
            )
        seen_plcs.setdefault(plc.id, index)
    plcs = {plc.id: plc for plc in definition.plcs}
    seen_tags: dict[str, int] = {}
    occupied: dict[tuple[str, ModbusTable, int], str] = {}
    opcua_nodes: dict[tuple[str, str], str] = {}
    for index, tag in enumerate(definition.tags):
        at: Location = ("tags", index)
        if tag.name in seen_tags:
            yield (*at, "name"), f"duplicate tag name {tag.name!r}"
        seen_tags.setdefault(tag.name, index)
        tag_plc = plcs.get(tag.plc)
        if tag_plc is None:
            yield (*at, "plc"), f"unknown PLC {tag.plc!r} (known: {', '.join(sorted(plcs))})"
            continue
        if tag.type is not TagType.BOOL and tag.range is None:
            yield (*at, "range"), f"a {tag.type.value} tag needs an engineering range [low, high]"
        if tag.type is TagType.BOOL and tag.range is not None:
            yield (*at, "range"), "a bool tag takes no range"
        if (tag.scale != 1.0 or tag.offset != 0.0) and tag.type not in _INTEGER_TYPES:
            yield (*at, "scale"), f"scale/offset apply to integer types only, not {tag.type.value}"
        if tag.scale == 0:
            yield (*at, "scale"), "scale must not be 0"
        elif (limits := tag.type.integer_limits) is not None and tag.range is not None:
            low, high = limits
            raw = sorted(
                ((tag.range[0] - tag.offset) / tag.scale, (tag.range[1] - tag.offset) / tag.scale)
            )
            if raw[0] < low - 0.5 or raw[1] > high + 0.5:
                yield (
                    (*at, "range"),
                    (
                        f"range {list(tag.range)} at scale {tag.scale:g} needs raw values "
                        f"{raw[0]:g}..{raw[1]:g}, beyond {tag.type.value} ({low}..{high})"
                    ),
                )
        if tag.writable:
            if tag.safe is None:
                yield (*at, "safe"), "a writable tag needs a safe value (driven on watchdog trip)"
            elif tag.type is TagType.BOOL and not isinstance(tag.safe, bool):
                yield (*at, "safe"), f"safe value {tag.safe!r} of a bool tag must be true or false"
            elif tag.type is not TagType.BOOL and isinstance(tag.safe, bool):
                yield (*at, "safe"), f"safe value of a {tag.type.value} tag must be a number"
            elif tag.type is not TagType.BOOL and not tag.in_range(float(tag.safe)):
                yield (
                    (*at, "safe"),
                    f"safe value {tag.safe} is outside range {list(tag.range or ())}",
                )
        elif tag.safe is not None:
            yield (*at, "safe"), "only a writable tag takes a safe value"
        yield from _check_failure_report(at, tag, definition)
        if isinstance(tag_plc, ModbusPlc):
            yield from _check_modbus_address(
                at, tag.name, tag.type, tag.writable, tag.address, tag_plc.id, occupied
            )
        else:
            if not tag.address.strip():
                yield (*at, "address"), "an OPC UA tag needs a node identifier"
            elif (tag_plc.id, tag.address) in opcua_nodes:
                yield (
                    (*at, "address"),
                    (
                        f"node {tag.address!r} already used by "
                        f"{opcua_nodes[(tag_plc.id, tag.address)]}"
                    ),
                )
            opcua_nodes.setdefault((tag_plc.id, tag.address), tag.name)
            if tag.word_order is not None:
                yield (*at, "word_order"), "word_order applies to Modbus tags only"
    for index, plc in enumerate(definition.plcs):
        yield from _check_heartbeat(index, plc, definition)
    yield from _check_actuators(definition)
    yield from _check_mechanisms(definition)


def _check_failure_report(
    at: Location, tag: Tag, definition: PadDefinition
) -> Iterator[tuple[Location, str]]:
    """`fail_raw` and `status_tag`: how the PLC says a measurement channel has failed."""
    if tag.fail_raw is not None:
        limits = tag.type.integer_limits
        if limits is None:
            yield (
                (*at, "fail_raw"),
                f"fail_raw applies to integer types only, not {tag.type.value} "
                "(a failed float channel reads NaN)",
            )
        elif not limits[0] <= tag.fail_raw <= limits[1]:
            yield (
                (*at, "fail_raw"),
                f"fail_raw {tag.fail_raw} does not fit {tag.type.value} ({limits[0]}..{limits[1]})",
            )
        elif (
            tag.range is not None
            and tag.scale != 0
            and tag.in_range(sentinel := tag.fail_raw * tag.scale + tag.offset)
        ):
            yield (
                (*at, "fail_raw"),
                f"fail_raw {tag.fail_raw} reads {sentinel:g} {tag.unit}, inside range "
                f"{list(tag.range)}: a real reading could not be told from a failure",
            )
        if tag.writable:
            yield (*at, "fail_raw"), "a writable tag is an output: it reports no failed channel"
    if tag.status_tag is not None:
        status = definition.tag(tag.status_tag) if definition.has_tag(tag.status_tag) else None
        if tag.writable:
            yield (*at, "status_tag"), "a writable tag is an output: it reports no failed channel"
        if status is None:
            yield (*at, "status_tag"), f"unknown tag {tag.status_tag!r}"
        elif status.type is not TagType.BOOL or status.writable or status.status_tag is not None:
            yield (
                (*at, "status_tag"),
                f"a channel status must be a read-only bool tag without a status_tag of its "
                f"own, {status.name} is not",
            )
        elif status.plc != tag.plc:
            yield (
                (*at, "status_tag"),
                f"{status.name} belongs to PLC {status.plc}, not {tag.plc}: "
                "a channel's failure is reported by its own PLC",
            )


def _duplicate_names(
    section: str, items: Sequence[Actuator | Mechanism]
) -> Iterator[tuple[Location, str]]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.name in seen:
            yield (section, index, "name"), f"duplicate {section[:-1]} {item.name!r}"
        seen.add(item.name)


def _signal_problem(names: dict[str, Tag], name: str, *, command: bool) -> str | None:
    """What is wrong with a command or feedback tag of an actuator or mechanism, if anything."""
    tag = names.get(name)
    if tag is None:
        return f"unknown tag {name!r}"
    if tag.type is not TagType.BOOL:
        return f"{name} must be a bool tag, not {tag.type.value}"
    if command and not tag.writable:
        return f"{name} is not writable: padctl cannot command it"
    if not command and tag.writable:
        return f"{name} is a command, not feedback"
    return None


def _check_actuators(definition: PadDefinition) -> Iterator[tuple[Location, str]]:
    names = {tag.name: tag for tag in definition.tags}
    yield from _duplicate_names("actuators", definition.actuators)
    for index, actuator in enumerate(definition.actuators):
        at: Location = ("actuators", index)
        for field in ("command", "on_feedback", "off_feedback"):
            name = getattr(actuator, field)
            problem = (
                None if name is None else _signal_problem(names, name, command=field == "command")
            )
            if problem:
                yield (*at, field), problem
        if actuator.timeout_s < max(actuator.on_limit_s, actuator.off_limit_s):
            yield (
                (*at, "timeout_s"),
                (f"timeout {actuator.timeout_s:g} s is shorter than the stroke limits"),
            )


def _check_mechanisms(definition: PadDefinition) -> Iterator[tuple[Location, str]]:
    names = {tag.name: tag for tag in definition.tags}
    yield from _duplicate_names("mechanisms", definition.mechanisms)
    for index, mechanism in enumerate(definition.mechanisms):
        at: Location = ("mechanisms", index)
        for field, tags in (("positions", mechanism.positions), ("commands", mechanism.commands)):
            for position, name in tags.items():
                problem = _signal_problem(names, name, command=field == "commands")
                if problem:
                    yield (*at, field, position), problem
        for position in mechanism.commands:
            if position not in mechanism.positions:
                yield (
                    (*at, "commands", position),
                    f"no position {position!r} (positions: {', '.join(mechanism.positions)})",
                )


def _check_modbus_address(
    at: Location,
    name: str,
    tag_type: TagType,
    writable: bool,
    address_text: str,
    plc_id: str,
    occupied: dict[tuple[str, ModbusTable, int], str],
) -> Iterator[tuple[Location, str]]:
    try:
        address = ModbusAddress.parse(address_text)
    except ValueError as error:
        yield (*at, "address"), str(error)
        return
    if address.table.is_bit_table and tag_type is not TagType.BOOL:
        yield (
            (*at, "type"),
            f"{address.table.value} holds bits: type must be bool, not {tag_type.value}",
        )
        return
    if not address.table.is_bit_table and tag_type is TagType.BOOL:
        yield (*at, "type"), f"a bool tag belongs in co or di, not {address.table.value}"
        return
    if writable and not address.table.is_writable:
        yield (*at, "writable"), f"table {address.table.value} is read-only on a Modbus PLC"
    count = 1 if address.table.is_bit_table else tag_type.register_count
    if address.offset + count > 65536:
        yield (*at, "address"), f"{address} plus {count} register(s) runs past 65535"
        return
    for offset in range(address.offset, address.offset + count):
        key = (plc_id, address.table, offset)
        if key in occupied:
            yield (
                (*at, "address"),
                (f"{address.table.value}:{offset} overlaps tag {occupied[key]} on PLC {plc_id}"),
            )
            return
    for offset in range(address.offset, address.offset + count):
        occupied[(plc_id, address.table, offset)] = name


def _check_heartbeat(
    index: int, plc: ModbusPlc | OpcUaPlc, definition: PadDefinition
) -> Iterator[tuple[Location, str]]:
    if plc.heartbeat is None:
        return
    at: Location = ("plcs", index, "heartbeat")
    names = {tag.name: tag for tag in definition.tags}
    for field, must_write in (("padctl_counter_tag", True), ("plc_counter_tag", False)):
        name = getattr(plc.heartbeat, field)
        tag = names.get(name)
        if tag is None:
            yield (*at, field), f"unknown tag {name!r}"
            continue
        if tag.plc != plc.id:
            yield (*at, field), f"tag {name} belongs to PLC {tag.plc}, not {plc.id}"
        if tag.type not in _INTEGER_TYPES:
            yield (
                (*at, field),
                f"a heartbeat counter must be an integer tag, {name} is {tag.type.value}",
            )
        if must_write and not tag.writable:
            yield (*at, field), f"padctl must be allowed to write {name} (writable: true)"
    watchdog_tag = plc.heartbeat.watchdog_tag
    if watchdog_tag is not None:
        tag = names.get(watchdog_tag)
        if tag is None:
            yield (*at, "watchdog_tag"), f"unknown tag {watchdog_tag!r}"
        elif tag.plc != plc.id:
            yield (
                (*at, "watchdog_tag"),
                f"tag {watchdog_tag} belongs to PLC {tag.plc}, not {plc.id}",
            )
        elif tag.type is not TagType.BOOL or tag.writable:
            yield (
                (*at, "watchdog_tag"),
                f"a watchdog status must be a read-only bool tag, {watchdog_tag} is not",
            )
    if plc.heartbeat.watchdog_s <= plc.heartbeat.period_s:
        yield (
            (*at, "watchdog_s"),
            (
                f"watchdog {plc.heartbeat.watchdog_s} s must exceed "
                f"the period {plc.heartbeat.period_s} s"
            ),
        )


__all__ = [
    "DefinitionError",
    "ModbusPlc",
    "OpcUaPlc",
    "load_pad_definition",
    "reference_pad_path",
    "validate_pad_document",
]
