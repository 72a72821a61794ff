"""`padctl read`: the operator's quick look at tags, by name."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

from padctl.cli._app import (
    LogFileOption,
    LogLevelOption,
    PadOption,
    app,
    load_definition_or_exit,
    setup_logging,
)
from padctl.cli._runtime import run
from padctl.clock import ScaledClock
from padctl.definition import PadDefinition
from padctl.plant import Plant, Quality, Sample


@app.command("read")
def read_command(
    tags: Annotated[list[str] | None, typer.Argument(help="Tag names (all when none).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per tag.")] = False,
    pad: PadOption = None,
    timeout_s: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for every PLC.")
    ] = 5.0,
    log_level: LogLevelOption = "warning",
    log_file: LogFileOption = None,
) -> None:
    """Connect to the PLCs of a pad definition, read tags once, print them. Writes nothing."""
    setup_logging(log_level, log_file)
    definition = load_definition_or_exit(pad)
    names = tags or [tag.name for tag in definition.tags]
    unknown = [name for name in names if not definition.has_tag(name)]
    if unknown:
        typer.echo(f"padctl read: unknown tag(s): {', '.join(unknown)}", err=True)
        raise typer.Exit(2)
    samples, wall_offset_s = run(_read_once(definition, names, timeout_s))
    for name in names:
        sample = samples[name]
        tag = definition.tag(name)
        stamp = _timestamp(sample.t_received_s + wall_offset_s)
        if json_output:
            record = {
                "tag": name,
                "value": sample.value,
                "unit": tag.unit,
                "quality": sample.quality.value,
                "timestamp": stamp,
                "plc": tag.plc,
            }
            if sample.reason:
                record["reason"] = sample.reason
            typer.echo(json.dumps(record))
        else:
            typer.echo(
                f"{name:<24} {_format_value(sample):>14} {tag.unit:<8} "
                f"{sample.quality.value:<9} {stamp}"
                + (f"  ({sample.reason})" if sample.reason else "")
            )
    if any(samples[name].quality is not Quality.GOOD for name in names):
        raise typer.Exit(1)


async def _read_once(
    definition: PadDefinition, names: list[str], timeout_s: float
) -> tuple[dict[str, Sample], float]:
    clock = ScaledClock(1.0)
    plant = Plant(definition=definition, clock=clock, journal=None, beat_heartbeats=False)
    async with plant:
        await plant.wait_connected(timeout_s)
        samples = plant.table.snapshot(names)
    return samples, clock.wall_now() - clock.now()


def _format_value(sample: Sample) -> str:
    value = sample.value
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _timestamp(epoch_s: float) -> str:
    if epoch_s < 0 or epoch_s != epoch_s or epoch_s == float("inf"):
        return "never"
    return dt.datetime.fromtimestamp(epoch_s, tz=dt.UTC).isoformat(timespec="milliseconds")
