"""The padctl command line: the one place that composes whole programs."""

from padctl.cli import _countdown, _demo, _journal, _read, _sim, _subsystems
from padctl.cli._app import app

__all__ = ["_countdown", "_demo", "_journal", "_read", "_sim", "_subsystems", "app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
