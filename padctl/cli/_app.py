"""The Typer application and its sub-commands."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from padctl.definition import DefinitionError, PadDefinition, load_pad_definition
from padctl.logs import configure_logging
from padctl.sparkplug import MqttUrlError, SparkplugSettings, parse_mqtt_url

app = typer.Typer(
    name="padctl",
    help="Launch-pad ground equipment control: PLC I/O, simulators, journal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
journal_app = typer.Typer(help="The audit journal.", no_args_is_help=True)
app.add_typer(journal_app, name="journal")

PadOption = Annotated[
    Path | None,
    typer.Option("--pad", help="Pad definition file (default: the reference pad)."),
]
LogLevelOption = Annotated[str, typer.Option("--log-level", help="Diagnostics level.")]
LogFileOption = Annotated[
    Path | None, typer.Option("--log-file", help="Write JSON diagnostics here, not stderr.")
]


def load_definition_or_exit(path: Path | None) -> PadDefinition:
    """Load a pad definition; on any problem print them all and exit 2."""
    try:
        return load_pad_definition(path)
    except DefinitionError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        typer.echo(f"padctl: {len(error.problems)} problem(s); nothing was started", err=True)
        raise typer.Exit(2) from None


def check_rate_or_exit(rate: float, command: str) -> None:
    """A clock rate must be a finite number above 0; else say so and exit 2."""
    if not (math.isfinite(rate) and rate > 0):
        typer.echo(f"padctl {command}: --rate {rate:g}: must be a number above 0", err=True)
        raise typer.Exit(2)


def setup_logging(level: str, file: Path | None) -> None:
    configure_logging(level=level, json_output=True, file=file)


MqttOption = Annotated[
    str | None,
    typer.Option(
        "--mqtt",
        help="Publish the pad over Sparkplug B to this broker (mqtt://HOST[:PORT]); "
        "read-only: padctl takes no command over MQTT.",
    ),
]


def sparkplug_settings_or_exit(url: str | None, command: str) -> SparkplugSettings | None:
    """The Sparkplug face's settings from `--mqtt URL` (None without it); exit 2 if bad."""
    if url is None:
        return None
    try:
        return SparkplugSettings(parse_mqtt_url(url))
    except MqttUrlError as error:
        typer.echo(f"padctl {command}: --mqtt: {error}", err=True)
        raise typer.Exit(2) from None
