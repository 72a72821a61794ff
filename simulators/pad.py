"""The simulated pad: PLC servers over time-stepped physics, with PLC watchdogs and faults.

Each simulated PLC is a protocol server behind a `LinkRelay` (so link faults can be played),
running a scan like a real PLC's: read the commands padctl wrote, step the physics, publish
the measurements and its own heartbeat counter, and drive outputs safe when padctl's
heartbeat stops for the watchdog time.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Mapping
from typing import Any, Protocol

import structlog

from padctl.clock import Clock
from padctl.definition import ModbusPlc, OpcUaPlc, PadDefinition, Tag, TagType
from simulators._codec import TagValue
from simulators.link import LinkRelay, LinkState
from simulators.modbus_plc import ModbusPlcServer

log = structlog.get_logger()


class Process(Protocol):
    """The physics behind the PLCs (see simulators.pad_model.PadModel)."""

    def set_command(self, tag: str, value: TagValue) -> None: ...
    def step(self, dt_s: float) -> None: ...
    def measurements(self) -> Mapping[str, TagValue]: ...


class PlcServer(Protocol):
    """A protocol server for one simulated PLC."""

    port: int

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int: ...
    async def stop(self) -> None: ...
    def commands(self) -> dict[str, TagValue] | Awaitable[dict[str, TagValue]]: ...
    async def set_values(self, values: Mapping[str, TagValue]) -> None: ...


MAX_PHYSICS_STEP_S = 1.0


class SimulatedPlc:
    """One PLC: its server, its link relay, its heartbeat and watchdog."""

    def __init__(self, plc: ModbusPlc | OpcUaPlc, tags: list[Tag], server: PlcServer) -> None:
        self.plc = plc
        self.tags = tags
        self.server = server
        self.relay: LinkRelay | None = None
        self.heartbeat_counter = 0
        self.watchdog_tripped = False
        self._last_padctl_counter: TagValue | None = None
        self._last_counter_change_s = 0.0
        self.safe_values: dict[str, TagValue] = {
            tag.name: (bool(tag.safe) if tag.type is TagType.BOOL else float(tag.safe or 0))
            for tag in tags
            if tag.writable
        }
        if plc.heartbeat is not None:
            self.safe_values.pop(plc.heartbeat.padctl_counter_tag, None)
        self.stalled_scan = False  # a stalled PLC CPU also stops its own heartbeat

    @property
    def port(self) -> int:
        return self.relay.port if self.relay is not None else 0

    def endpoint(self) -> dict[str, Any]:
        if isinstance(self.plc, ModbusPlc):
            return {
                "id": self.plc.id,
                "protocol": "modbus",
                "host": self.plc.host,
                "port": self.port,
                "unit_id": self.plc.unit_id,
            }
        return {
            "id": self.plc.id,
            "protocol": "opcua",
            "host": _host_of(self.plc.endpoint),
            "port": self.port,
            "endpoint": self.plc.endpoint,
        }

    def watch_heartbeat(self, commands: Mapping[str, TagValue], now_wall_s: float) -> None:
        """Trip the watchdog when padctl's counter has not changed for watchdog_s (wall)."""
        heartbeat = self.plc.heartbeat
        if heartbeat is None:
            return
        counter = commands.get(heartbeat.padctl_counter_tag)
        if counter != self._last_padctl_counter:
            self._last_padctl_counter = counter
            self._last_counter_change_s = now_wall_s
            if self.watchdog_tripped:
                self.watchdog_tripped = False
                log.warning("sim_plc_watchdog_reset", plc=self.plc.id)
            return
        if (
            not self.watchdog_tripped
            and now_wall_s - self._last_counter_change_s > heartbeat.watchdog_s
        ):
            self.watchdog_tripped = True
            log.warning("sim_plc_watchdog_tripped", plc=self.plc.id, outputs="driven safe")


def _host_of(url: str) -> str:
    return url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]


