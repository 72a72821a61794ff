"""The simulated PLC's link relay: forwards every byte, stalls and drops as a real link does."""

from __future__ import annotations

import asyncio

from simulators.link import LinkRelay, LinkState


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()


async def test_the_relay_forwards_at_once_stalls_and_drops() -> None:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    relay = LinkRelay(
        name="X", target_host="127.0.0.1", target_port=server.sockets[0].getsockname()[1]
    )
    port = await relay.start()
    writers: list[asyncio.StreamWriter] = []
    try:
        # Bytes sent the moment the connection opens (before the relay has reached the server)
        # are delivered, not lost.
        for attempt in range(3):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writers.append(writer)
            writer.write(b"request %d" % attempt)
            assert await asyncio.wait_for(reader.read(1024), 5.0) == b"request %d" % attempt
        await relay.set_state(LinkState.STALLED)  # accepted, nothing answered
        writer.write(b"swallowed")
        read = asyncio.ensure_future(reader.read(1024))
        done, _ = await asyncio.wait([read], timeout=0.3)
        assert not done
        await relay.set_state(LinkState.UP)
        writer.write(b"answered")
        assert await asyncio.wait_for(read, 5.0) == b"answered"
        await relay.set_state(LinkState.DOWN)  # connections reset, new ones refused
        assert await asyncio.wait_for(reader.read(1024), 5.0) == b""
        try:
            _, refused = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            pass
        else:
            refused.close()
            raise AssertionError("a link that is down accepted a connection")
    finally:
        for open_writer in writers:
            open_writer.transport.abort()
        await relay.stop()
        server.close()
        await server.wait_closed()
