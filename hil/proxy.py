"""A TCP fault proxy for Modbus links: latency, jitter, stalls, resets, corrupt/duplicate replies.

It sits between padctl and a PLC (real or simulated), forwards every byte in order, and plays
the faults it is told to, changeable while it runs:

    async with FaultProxy(upstream_host="10.0.0.5", upstream_port=502) as proxy:
        proxy.set_faults(latency_to_client_ms=50, jitter_to_client_ms=10)
        proxy.stall()            # accept, never forward; open connections freeze
        proxy.resume()
        proxy.freeze()           # the open connections alone freeze; new ones flow
        await proxy.reset()      # every open connection gets a TCP reset, both ways
        proxy.set_faults(corrupt_fraction=0.01, duplicate_after_ms=200)
        proxy.clear()

Times are wall time (a network is not sped up with a scaled clock). Bytes are never
reordered or dropped except by a fault that says so: corruption changes bytes of a reply, a
reset drops what is in flight, and a duplicate still pending when the server closes is not
sent. As on a real path, what a peer sent before closing its end during a stall or freeze is
still delivered when the path heals (then the end of stream); a peer that resets its end
(TCP RST) drops the connection and what it held.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from hil._proxy_faults import ALL_CORRUPTIONS, Faults, FaultSettingError
from hil._proxy_link import ProxiedConnection, ProxyControl, ProxyStats, reset_on_close
from hil._proxy_mbap import CorruptionKind

log = structlog.get_logger()

__all__ = [
    "ALL_CORRUPTIONS",
    "CorruptionKind",
    "FaultProxy",
    "FaultSettingError",
    "Faults",
    "ProxyStats",
]


class FaultProxy:
    """Listens on `listen_host:listen_port` (0: ephemeral) and forwards to the upstream."""

    def __init__(
        self,
        *,
        upstream_host: str,
        upstream_port: int,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        faults: Faults | None = None,
        modbus: bool = True,
        seed: int | None = None,
        connect_timeout_s: float = 5.0,
    ) -> None:
        """`modbus=False` passes replies as raw bytes (no corruption or duplicates then)."""
        self._upstream = (upstream_host, upstream_port)
        self._listen = (listen_host, listen_port)
        self._control = ProxyControl(faults or Faults(), seed=seed, modbus=modbus)
        self._connect_timeout_s = connect_timeout_s
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._connections: set[ProxiedConnection] = set()
        self._port = 0

    # ---- lifecycle ----------------------------------------------------------------------
    async def start(self) -> int:
        """Start listening; returns the bound port."""
        if self._server is not None:
            return self._port
        self._server = await asyncio.start_server(self._accept, *self._listen)
        self._port = int(self._server.sockets[0].getsockname()[1])
        log.info(
            "fault_proxy_listening",
            listen=f"{self._listen[0]}:{self._port}",
            upstream=f"{self._upstream[0]}:{self._upstream[1]}",
        )
        return self._port

    async def stop(self) -> None:
        """Stop listening, close every connection, and wait until no task of it is left."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for connection in list(self._connections):
            connection.abort(rst=False)
        handlers = list(self._handlers)
        for handler in handlers:
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> FaultProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- what it is ---------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self._listen[0]

    @property
    def port(self) -> int:
        """The bound port (0 before start)."""
        return self._port

    @property
    def upstream(self) -> tuple[str, int]:
        return self._upstream

    @property
    def faults(self) -> Faults:
        return self._control.faults

    @property
    def stats(self) -> ProxyStats:
        """The live counters (read them; do not change them)."""
        return self._control.stats

    def status_line(self) -> str:
        """One line: where, which faults, and the counters."""
        upstream = f"{self._upstream[0]}:{self._upstream[1]}"
        frozen = f" | {self.frozen} frozen" if self.frozen else ""
        return (
            f"proxy {self._listen[0]}:{self._port} -> {upstream} | "
            f"{self.faults.describe()} | {self.stats.describe()}{frozen}"
        )

    # ---- faults -------------------------------------------------------------------------
    def set_faults(self, **changes: Any) -> Faults:
        """Change some fault settings now (FaultSettingError, and nothing changed, if bad)."""
        faults = self._control.faults.changed(**changes)
        self._control.apply(faults)
        log.info("fault_proxy_faults", faults=faults.describe())
        return faults

    def set_latency(self, latency_ms: float, jitter_ms: float = 0.0) -> Faults:
        """The same latency and jitter both ways."""
        return self.set_faults(
            latency_to_server_ms=latency_ms,
            latency_to_client_ms=latency_ms,
            jitter_to_server_ms=jitter_ms,
            jitter_to_client_ms=jitter_ms,
        )

    def stall(self) -> None:
        """Accept, never forward: every connection freezes until `resume()`."""
        self.set_faults(stalled=True)

    def resume(self) -> None:
        """End a stall or freeze: held bytes flow on, in order."""
        self.set_faults(stalled=False)
        self._thaw()

    def freeze(self) -> int:
        """Freeze the connections open now (new ones flow): a path lost for old flows only,
        as when a firewall or NAT forgets them. Returns how many; `resume()` thaws them."""
        for connection in self._connections:
            connection.thawed.clear()
        log.info("fault_proxy_frozen", connections=len(self._connections))
        return len(self._connections)

    @property
    def frozen(self) -> int:
        """How many open connections are frozen."""
        return sum(1 for c in self._connections if not c.thawed.is_set())

    def _thaw(self) -> None:
        for connection in self._connections:
            connection.thawed.set()

    def clear(self) -> None:
        """Every fault off (a stall or freeze ends; nothing is reset)."""
        self._control.apply(Faults())
        self._thaw()
        log.info("fault_proxy_faults", faults=self.faults.describe())

    async def reset(self) -> int:
        """Reset every open connection (TCP RST to both peers); returns how many."""
        connections = list(self._connections)
        for connection in connections:
            connection.abort(rst=True)
        self._control.stats.connections_reset += len(connections)
        log.info("fault_proxy_reset", connections=len(connections))
        await asyncio.sleep(0)  # let the handlers see their ends go
        return len(connections)

    # ---- connections --------------------------------------------------------------------
    async def _accept(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        stats = self._control.stats
        stats.connections_total += 1
        try:
            if self._control.faults.refusing:
                stats.connections_refused += 1
                reset_on_close(client_writer)
                client_writer.transport.abort()
                return
            try:
                upstream = await asyncio.wait_for(
                    asyncio.open_connection(*self._upstream), self._connect_timeout_s
                )
            except (OSError, TimeoutError) as error:
                log.warning("fault_proxy_upstream_unreachable", error=str(error) or repr(error))
                reset_on_close(client_writer)
                client_writer.transport.abort()
                return
            connection = ProxiedConnection(self._control, (client_reader, client_writer), upstream)
            self._connections.add(connection)
            stats.connections_open += 1
            try:
                await connection.run()
            finally:
                stats.connections_open -= 1
                self._connections.discard(connection)
        except asyncio.CancelledError:
            # Only stop() cancels a handler. The server owns this task, and Python 3.11's
            # stream server reads a cancelled handler's exception() in a callback, which
            # raises there: so the handler ends normally instead.
            pass
        finally:
            self._handlers.discard(task)
