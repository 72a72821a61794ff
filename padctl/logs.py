"""structlog set-up: JSON diagnostics to stderr or a file. Diagnostics, not the audit record."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO, cast

import structlog


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is at the time of writing (a test runner may swap it
    and close the old one)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(
    *, level: str = "info", json_output: bool = True, file: Path | None = None
) -> None:
    """Send structlog events (with contextvars such as run_id) as JSON lines."""
    stream: TextIO = (
        file.open("a", encoding="utf-8") if file is not None else cast(TextIO, _CurrentStderr())
    )
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    )
    _quiet_dependencies(level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )


_DEPENDENCIES = ("pymodbus", "asyncua")


class _ToStructlog(logging.Handler):
    """pymodbus' and asyncua's stdlib logging, forwarded to padctl's log as debug events."""

    def emit(self, record: logging.LogRecord) -> None:
        structlog.get_logger().debug(
            "dependency_log",
            logger=record.name,
            level=record.levelname.lower(),
            message=record.getMessage(),
        )


def _quiet_dependencies(level: str) -> None:
    """pymodbus and asyncua report every timeout and lost connection (with frame dumps and
    tracebacks); padctl's hubs report outages themselves, once on loss and once on recovery.
    So their records reach padctl's log only at `--log-level debug`, as debug events, and
    are not even formatted otherwise."""
    debug = level.lower() == "debug"
    for name in _DEPENDENCIES:
        logger = logging.getLogger(name)
        logger.handlers = [_ToStructlog()]
        logger.propagate = False
        logger.setLevel(logging.DEBUG if debug else logging.CRITICAL + 1)
