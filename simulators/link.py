"""The simulated PLC's network link: a TCP relay in front of its server, for link faults.

A real PLC's link can drop (cable pulled: connections reset, nothing listens), or the PLC can
stall (its CPU busy or hung: connections are accepted but nothing is ever answered). The relay
owns the public port and forwards to the protocol server on a private port, so both faults
can be played against any protocol without touching the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum

import structlog

log = structlog.get_logger()


class LinkState(enum.StrEnum):
    UP = "up"
    DOWN = "down"  # connections reset, new ones refused
    STALLED = "stalled"  # connections accepted, nothing forwarded either way


class LinkRelay:
    """Forwards TCP connections from a public port to the server's private port."""

    def __init__(self, *, name: str, target_host: str, target_port: int) -> None:
        self._name = name
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._host = "127.0.0.1"
        self._port = 0
        self._state = LinkState.UP
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._resumed = asyncio.Event()
        self._resumed.set()

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def port(self) -> int:
        return self._port

    def retarget(self, target_host: str, target_port: int) -> None:
        """Forward new connections to another private port (after a server restart)."""
        self._target = (target_host, target_port)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on `host:port` (0: ephemeral); returns the bound port."""
        self._host = host
        self._server = await asyncio.start_server(self._accept, host, port)
        self._port = self._server.sockets[0].getsockname()[1]
        return self._port

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
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        self._pipes.clear()
        self._writers.clear()

    async def set_state(self, state: LinkState) -> None:
        """Bring the link up, down, or stall it."""
        previous, self._state = self._state, state
        log.info("sim_link_state", plc=self._name, state=state.value, previous=previous.value)
        if state is LinkState.DOWN:
            await self._close_listener()
            await self.reset_connections()
        elif state is LinkState.STALLED:
            self._resumed.clear()
            if self._server is None:
                self._server = await asyncio.start_server(self._accept, self._host, self._port)
        else:
            if self._server is None:
                self._server = await asyncio.start_server(self._accept, self._host, self._port)
            self._resumed.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._state is LinkState.DOWN:
            writer.transport.abort()
            return
        try:
            target_reader, target_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, target_writer))
        task = asyncio.current_task()
        assert task is not None
        upstream = asyncio.ensure_future(self._pipe(reader, target_writer))
        downstream = asyncio.ensure_future(self._pipe(target_reader, writer))
        self._pipes.update((upstream, downstream))
        try:
            await asyncio.wait([upstream, downstream], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in (upstream, downstream):
                pipe.cancel()
            await asyncio.gather(upstream, downstream, return_exceptions=True)
            self._pipes.difference_update((upstream, downstream))
            for end in (writer, target_writer):
                self._writers.discard(end)
                end.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                if not self._resumed.is_set():
                    # Stalled: the bytes are swallowed, as a hung PLC swallows requests.
                    await self._resumed.wait()
                    continue
                writer.write(data)
                await writer.drain()
