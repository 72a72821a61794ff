"""`padctl hil check`: read every tag of a rig once and compare it with the definition.

The check runs padctl's own hubs (the same client code as in production) into a tag table
of its own, with no write path at all: no plant, no heartbeat keeper, no journal. It
reports, per tag, whether the address exists at the PLC, whether the value decodes within
the engineering range (not NaN), whether an OPC UA node carries the variant type the
definition's type needs, and, per PLC, whether the PLC's heartbeat counter advances.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from asyncua import ua

from padctl.clock import Clock
from padctl.definition import ModbusPlc, OpcUaPlc, PadDefinition, Tag
from padctl.plant import Hub, ModbusHub, OpcUaHub, Quality, Sample, TagTable
from padctl.plant._opcua_codec import VARIANT_TYPES

REFUSED_READ = "refused read"


@dataclass(frozen=True)
class CheckRow:
    """One line of the check's table: one tag (or one PLC's heartbeat) and its verdict."""

    plc: str
    tag: str
    check: str  # "read" or "heartbeat"
    ok: bool
    type: str
    address: str
    value: str
    unit: str
    quality: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def check_rig(
    definition: PadDefinition,
    *,
    clock: Clock,
    connect_timeout_s: float,
    base_dir: Path | None = None,
) -> list[CheckRow]:
    """Connect to every PLC of `definition`, read every tag once, judge each; writes nothing."""
    table = TagTable(definition, clock)
    hubs: dict[str, Hub] = {}
    # The variant type each OPC UA node last sent, by tag name.
    variant_types: dict[str, ua.VariantType] = {}

    def record_variant(name: str, data_value: ua.DataValue) -> None:
        variant = data_value.Value
        if variant is not None and variant.Value is not None:
            variant_types[name] = variant.VariantType

    for plc in definition.plcs:
        tags = definition.tags_of(plc.id)
        if isinstance(plc, ModbusPlc):
            hubs[plc.id] = ModbusHub(plc=plc, tags=tags, table=table, clock=clock)
        else:
            hubs[plc.id] = OpcUaHub(
                plc=plc,
                tags=tags,
                table=table,
                clock=clock,
                base_dir=base_dir,
                observer=record_variant,
            )
    try:
        for started in hubs.values():
            await started.start()
        connected = dict(
            zip(
                hubs,
                await asyncio.gather(
                    *(hub.wait_connected(connect_timeout_s) for hub in hubs.values())
                ),
                strict=True,
            )
        )
        heartbeats = await asyncio.gather(
            *(
                _heartbeat_row(plc, table, clock)
                for plc in definition.plcs
                if connected[plc.id] and plc.heartbeat is not None
            )
        )
        samples = table.snapshot()
    finally:
        for stopped in hubs.values():
            await stopped.stop()
    refused = [
        definition.tag(name)
        for name, sample in samples.items()
        if REFUSED_READ in sample.reason and connected[definition.tag(name).plc]
    ]
    block_reasons = {tag.name: samples[tag.name].reason for tag in refused}
    if refused:  # a coalesced block failed: find which of its addresses the PLC lacks
        one_by_one, rechecked = await _read_one_by_one(
            definition, refused, clock, connect_timeout_s
        )
        samples.update(one_by_one)
        heartbeats = [row for row in heartbeats if row.tag not in block_reasons] + rechecked
    rows: list[CheckRow] = []
    for plc in definition.plcs:
        for tag in definition.tags_of(plc.id):
            if not connected[plc.id]:
                rows.append(_row(tag, None, False, f"PLC {plc.id} not reachable at {_where(plc)}"))
                continue
            variant = variant_types.get(tag.name)
            row = _judge(tag, samples[tag.name], variant)
            block = block_reasons.get(tag.name, "")
            if not row.ok and block and REFUSED_READ in row.detail and block not in row.detail:
                row = replace(row, detail=f"{row.detail}; so padctl's block read fails: {block}")
            rows.append(row)
    rows.extend(heartbeats)
    return rows


def _where(plc: ModbusPlc | OpcUaPlc) -> str:
    return f"{plc.host}:{plc.port}" if isinstance(plc, ModbusPlc) else plc.endpoint


async def _read_one_by_one(
    definition: PadDefinition, tags: Sequence[Tag], clock: Clock, timeout_s: float
) -> tuple[dict[str, Sample], list[CheckRow]]:
    """Read `tags` one request each; check the heartbeats whose counter is among them."""
    table = TagTable(definition, clock)
    names = {tag.name for tag in tags}
    hubs = [
        ModbusHub(plc=plc, tags=mine, table=table, clock=clock, coalesce=False)
        for plc in definition.plcs
        if isinstance(plc, ModbusPlc) and (mine := [t for t in tags if t.plc == plc.id])
    ]
    try:
        for hub in hubs:
            await hub.start()
        await asyncio.gather(*(hub.wait_connected(timeout_s) for hub in hubs))
        heartbeats = await asyncio.gather(
            *(
                _heartbeat_row(plc, table, clock)
                for plc in definition.plcs
                if plc.heartbeat is not None and plc.heartbeat.plc_counter_tag in names
            )
        )
        return table.snapshot(tag.name for tag in tags), list(heartbeats)
    finally:
        for hub in hubs:
            await hub.stop()


def _judge(tag: Tag, sample: Sample, variant: ua.VariantType | None) -> CheckRow:
    expected = VARIANT_TYPES[tag.type]
    if variant is not None and variant != expected:
        return _row(
            tag,
            sample,
            False,
            f"node sends {variant.name}, a {tag.type.value} tag needs {expected.name}",
        )
    if sample.quality is Quality.GOOD:
        return _row(tag, sample, True, "")
    reason = sample.reason
    if REFUSED_READ in reason:
        detail = f"address {tag.address} missing at the PLC ({reason})"
    elif "BadNodeIdUnknown" in reason:
        detail = f"node {tag.address!r} missing at the PLC"
    elif isinstance(sample.value, float) and math.isnan(sample.value):
        detail = "decodes to NaN"
    elif sample.quality is Quality.BAD and "outside range" in reason:
        low, high = tag.range or (0.0, 0.0)
        detail = f"decodes to {sample.value!r}, outside range [{low:g}, {high:g}] {tag.unit}"
    else:
        detail = reason or sample.quality.value
    return _row(tag, sample, False, detail)


def _row(tag: Tag, sample: Sample | None, ok: bool, detail: str) -> CheckRow:
    return CheckRow(
        plc=tag.plc,
        tag=tag.name,
        check="read",
        ok=ok,
        type=tag.type.value,
        address=tag.address,
        value=_format_value(sample.value if sample is not None else None),
        unit=tag.unit,
        quality=sample.quality.value if sample is not None else "-",
        detail=detail,
    )


def _format_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).lower() if isinstance(value, bool) else str(value)


async def _heartbeat_row(plc: ModbusPlc | OpcUaPlc, table: TagTable, clock: Clock) -> CheckRow:
    assert plc.heartbeat is not None
    name = plc.heartbeat.plc_counter_tag
    first = table.get(name)
    began_s = clock.now()
    advanced = first.is_good and await table.wait_for(
        lambda t: t.get(name).is_good and t.get(name).value != first.value,
        timeout_s=plc.heartbeat.watchdog_s,
    )
    last = table.get(name)
    if advanced:
        detail = (
            f"PLC counter advanced {first.value} -> {last.value} in {clock.now() - began_s:.2f} s"
        )
    elif not first.is_good:
        detail = f"PLC counter unreadable: {first.reason}"
    else:
        detail = (
            f"PLC counter stuck at {last.value} for {plc.heartbeat.watchdog_s:g} s (watchdog time)"
        )
    return CheckRow(
        plc=plc.id,
        tag=name,
        check="heartbeat",
        ok=advanced,
        type="counter",
        address="",
        value=_format_value(last.value),
        unit="count",
        quality=last.quality.value,
        detail=detail,
    )