class SimulatedPad:
    """All PLCs of a pad definition as servers on 127.0.0.1, over one physics process."""

    def __init__(
        self,
        definition: PadDefinition,
        clock: Clock,
        *,
        process: Process | None = None,
        host: str = "127.0.0.1",
        fixed_ports: bool = False,
        scan_wall_s: float | None = None,
        opcua_security: Any = None,
    ) -> None:
        self._definition = definition
        self._clock = clock
        self._process = process
        self._host = host
        self._fixed_ports = fixed_ports
        # the PLCs' program cycle (wall seconds): the definition's, unless a test asks
        self._scan_wall_s = (
            min(plc.scan_period_s for plc in definition.plcs)
            if scan_wall_s is None
            else scan_wall_s
        )
        self._opcua_security = opcua_security
        self.plcs: dict[str, SimulatedPlc] = {}
        self._task: asyncio.Task[None] | None = None
        self._last_step_s = 0.0
        self.scans = 0
        self._scanned = asyncio.Event()

    @property
    def definition(self) -> PadDefinition:
        """The pad definition as padctl must use it: endpoints point at these servers."""
        return self._definition

    def _make_server(self, plc: ModbusPlc | OpcUaPlc, tags: list[Tag]) -> PlcServer:
        if isinstance(plc, ModbusPlc):
            return ModbusPlcServer(plc=plc, tags=tags)
        from simulators.opcua_plc import OpcUaPlcServer

        return OpcUaPlcServer(plc=plc, tags=tags, security=self._opcua_security)  # type: ignore[return-value]

    async def start(self) -> PadDefinition:
        """Start every PLC server and the scan; returns the definition with live endpoints."""
        try:
            for plc in self._definition.plcs:
                tags = self._definition.tags_of(plc.id)
                simulated = SimulatedPlc(plc, tags, self._make_server(plc, tags))
                self.plcs[plc.id] = simulated
                private_port = await simulated.server.start(self._host, 0)
                relay = LinkRelay(name=plc.id, target_host=self._host, target_port=private_port)
                simulated.relay = relay
                public_port = _configured_port(plc) if self._fixed_ports else 0
                await relay.start(self._host, public_port)
                self._definition = self._definition.with_plc_endpoint(
                    plc.id, host=self._host, port=relay.port
                )
                simulated.plc = self._definition.plc(plc.id)
            self._last_step_s = self._clock.now()
            await self._scan_once()
            self._task = asyncio.create_task(self._scan_forever(), name="sim-pad-scan")
        except BaseException:
            await self.stop()
            raise
        return self._definition

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for simulated in self.plcs.values():
            if simulated.relay is not None:
                await simulated.relay.stop()
            await simulated.server.stop()

    async def __aenter__(self) -> SimulatedPad:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def endpoints(self) -> list[dict[str, Any]]:
        return [simulated.endpoint() for simulated in self.plcs.values()]

    async def _scan_forever(self) -> None:
        while True:
            await self._clock.wall_sleep(self._scan_wall_s)
            try:
                await self._scan_once()
            except Exception:  # a broken scan must not kill the simulated pad silently
                log.exception("sim_scan_failed")
                raise

    async def _scan_once(self) -> None:
        now_s = self._clock.now()
        now_wall_s = self._clock.monotonic()
        for simulated in self.plcs.values():
            if simulated.stalled_scan:
                continue
            commands = simulated.server.commands()
            if inspect.isawaitable(commands):  # pymodbus' datastore is read with await
                commands = await commands
            simulated.watch_heartbeat(commands, now_wall_s)
            if simulated.watchdog_tripped:
                await simulated.server.set_values(simulated.safe_values)
                commands.update(simulated.safe_values)
            if self._process is not None:
                for name, value in commands.items():
                    if name in simulated.safe_values:
                        self._process.set_command(name, value)
        if self._process is not None:
            remaining_s = now_s - self._last_step_s
            while remaining_s > 0:
                step_s = min(remaining_s, MAX_PHYSICS_STEP_S)
                self._process.step(step_s)
                remaining_s -= step_s
            measurements = self._process.measurements()
        else:
            measurements = {}
        self._last_step_s = now_s
        for simulated in self.plcs.values():
            if simulated.stalled_scan:
                continue
            values = {
                t.name: measurements[t.name] for t in simulated.tags if t.name in measurements
            }
            heartbeat = simulated.plc.heartbeat
            if heartbeat is not None:
                simulated.heartbeat_counter = (simulated.heartbeat_counter + 1) % 65536
                values[heartbeat.plc_counter_tag] = simulated.heartbeat_counter
                if heartbeat.watchdog_tag is not None:
                    values[heartbeat.watchdog_tag] = simulated.watchdog_tripped
            await simulated.server.set_values(values)
        self.scans += 1
        self._scanned.set()
        self._scanned = asyncio.Event()

    async def wait_scans(self, count: int = 1) -> None:
        """Wait until `count` more PLC scans have completed (bounded by the caller)."""
        for _ in range(count):
            await self._scanned.wait()

    async def set_values(self, plc_id: str, values: Mapping[str, TagValue]) -> None:
        """Set tags at a PLC directly (a test's or instructor's back door)."""
        await self.plcs[plc_id].server.set_values(values)

    # ---- communication faults ------------------------------------------------------------
    async def drop_link(self, plc_id: str) -> None:
        """Cable pulled: connections reset, nothing listens."""
        await self._relay(plc_id).set_state(LinkState.DOWN)

    async def stall(self, plc_id: str) -> None:
        """PLC hung: connections accepted, nothing answered, its own scan stops."""
        self.plcs[plc_id].stalled_scan = True
        await self._relay(plc_id).set_state(LinkState.STALLED)

    async def restore_link(self, plc_id: str) -> None:
        """Link (and a stalled PLC) back to normal."""
        self.plcs[plc_id].stalled_scan = False
        await self._relay(plc_id).set_state(LinkState.UP)

    async def restart_plc(self, plc_id: str) -> None:
        """Power-cycle a PLC: connections drop, its tables come back at their initial values."""
        simulated = self.plcs[plc_id]
        relay = self._relay(plc_id)
        await relay.set_state(LinkState.DOWN)
        await simulated.server.stop()
        simulated.server = self._make_server(simulated.plc, simulated.tags)
        private_port = await simulated.server.start(self._host, 0)
        relay.retarget(self._host, private_port)
        simulated.heartbeat_counter = 0
        await relay.set_state(LinkState.UP)
        log.warning("sim_plc_restarted", plc=plc_id)

    def _relay(self, plc_id: str) -> LinkRelay:
        relay = self.plcs[plc_id].relay
        if relay is None:
            raise RuntimeError(f"simulated PLC {plc_id} is not started")
        return relay


def _configured_port(plc: ModbusPlc | OpcUaPlc) -> int:
    if isinstance(plc, ModbusPlc):
        return plc.port
    return int(plc.endpoint.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
