"""`padctl journal`: check the audit journal's hash chain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from padctl.cli._app import journal_app
from padctl.journal import JournalError, verify_journal


@journal_app.command("verify")
def verify_command(
    path: Annotated[Path, typer.Argument(help="Journal file (SQLite).")],
) -> None:
    """Check every row's hash and the chain; name the first broken row."""
    try:
        result = verify_journal(path)
    except JournalError as error:
        typer.echo(f"padctl journal verify: {error}", err=True)
        raise typer.Exit(2) from None
    if result.ok:
        typer.echo(f"{path}: OK, {result.rows_checked} rows, chain intact")
        return
    typer.echo(
        f"{path}: BROKEN at row {result.first_broken_id}: {result.problem} "
        f"({result.rows_checked} rows checked)",
        err=True,
    )
    raise typer.Exit(1)
