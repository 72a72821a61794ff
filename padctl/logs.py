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
    # asyncua logs every lost connection with a traceback through stdlib logging; padctl's
    # hubs report outages themselves (once on loss, once on recovery).
    logging.getLogger("asyncua").setLevel(logging.CRITICAL)
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
