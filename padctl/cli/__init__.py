"""The padctl command line: the one place that composes whole programs."""

import asyncio
import sys

from padctl.cli import (
    _countdown,
    _demo,
    _hil,
    _hil_proxy,
    _hil_rig,
    _history,
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
    "_history",
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
    """Console-script entry point. A signal (Ctrl-C, SIGTERM) ends any command with one line
    and exit code 130 after its cleanup has run, never with a traceback."""
    try:
        app()
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("padctl: stopped by a signal (cleanup done)", file=sys.stderr)
        sys.exit(130)
