"""`padctl subsystems` and `padctl diagram`: the state machines, from their tables."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from padctl.cli._app import PadOption, app, load_definition_or_exit
from padctl.subsystems import (
    ALL_SPECS,
    Mode,
    SpecError,
    compile_all,
    mermaid,
    subsystems_markdown,
)


@app.command("subsystems")
def subsystems_command(
    json_output: Annotated[
        bool, typer.Option("--json", help="A JSON list, one per subsystem.")
    ] = False,
    pad: PadOption = None,
) -> None:
    """List every subsystem: states, transitions, safe state and mode (checked against the pad)."""
    definition = load_definition_or_exit(pad)
    try:
        compiled = compile_all(definition)
    except SpecError as error:
        typer.echo(f"padctl subsystems: {error}", err=True)
        raise typer.Exit(2) from None
    described: list[dict[str, object]] = [
        {
            "name": item.spec.name,
            "title": item.spec.title,
            "states": [state.name for state in item.spec.states],
            "transitions": item.spec.transition_table(),
            "safe_state": item.spec.safe_state.name,
            "mode": Mode.MANUAL.value,
            "commands": list(item.commands),
            "actuators": [actuator.name for actuator in item.actuators],
        }
        for item in compiled.values()
    ]
    if json_output:
        typer.echo(json.dumps(described, indent=2))
        return
    for compiled_item in compiled.values():
        spec = compiled_item.spec
        typer.echo(
            f"{spec.name:<22} safe: {spec.safe_state.name:<16} commands: "
            + ", ".join(compiled_item.commands)
        )


@app.command("diagram")
def diagram_command(
    name: Annotated[
        str | None, typer.Argument(help="Subsystem name (see `padctl subsystems`).")
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Every subsystem, as a Markdown page.")
    ] = False,
) -> None:
    """Print a subsystem's state machine as a Mermaid state diagram."""
    if markdown:
        typer.echo(subsystems_markdown(), nl=False)
        return
    if name is None:
        typer.echo("padctl diagram: name a subsystem, or use --markdown", err=True)
        raise typer.Exit(2)
    for spec in ALL_SPECS:
        if spec.name == name:
            typer.echo(mermaid(spec), nl=False)
            return
    known = ", ".join(spec.name for spec in ALL_SPECS)
    typer.echo(f"padctl diagram: no subsystem {name!r} (known: {known})", err=True)
    raise typer.Exit(2)
