"""One proxied TCP connection: two ordered pumps that apply the proxy's faults."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import random
import socket
import struct
from dataclasses import dataclass, field

import structlog

from hil._proxy_faults import Faults
from hil._proxy_mbap import Chunk, CorruptionKind, FrameSplitter, corrupt_frame

log = structlog.get_logger()

READ_BYTES = 65536
MAX_HELD_BYTES = 4 * 1024 * 1024  # a stalled pump stops reading beyond this (TCP pushes back)


@dataclass
class ProxyStats:
    """Counters since the proxy started."""

    connections_total: int = 0
    connections_open: int = 0
    connections_refused: int = 0
    connections_reset: int = 0
    bytes_to_server: int = 0
    bytes_to_client: int = 0
    replies: int = 0  # whole Modbus reply frames passed to clients
    replies_corrupted: int = 0
    replies_duplicated: int = 0
    corrupted_by_kind: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        return (
            f"connections {self.connections_open} open, {self.connections_total} total, "
            f"{self.connections_reset} reset, {self.connections_refused} refused | "
            f"replies {self.replies}, corrupted {self.replies_corrupted}, "
            f"duplicated {self.replies_duplicated}"
        )


class ProxyControl:
    """What every connection of one proxy shares: the faults, the dice, the counters."""

    def __init__(self, faults: Faults, *, seed: int | None, modbus: bool) -> None:
        self.faults = faults
        self.rng = random.Random(seed)
        self.modbus = modbus
        self.stats = ProxyStats()
        self.flowing = asyncio.Event()
        self.flowing.set()

    def apply(self, faults: Faults) -> None:
        self.faults = faults
        if faults.stalled:
            self.flowing.clear()
        else:
            self.flowing.set()

    def delay_s(self, *, to_client: bool) -> float:
        faults = self.faults
        if to_client:
            latency_ms, jitter_ms = faults.latency_to_client_ms, faults.jitter_to_client_ms
        else:
            latency_ms, jitter_ms = faults.latency_to_server_ms, faults.jitter_to_server_ms
        if jitter_ms:
            latency_ms += self.rng.uniform(-jitter_ms, jitter_ms)
        return max(0.0, latency_ms) / 1000.0


class _Pump:
    """Bytes from one end to the other, in order, each chunk released at its time.

    Reading goes on while the link is stalled or frozen (held bytes wait in order), so an
    end of stream from a peer is seen at once and passed on after what it held, as TCP
    would deliver a FIN once the path heals; a reset from a peer drops the connection.
    """

    def __init__(
        self,
        control: ProxyControl,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        to_client: bool,
        thawed: asyncio.Event,
    ) -> None:
        self._control = control
        self._thawed = thawed  # cleared while the connection is frozen
        self._reader = reader
        self._writer = writer
        self._to_client = to_client
        self._splitter = FrameSplitter() if to_client and control.modbus else None
        self._queue: list[tuple[float, int, bytes | None]] = []  # (release at, order, data)
        self._sequence = 0
        self._last_release_s = 0.0
        self._held_bytes = 0
        self._changed = asyncio.Event()

    async def run(self) -> None:
        """Read until end of stream, releasing what was read; returns when all is passed on."""
        sender = asyncio.ensure_future(self._send())
        try:
            await self._read()
            await sender
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._held_bytes > MAX_HELD_BYTES:
                await self._flowing()
            data = await self._reader.read(READ_BYTES)
            if not data:
                if self._splitter is not None and (rest := self._splitter.pending()):
                    self._push(Chunk(rest, is_frame=False), loop.time())
                self._push(None, loop.time())
                return
            chunks = self._splitter.feed(data) if self._splitter else [Chunk(data, False)]
            now_s = loop.time()
            for chunk in chunks:
                self._push(chunk, now_s)

    def _push(self, chunk: Chunk | None, now_s: float) -> None:
        control = self._control
        release_s = max(now_s + control.delay_s(to_client=self._to_client), self._last_release_s)
        self._last_release_s = release_s
        if chunk is None:
            self._enqueue(release_s, None)
            return
        data = chunk.data
        if chunk.is_frame:
            control.stats.replies += 1
            faults = control.faults
            if faults.corrupt_fraction and control.rng.random() < faults.corrupt_fraction:
                kind: CorruptionKind = control.rng.choice(faults.corrupt_kinds)
                data = corrupt_frame(data, kind, control.rng)
                control.stats.replies_corrupted += 1
                by_kind = control.stats.corrupted_by_kind
                by_kind[kind.value] = by_kind.get(kind.value, 0) + 1
            if faults.duplicate_after_ms and control.rng.random() < faults.duplicate_fraction:
                control.stats.replies_duplicated += 1
                self._enqueue(release_s + faults.duplicate_after_ms / 1000.0, data)
        self._enqueue(release_s, data)

    def _enqueue(self, release_s: float, data: bytes | None) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (release_s, self._sequence, data))
        self._held_bytes += len(data or b"")
        self._changed.set()

    async def _flowing(self) -> None:
        """Return once neither the whole proxy is stalled nor this connection frozen."""
        while not (self._control.flowing.is_set() and self._thawed.is_set()):
            await self._control.flowing.wait()
            await self._thawed.wait()

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        control = self._control
        while True:
            if not self._queue:
                self._changed.clear()
                await self._changed.wait()
                continue
            await self._flowing()
            release_s, _, data = self._queue[0]
            wait_s = release_s - loop.time()
            if wait_s > 0:  # a later push may be due sooner (after a pending duplicate)
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait_s)
                continue
            heapq.heappop(self._queue)
            if data is None:  # end of stream: duplicates still pending are never sent
                self._queue.clear()
                with contextlib.suppress(OSError, RuntimeError):
                    if self._writer.can_write_eof():
                        self._writer.write_eof()
                return
            self._held_bytes -= len(data)
            self._writer.write(data)
            if self._to_client:
                control.stats.bytes_to_client += len(data)
            else:
                control.stats.bytes_to_server += len(data)
            await self._writer.drain()


class ProxiedConnection:
    """A client connection and its upstream connection, pumped both ways."""

    def __init__(
        self,
        control: ProxyControl,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self._control = control
        self._client_writer = client[1]
        self._upstream_writer = upstream[1]
        self.thawed = asyncio.Event()  # cleared: this connection is frozen
        self.thawed.set()
        self._to_server = _Pump(
            control, client[0], upstream[1], to_client=False, thawed=self.thawed
        )
        self._to_client = _Pump(control, upstream[0], client[1], to_client=True, thawed=self.thawed)

    async def run(self) -> None:
        """Pump until both directions end, or one fails (a peer reset it, say)."""
        pumps = [
            asyncio.ensure_future(self._to_server.run()),
            asyncio.ensure_future(self._to_client.run()),
        ]
        clean = False
        try:
            pending: set[asyncio.Future[None]] = set(pumps)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if any(not f.cancelled() and f.exception() is not None for f in done):
                    break
            else:
                clean = True
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            if clean:  # both ends said goodbye: let the last bytes out
                for writer in (self._client_writer, self._upstream_writer):
                    writer.close()
            else:  # a peer reset its end (or the proxy stops): reset the other end too
                self.abort(rst=True)

    def abort(self, *, rst: bool) -> None:
        """Close both ends now; with `rst`, each peer gets a TCP reset instead of a FIN."""
        for writer in (self._client_writer, self._upstream_writer):
            if rst:
                reset_on_close(writer)
            writer.transport.abort()


def reset_on_close(writer: asyncio.StreamWriter) -> None:
    """Make the socket's close send RST (SO_LINGER on, 0 s), not an orderly FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
