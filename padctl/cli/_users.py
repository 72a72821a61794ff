"""`padctl users`: the operator console's users file (names, roles, hashed passwords)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from padctl.cli._app import app
from padctl.console import DEFAULT_USERS_FILE, Role, UsersError, UsersFile
from padctl.subsystems import ALL_SPECS

__all__ = ["app", "users_app"]

users_app = typer.Typer(help="Console users: add, list, remove.", no_args_is_help=True)
app.add_typer(users_app, name="users")

UsersFileOption = Annotated[
    Path, typer.Option("--users", "--file", help="The users file (YAML).", envvar="PADCTL_USERS")
]


def _load(path: Path) -> UsersFile:
    try:
        return UsersFile.load(path)
    except UsersError as error:
        typer.echo(f"padctl users: {error}", err=True)
        raise typer.Exit(2) from None


def _split(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="User name (lower case).")],
    role: Annotated[Role, typer.Option("--role", help="The user's role.")],
    subsystems: Annotated[
        str | None,
        typer.Option("--subsystems", help="For a subsystem_operator: a,b (subsystem names)."),
    ] = None,
    positions: Annotated[
        str | None,
        typer.Option("--positions", help="GO/NO-GO poll positions (default by role)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    users: UsersFileOption = DEFAULT_USERS_FILE,
) -> None:
    """Add a user (or replace one of the same name); the password is stored argon2-hashed."""
    users_file = _load(users)
    password = _read_password(password_stdin)
    try:
        user = users_file.add(
            name,
            role=role,
            password=password,
            subsystems=_split(subsystems) or (),
            positions=_split(positions),
            known_subsystems=tuple(spec.name for spec in ALL_SPECS),
        )
        users_file.save()
    except (UsersError, OSError) as error:
        typer.echo(f"padctl users add: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{user.name}: {user.role.value}"
        + (f", subsystems {', '.join(user.subsystems)}" if user.subsystems else "")
        + (f", answers for {', '.join(user.positions)}" if user.positions else "")
        + f" ({users})"
    )


@users_app.command("list")
def list_command(
    users: UsersFileOption = DEFAULT_USERS_FILE,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
) -> None:
    """Every user with role, subsystems and poll positions (never the password)."""
    listed = _load(users).users()
    if as_json:
        typer.echo(json.dumps([user.describe() for user in listed]))
        return
    for user in listed:
        typer.echo(
            f"{user.name:<16} {user.role.value:<19} "
            f"subsystems={','.join(user.subsystems) or '-'} "
            f"positions={','.join(user.positions) or '-'}"
        )


@users_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(help="User name.")],
    users: UsersFileOption = DEFAULT_USERS_FILE,
) -> None:
    """Remove a user (their open sessions end at their next request)."""
    users_file = _load(users)
    try:
        users_file.remove(name)
        users_file.save()
    except (UsersError, OSError) as error:
        typer.echo(f"padctl users remove: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{name}: removed ({users})")
