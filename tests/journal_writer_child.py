"""Child process for the kill -9 journal test: append as fast as possible, print each id.

Usage: python journal_writer_child.py JOURNAL_PATH. Each line on stdout is the id of a row
already committed; the parent kills this process with SIGKILL at some point.
"""

from __future__ import annotations

import sys

import structlog

from padctl.clock import ScaledClock
from padctl.journal import Journal


def main() -> None:
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    with Journal(sys.argv[1], clock=ScaledClock()) as journal:
        seq = 0
        while True:
            entry = journal.append(
                "command_sent",
                {"seq": seq, "tag": "LOX-FV-101", "value": True},
                actor="kill9_child",
            )
            sys.stdout.write(f"{entry.id}\n")
            sys.stdout.flush()
            seq += 1


if __name__ == "__main__":
    main()
