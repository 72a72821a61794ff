"""The padctl command line: the one place that composes whole programs."""

from padctl.cli import (
    _countdown,
    _demo,
    _hil,
    _hil_proxy,
    _hil_rig,
    _journal,
    _read,
    _serve,
    _sim,
    _subsystems,
    _train,
    _users,
)
from padctl.cli._app import app

__all__ = [
    "_countdown",
    "_demo",
    "_hil",
    "_hil_proxy",
    "_hil_rig",
    "_journal",
    "_read",
    "_serve",
    "_sim",
    "_subsystems",
    "_train",
    "_users",
    "app",
    "main",
]


def main() -> None:
    """Console-script entry point."""
    app()
