"""padctl's side of a simulated pad in a process of its own (see `simulators.process`).

`SimulatorProcess` starts the program, gives it the pad definition and the shared clock,
reads the live endpoints, and passes faults, checkpoints and the instructor's controls over
the control channel. It is also the `PadSimulator` a training run drives.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog

from padctl.clock import ScaledClock
from padctl.definition import PadDefinition
from simulators._scenario_pad import undo_of

log = structlog.get_logger()

START_TIMEOUT_WALL_S = 60.0
CALL_TIMEOUT_WALL_S = 60.0
STOP_TIMEOUT_WALL_S = 10.0
# A real PLC has a CPU of its own; the simulated PLCs share padctl's machine. Where padctl may
# raise a priority (root, CAP_SYS_NICE), their process runs this many nice steps ahead of
# padctl's own, so a busy machine starves padctl's loop (which LOOP-LAG and the rate governor
# see and say) before the PLCs (whose silence would be read as a broken wire or a PLC down).
SIMULATOR_NICE_STEPS = 5


class SimulatorError(RuntimeError):
    """The simulator process failed, or refused an operation (the message says why)."""


class SimulatorProcess:
    """A simulated pad served by a child process, on a clock shared with padctl."""

    def __init__(
        self,
        definition: PadDefinition,
        clock: ScaledClock,
        *,
        scan_wall_s: float | None = None,
        log_level: str = "warning",
    ) -> None:
        if clock.share_path is None:
            raise ValueError("the simulator process needs a shared clock (ScaledClock(share_path))")
        self._definition = definition
        self._clock = clock
        self._scan_wall_s = scan_wall_s
        self._log_level = log_level
        self._process: asyncio.subprocess.Process | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._lock = asyncio.Lock()
        self.endpoints: list[dict[str, Any]] = []
        self.live: PadDefinition = definition

    @property
    def pid(self) -> int | None:
        """The simulator program's process id (None before `start`)."""
        return None if self._process is None else self._process.pid

    @property
    def plcs(self) -> tuple[str, ...]:
        return tuple(plc.id for plc in self._definition.plcs)

    async def start(self) -> PadDefinition:
        """Start the program; returns the definition with the live endpoints."""
        self._folder = tempfile.TemporaryDirectory(prefix="padctl-sim-")
        definition_file = Path(self._folder.name) / "pad.json"
        definition_file.write_text(self._definition.model_dump_json(), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "simulators.process",
            "--definition",
            str(definition_file),
            "--clock",
            str(self._clock.share_path),
            "--log-level",
            self._log_level,
        ]
        if self._scan_wall_s is not None:
            command += ["--scan-wall-s", str(self._scan_wall_s)]
        env = {
            **os.environ,
            "PYTHONPATH": _import_root() + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        self._process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            limit=16 * 1024 * 1024,  # a captured pad is one long line
        )
        favour_the_plcs(self._process.pid)
        try:
            async with asyncio.timeout(START_TIMEOUT_WALL_S):
                ready = await self._read_ready()
        except BaseException:
            await self.stop()
            raise
        self.endpoints = ready["endpoints"]
        live = self._definition
        for endpoint in self.endpoints:
            live = live.with_plc_endpoint(
                endpoint["id"], host=endpoint["host"], port=int(endpoint["port"])
            )
        self.live = live
        self._reader = asyncio.create_task(self._read_answers(), name="simulator-answers")
        log.info("simulator_process_started", pid=self._process.pid, plcs=len(self.endpoints))
        return live

    async def _read_ready(self) -> dict[str, Any]:
        assert self._process is not None and self._process.stdout is not None
        line = await self._process.stdout.readline()
        if not line:
            code = await self._process.wait()
            raise SimulatorError(f"the simulator process ended at start (exit code {code})")
        ready: dict[str, Any] = json.loads(line)
        if not ready.get("ready"):
            raise SimulatorError(f"the simulator process did not start: {ready}")
        return ready

    async def _read_answers(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        try:
            async for line in self._process.stdout:
                answer = json.loads(line)
                waiter = self._waiting.pop(answer.get("id"), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(answer)
        finally:
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(SimulatorError("the simulator process ended"))
            self._waiting.clear()

    async def call(self, op: str, **args: Any) -> Any:
        """One operation on the control channel; its result, or SimulatorError."""
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            raise SimulatorError("the simulator process is not running")
        request_id = next(self._ids)
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = waiter
        async with self._lock:
            process.stdin.write(json.dumps({"id": request_id, "op": op, **args}).encode() + b"\n")
            await process.stdin.drain()
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
            # (a SIGTERM) that comes as the answer arrives, and the program runs on.
            async with asyncio.timeout(CALL_TIMEOUT_WALL_S):
                answer = await waiter
        finally:
            self._waiting.pop(request_id, None)
        if not answer.get("ok"):
            raise SimulatorError(str(answer.get("error")))
        return answer.get("result")

    async def stop(self) -> None:
        """Ask the program to stop; terminate it if it does not."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ConnectionError, OSError):
                assert process.stdin is not None
                process.stdin.write(b'{"id": 0, "op": "stop"}\n')
                await process.stdin.drain()
                process.stdin.close()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_WALL_S):
                    await process.wait()
            except TimeoutError:
                process.send_signal(signal.SIGTERM)
                try:
                    async with asyncio.timeout(STOP_TIMEOUT_WALL_S):
                        await process.wait()
                except TimeoutError:
                    process.kill()
                    await process.wait()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    async def __aenter__(self) -> SimulatorProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- what a count, a console and a training run ask of the simulated pad -------------------
    async def inject(self, text: str) -> str:
        """Play a fault in words; the fault as applied. ValueError naming what is wrong."""
        try:
            return str(await self.call("inject", text=text))
        except SimulatorError as error:
            raise ValueError(str(error)) from None

    async def check(self, text: str) -> str:
        """The fault as it would be applied; ValueError naming what is wrong (nothing played)."""
        try:
            return str(await self.call("check", text=text))
        except SimulatorError as error:
            raise ValueError(str(error)) from None

    async def clear_faults(self) -> None:
        await self.call("clear")

    def undo_of(self, text: str) -> str:
        return undo_of(text)

    async def active_faults(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("active_faults")
        return result

    async def capture(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("capture")
        return result

    async def restore(self, state: Mapping[str, Any]) -> None:
        await self.call("restore", state=dict(state))

    async def freeze(self, frozen: bool) -> None:
        await self.call("freeze", frozen=frozen)

    async def wait_scans(self, count: int) -> None:
        await self.call("wait_scans", count=count)


def favour_the_plcs(pid: int) -> int:
    """Run the simulator process `SIMULATOR_NICE_STEPS` nice steps ahead of this one where
    the system lets us; returns the nice value it runs at (unchanged without the right)."""
    wanted = max(-20, os.getpriority(os.PRIO_PROCESS, 0) - SIMULATOR_NICE_STEPS)
    try:
        os.setpriority(os.PRIO_PROCESS, pid, wanted)
    except OSError as error:  # no right to raise a priority: the PLCs share the CPU evenly
        log.info("simulator_priority_unchanged", reason=str(error))
    return os.getpriority(os.PRIO_PROCESS, pid)


def _import_root() -> str:
    """The folder `simulators` and `padctl` are imported from (a checkout or site-packages)."""
    return str(Path(__file__).resolve().parents[1])
