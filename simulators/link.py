"""The simulated PLC's network link: a TCP relay in front of its server, for link faults.

A real PLC's link can drop (cable pulled: connections reset, nothing listens), or the PLC can
stall (its CPU busy or hung: connections are accepted but nothing is ever answered). The relay
owns the public port and forwards to the protocol server on a private port, so both faults
can be played against any protocol without touching the server.
"""

from __future__ import annotations

import asyncio
import enum
from typing import cast

import structlog

log = structlog.get_logger()


class LinkState(enum.StrEnum):
    UP = "up"
    DOWN = "down"  # connections reset, new ones refused
    STALLED = "stalled"  # connections accepted, nothing forwarded either way


class LinkRelay:
    """Forwards TCP connections from a public port to the server's private port.

    The bytes go by protocol callbacks, one transport's data written to the other's, with no
    task per connection: the relay sits on every PLC exchange of the simulated pad.
    """

    def __init__(self, *, name: str, target_host: str, target_port: int) -> None:
        self._name = name
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._host = "127.0.0.1"
        self._port = 0
        self._state = LinkState.UP
        self._ends: set[_End] = set()
        self._connecting: set[asyncio.Task[None]] = set()

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def port(self) -> int:
        return self._port

    @property
    def forwarding(self) -> bool:
        return self._state is LinkState.UP

    def retarget(self, target_host: str, target_port: int) -> None:
        """Forward new connections to another private port (after a server restart)."""
        self._target = (target_host, target_port)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on `host:port` (0: ephemeral); returns the bound port."""
        self._host = host
        await self._listen(port)
        return self._port

    async def _listen(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _End(self, accepted=True), self._host, port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self._close_listener()
        await self.reset_connections()

    async def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def reset_connections(self) -> None:
        """Close every relayed connection (both sides)."""
        for task in list(self._connecting):
            task.cancel()
        await asyncio.gather(*self._connecting, return_exceptions=True)
        for end in list(self._ends):
            end.abort()
        self._ends.clear()

    async def set_state(self, state: LinkState) -> None:
        """Bring the link up, down, or stall it."""
        previous, self._state = self._state, state
        log.info("sim_link_state", plc=self._name, state=state.value, previous=previous.value)
        if state is LinkState.DOWN:
            await self._close_listener()
            await self.reset_connections()
        elif self._server is None:
            await self._listen(self._port)

    # ---- the ends of a relayed connection (called by _End) ----------------------------------
    def accepted(self, client: _End) -> None:
        if self._state is LinkState.DOWN:
            client.abort()
            return
        self._ends.add(client)  # what it sends meanwhile waits in it (_End.connected)
        task = asyncio.ensure_future(self._connect(client))
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)

    async def _connect(self, client: _End) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, server = await loop.create_connection(
                lambda: _End(self, accepted=False), *self._target
            )
        except OSError:
            client.abort()
            return
        except asyncio.CancelledError:
            client.abort()
            raise
        if client.closed:
            server.abort()
            return
        server.peer = client
        client.connected(server)
        self._ends.add(server)

    def lost(self, end: _End) -> None:
        self._ends.discard(end)
        if end.peer is not None:
            end.peer.abort()


class _End(asyncio.Protocol):
    """One side of a relayed connection: what it receives goes to its peer while the link
    forwards; a stalled link swallows it, as a hung PLC swallows requests."""

    def __init__(self, relay: LinkRelay, *, accepted: bool) -> None:
        self._relay = relay
        self._accepted = accepted  # a client of the public port (else the server's side)
        self.transport: asyncio.Transport | None = None
        self.peer: _End | None = None
        self.closed = False
        self._early: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        if self._accepted:
            self._relay.accepted(self)

    def data_received(self, data: bytes) -> None:
        if not self._relay.forwarding:
            return
        peer = self.peer
        if peer is None or peer.transport is None:
            self._early.append(data)  # before the server side is connected
        else:
            peer.transport.write(data)

    def connected(self, peer: _End) -> None:
        """The other side is connected: what came meanwhile goes first."""
        self.peer = peer
        early, self._early = self._early, []
        if early and peer.transport is not None:
            peer.transport.write(b"".join(early))

    def pause_writing(self) -> None:  # the peer sends faster than this side drains
        if self.peer is not None:
            self.peer.pause()

    def resume_writing(self) -> None:
        if self.peer is not None:
            self.peer.resume()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._relay.lost(self)

    def pause(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def abort(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.abort()
