"""`padctl hil ...`: hardware-in-the-loop rigs, the fault proxy, record and replay."""

from __future__ import annotations

import typer

from padctl.cli._app import app

hil_app = typer.Typer(
    help="Hardware-in-the-loop rigs and network fault tools.", no_args_is_help=True
)
app.add_typer(hil_app, name="hil")
