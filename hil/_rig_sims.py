"""A rig's simulators in a child process: `padctl sim --ephemeral-ports --json`.

The child prints one JSON object per PLC (id, protocol, host, port) before it serves;
those are the ports a rig's `port: from-sim` PLCs take. Fault commands go to its standard
input, one per line, as an instructor would type them.
"""

from __future__ import annotations

import json
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO

from hil.rig import Rig
from padctl.definition import PadDefinition, load_pad_definition

_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 10.0


class SimulatorError(Exception):
    """The simulators did not start (or died); carries the end of their diagnostics."""


def padctl_command() -> list[str]:
    """How to run this installation's padctl (the console script beside the interpreter)."""
    script = Path(sys.executable).with_name("padctl")
    if script.exists():
        return [str(script)]
    found = shutil.which("padctl")
    if found is not None:
        return [found]
    return [sys.executable, "-c", "from padctl.cli import main; main()"]


class SimulatorProcess:
    """`padctl sim` for a pad, in a child process, on ephemeral ports of 127.0.0.1."""

    def __init__(
        self,
        *,
        pad: Path,
        rate: float = 1.0,
        physics: bool = True,
        faults: Sequence[str] = (),
        log_level: str = "warning",
    ) -> None:
        self._pad = pad
        self._plc_ids = [plc.id for plc in load_pad_definition(pad).plcs]
        self._args = [
            *padctl_command(),
            "sim",
            "--pad",
            str(pad),
            "--ephemeral-ports",
            "--json",
            "--rate",
            repr(rate),
            "--physics" if physics else "--no-physics",
            "--log-level",
            log_level,
        ]
        for fault in faults:
            self._args += ["--fault", fault]
        self._process: subprocess.Popen[str] | None = None
        self._stdout: queue.Queue[str | None] = queue.Queue()
        self._stderr_tail: deque[str] = deque(maxlen=40)
        self.output: list[str] = []  # everything it printed after the endpoints
        self.endpoints: dict[str, tuple[str, int]] = {}

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout_s: float = _START_TIMEOUT_S) -> dict[str, tuple[str, int]]:
        """Start the child and wait for every PLC's endpoint; PLC id -> (host, port)."""
        process = subprocess.Popen(
            self._args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._process = process
        assert process.stdout is not None and process.stderr is not None
        _drain(process.stdout, self._stdout.put, "sim-stdout")
        _drain(process.stderr, self._keep_stderr, "sim-stderr")
        deadline_s = time.monotonic() + timeout_s
        try:
            while len(self.endpoints) < len(self._plc_ids):
                remaining_s = deadline_s - time.monotonic()
                if remaining_s <= 0:
                    raise SimulatorError(self._why(f"no endpoints within {timeout_s:g} s"))
                try:
                    line = self._stdout.get(timeout=remaining_s)
                except queue.Empty:
                    continue
                if line is None:
                    raise SimulatorError(self._why("padctl sim exited before serving"))
                record = json.loads(line)
                self.endpoints[str(record["id"])] = (str(record["host"]), int(record["port"]))
        except BaseException:
            self.stop()
            raise
        threading.Thread(target=self._collect, name="sim-output", daemon=True).start()
        return dict(self.endpoints)

    def send(self, command: str) -> None:
        """Play a fault command (`bias LOX-PT-001 2.5`, `stall GAS`, ...)."""
        process = self._process
        if process is None or process.stdin is None or process.poll() is not None:
            raise SimulatorError(self._why("simulators are not running"))
        process.stdin.write(command.strip() + "\n")
        process.stdin.flush()

    def stop(self, timeout_s: float = _STOP_TIMEOUT_S) -> None:
        """Ask the child to stop (SIGTERM), kill it if it does not within `timeout_s`."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _keep_stderr(self, line: str | None) -> None:
        if line is not None:
            self._stderr_tail.append(line)

    def _collect(self) -> None:
        while (line := self._stdout.get()) is not None:
            self.output.append(line)

    def _why(self, what: str) -> str:
        tail = "\n".join(self._stderr_tail)
        return f"padctl sim ({self._pad}): {what}" + (f"\n{tail}" if tail else "")


def _drain(pipe: IO[str], sink: Callable[[str | None], None], name: str) -> None:
    """Read `pipe` line by line on a daemon thread into `sink`; None once it closes."""

    def reader() -> None:
        try:
            for line in pipe:
                sink(line.rstrip("\n"))
        except ValueError:  # closed under us at stop
            pass
        finally:
            sink(None)

    threading.Thread(target=reader, name=name, daemon=True).start()


@contextmanager
def rig_on_bench(
    rig: Rig, overrides: Mapping[str, tuple[str, int]]
) -> Iterator[tuple[PadDefinition, SimulatorProcess | None]]:
    """The rig's definition with live endpoints, starting its simulators if it needs them.

    PLCs with `port: from-sim` take the simulators' ports unless `overrides` gives them
    one; the simulators start only if some PLC still needs them, and stop on exit.
    """
    needed = [plc_id for plc_id in rig.from_sim if plc_id not in overrides]
    if not needed or rig.simulators is None:
        yield rig.definition_at(overrides), None
        return
    with SimulatorProcess(
        pad=rig.simulators.pad_path,
        rate=rig.simulators.rate,
        physics=rig.simulators.physics,
    ) as sims:
        missing = [plc_id for plc_id in needed if plc_id not in sims.endpoints]
        if missing:
            raise SimulatorError(
                f"rig {rig.name}: the simulators serve no PLC {', '.join(missing)}"
            )
        endpoints = {plc_id: sims.endpoints[plc_id] for plc_id in needed}
        yield rig.definition_at({**endpoints, **overrides}), sims
