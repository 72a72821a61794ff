"""The simulated pad in a process of its own: `python -m simulators.process`.

padctl's control loop must not share its event loop (or its core) with the physics and the
PLC servers. This program serves the simulated PLCs of a pad definition on 127.0.0.1, steps
the physics on the clock padctl publishes (a `FollowerClock`: one pad time on both sides of
the wire), and takes a small control channel on standard input: one JSON object per line,
`{"id": 1, "op": "inject", "text": "stall MECH"}`, answered on standard output by one JSON
object per line, `{"id": 1, "ok": true, "result": ...}` or `{"id": 1, "ok": false, "error":
"..."}`. The first line it prints is `{"ready": true, "endpoints": [...]}`.

Operations: `inject` and `check` (fault words), `clear` (every physics fault), `active_faults`,
`capture` and `restore` (the whole pad, for checkpoints), `freeze` (hold the physics still),
`wait_scans`, `ping` and `stop`. The program ends on `stop`, on end of input (its parent
died), or on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from padctl.clock import FollowerClock, ScaledClock
from padctl.definition import PadDefinition
from padctl.logs import configure_logging
from padctl.loop_lag import LoopLagMonitor, freeze_start_up
from padctl.supervisor import Pulse
from simulators._scenario_pad import FreezableProcess, PadControl, check_fault
from simulators.pad import SimulatedPad
from simulators.pad_model import PadModel

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class ControlChannel:
    """The operations of the control channel, on one running simulated pad."""

    def __init__(self, pad: SimulatedPad, control: PadControl, model: PadModel) -> None:
        self._pad = pad
        self._control = control
        self._model = model
        self.stopping = asyncio.Event()
        self.ops: dict[str, Handler] = {
            "ping": self._ping,
            "inject": self._inject,
            "check": self._check,
            "clear": self._clear,
            "active_faults": self._active_faults,
            "capture": self._capture,
            "restore": self._restore,
            "freeze": self._freeze,
            "wait_scans": self._wait_scans,
            "stop": self._stop,
        }

    async def handle(self, line: str) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except json.JSONDecodeError as error:
            return {"id": None, "ok": False, "error": f"not JSON: {error}"}
        if not isinstance(request, dict):
            return {"id": None, "ok": False, "error": "a request is a JSON object"}
        request_id = request.get("id")
        op = request.get("op")
        handler = self.ops.get(op) if isinstance(op, str) else None
        if handler is None:
            known = ", ".join(sorted(self.ops))
            return {"id": request_id, "ok": False, "error": f"unknown op {op!r} (known: {known})"}
        try:
            return {"id": request_id, "ok": True, "result": await handler(request)}
        except (ValueError, KeyError, TypeError) as error:
            return {"id": request_id, "ok": False, "error": str(error)}

    async def _ping(self, _request: dict[str, Any]) -> Any:
        return {"scans": self._pad.scans}

    async def _inject(self, request: dict[str, Any]) -> Any:
        return await self._control.inject(str(request["text"]))

    async def _check(self, request: dict[str, Any]) -> Any:
        return check_fault(str(request["text"]), self._model, self._control.plcs)

    async def _clear(self, _request: dict[str, Any]) -> Any:
        self._model.clear_faults()
        return None

    async def _active_faults(self, _request: dict[str, Any]) -> Any:
        return await self._control.active_faults()

    async def _capture(self, _request: dict[str, Any]) -> Any:
        return await self._control.capture()

    async def _restore(self, request: dict[str, Any]) -> Any:
        await self._control.restore(request["state"])
        return None

    async def _freeze(self, request: dict[str, Any]) -> Any:
        await self._control.freeze(bool(request["frozen"]))
        return None

    async def _wait_scans(self, request: dict[str, Any]) -> Any:
        async with asyncio.timeout(30.0):
            await self._pad.wait_scans(int(request.get("count", 1)))
        return None

    async def _stop(self, _request: dict[str, Any]) -> Any:
        self.stopping.set()
        return None


def _write(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, allow_nan=False, default=str) + "\n")
    sys.stdout.flush()


async def _report_lag(clock: FollowerClock) -> None:
    """How late this process's loop wakes (starved of CPU, a long scan), measured as padctl
    measures its own (`LoopLagMonitor`) and reported to padctl's clock: its rate governor
    slows the pad's time for the simulator as for its own loop."""
    monitor = LoopLagMonitor(clock)
    monitor.add_listener(lambda lag: clock.report_lag(lag.recent_max_wall_s))
    await monitor.run(Pulse(clock))


async def _serve(args: argparse.Namespace, definition: PadDefinition) -> None:
    clock = FollowerClock(Path(args.clock)) if args.clock else ScaledClock(args.rate)
    lag_reporter = (
        asyncio.create_task(_report_lag(clock), name="sim-lag")
        if isinstance(clock, FollowerClock)
        else None
    )
    model = PadModel(definition)
    process = FreezableProcess(model)
    pad = SimulatedPad(definition, clock, process=process, scan_wall_s=args.scan_wall_s)
    await pad.start()
    # The PLC servers and the physics live as long as the process: out of the collector's full
    # passes (measured: 120-140 ms for each pass over the OPC UA address space and the servers'
    # half a million objects, on a quiet machine; under 0.1 ms once frozen).
    freeze_start_up()
    channel = ControlChannel(pad, PadControl(pad, process), model)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, channel.stopping.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        _write({"ready": True, "endpoints": pad.endpoints()})
        stop = asyncio.ensure_future(channel.stopping.wait())
        while not channel.stopping.is_set():
            read = asyncio.ensure_future(reader.readline())
            await asyncio.wait([read, stop], return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                read.cancel()
                break
            line = read.result()
            if not line:  # the parent went away
                break
            if line.strip():
                _write(await channel.handle(line.decode("utf-8", errors="replace")))
        stop.cancel()
    finally:
        if lag_reporter is not None:
            lag_reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag_reporter
        await pad.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.process", description=__doc__)
    parser.add_argument("--definition", required=True, help="pad definition as JSON")
    parser.add_argument("--clock", help="the shared clock file padctl publishes")
    parser.add_argument("--rate", type=float, default=1.0, help="clock rate without --clock")
    parser.add_argument("--scan-wall-s", type=float, default=None)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    configure_logging(level=args.log_level)
    definition = PadDefinition.model_validate_json(Path(args.definition).read_text("utf-8"))
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(args, definition))
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(args, definition))


if __name__ == "__main__":
    main()
