"""Modbus TCP hub: one supervised pymodbus connection per PLC, coalesced scans, writes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import structlog
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from padctl.clock import Clock, wait_event
from padctl.definition import ModbusAddress, ModbusPlc, ModbusTable, Tag, TagType
from padctl.plant._errors import CommError, WriteFailed, WriteRefused
from padctl.plant._modbus_codec import ReadBlock, encode_registers, plan_read_blocks
from padctl.plant._sample import TagValue
from padctl.plant._tag_table import TagGroup, TagTable
from padctl.plant._value_kind import checked_kind
from padctl.supervisor import Pulse
from padctl.tasks import cancel_and_wait
from padctl.timeouts import within_wall

log = structlog.get_logger()
_T = TypeVar("_T")

# pymodbus's own timeout is only a backstop: padctl bounds every request itself, with a
# timeout that a stall of its own loop does not spend (`within_wall`). pymodbus's timer would
# fire at the end of such a stall before the reply that came meanwhile is read, and a 320 ms
# stall under load dropped every Modbus link at once.
_PYMODBUS_BACKSTOP_WALL_S = 60.0


class ModbusHub:
    """Keeps one Modbus PLC's tags fresh in the tag table and writes its outputs.

    Requests are serialised by a lock (pymodbus allows one in flight per client), taken per
    request so a command write waits for at most one block read, never a whole scan.
    """

    def __init__(
        self,
        *,
        plc: ModbusPlc,
        tags: Sequence[Tag],
        table: TagTable,
        clock: Clock,
        coalesce: bool = True,
    ) -> None:
        """`coalesce=False` reads one tag per request (only to measure what coalescing saves)."""
        self._plc = plc
        self._table = table
        self._clock = clock
        self._blocks = plan_read_blocks(
            tags, default_word_order=plc.word_order, max_gap=32 if coalesce else -1
        )
        self._groups = [table.group(block.names) for block in self._blocks]
        self._lock = asyncio.Lock()
        self._client: AsyncModbusTcpClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_scan = asyncio.Event()
        self._outage_since_s: float | None = None
        self.scan_count = 0
        self.requests_sent = 0
        self.last_scan_duration_s = 0.0

    @property
    def plc_id(self) -> str:
        return self._plc.id

    @property
    def blocks(self) -> list[ReadBlock]:
        return self._blocks

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    @property
    def deadline_wall_s(self) -> float:
        """The longest a healthy hub goes without progress: a connect, a backoff, a scan."""
        plc = self._plc
        return 2 * plc.timeout_s + plc.reconnect_max_s + plc.poll_period_s + 1.0

    async def start(self) -> None:
        """Run the hub on its own task (tools; a station runs `run` under its supervisor)."""
        if self._task is None:
            self._task = asyncio.create_task(
                self.run(Pulse(self._clock)), name=f"modbus-hub-{self.plc_id}"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self._close_client()

    async def wait_connected(self, timeout_wall_s: float) -> bool:
        return await wait_event(self._clock, self._first_scan, 0.0, wall_floor_s=timeout_wall_s)

    def mark_all_bad(self, reason: str) -> None:
        """The data this hub serves cannot be trusted now (its task is down)."""
        now_s = self._clock.now()
        for group in self._groups:
            self._table.mark_bad(group, reason=f"PLC {self.plc_id}: {reason}", t_received_s=now_s)

    async def run(self, pulse: Pulse) -> None:
        """Connect, scan forever, reconnect with backoff; never returns."""
        self._backoff_s = self._plc.reconnect_min_s
        while True:
            pulse.beat()
            try:
                await self.connect()
                await self._scan_forever(pulse)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: drop the connection, retry with backoff
                if not isinstance(error, (CommError, ModbusException, OSError, TimeoutError)):
                    log.error("plc_reply_rejected", plc=self.plc_id, error=repr(error))
                self._close_client()
                self._report_outage(error)
                await self._clock.wall_sleep(self._backoff_s)
                self._backoff_s = min(self._backoff_s * 2, self._plc.reconnect_max_s)

    def _report_outage(self, error: BaseException) -> None:
        if self._outage_since_s is None:
            self._outage_since_s = self._clock.monotonic()
            log.error("plc_connection_lost", plc=self.plc_id, error=str(error) or repr(error))
        else:
            log.debug("plc_connection_still_lost", plc=self.plc_id, error=str(error))

    def _recovered(self) -> None:
        self._first_scan.set()
        self._backoff_s = self._plc.reconnect_min_s  # a good scan: the next outage starts over
        if self._outage_since_s is not None:
            log.info(
                "plc_connection_restored",
                plc=self.plc_id,
                outage_s=round(self._clock.monotonic() - self._outage_since_s, 3),
            )
            self._outage_since_s = None

    async def connect(self) -> None:
        """Open the connection (the supervisor does this; public for one-shot tools)."""
        self._close_client()
        client = AsyncModbusTcpClient(
            self._plc.host,
            port=self._plc.port,
            timeout=_PYMODBUS_BACKSTOP_WALL_S,
            retries=0,
            reconnect_delay=0,  # padctl supervises reconnection itself, with backoff
        )
        self._client = client
        if not await self._bounded(client.connect(), "connect"):
            raise CommError(self.plc_id, f"cannot connect to {self._plc.host}:{self._plc.port}")

    def _close_client(self) -> None:
        """Abort the connection (RST, not an orderly close): a request padctl gave up on must
        never reach the PLC later, after a newer one, when a stalled path heals."""
        client, self._client = self._client, None
        if client is None:
            return
        transport = getattr(client.ctx, "transport", None) if client.ctx is not None else None
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()

    async def _scan_forever(self, pulse: Pulse) -> None:
        period_s = self._plc.poll_period_s  # wall seconds
        clock = self._clock
        next_scan_s = clock.monotonic()
        first = True
        while True:
            started_s = clock.monotonic()
            await self.scan_once()
            self.last_scan_duration_s = clock.monotonic() - started_s
            self.scan_count += 1
            pulse.beat()
            if first:
                self._recovered()
                first = False
            next_scan_s += period_s
            now_s = clock.monotonic()
            if next_scan_s < now_s:  # overran: start again from now, don't burst
                next_scan_s = now_s + period_s
            await clock.wall_sleep(next_scan_s - now_s)

    async def scan_once(self) -> None:
        """Read every block once into the tag table; raise CommError if the PLC is silent."""
        for block, group in zip(self._blocks, self._groups, strict=True):
            await self._read_block(block, group)

    async def _read_block(self, block: ReadBlock, group: TagGroup) -> None:
        client = self._require_client()
        async with self._lock:
            sent_s = self._clock.now()
            read = getattr(client, _READ_METHODS[block.table])
            self.requests_sent += 1
            response = await self._bounded(
                read(block.start, count=block.count, device_id=self._plc.unit_id),
                f"read {block.table.value}:{block.start}+{block.count}",
            )
        received_s = self._clock.now()
        if response.isError():
            self._table.mark_bad(
                group,
                reason=f"PLC {self.plc_id} refused read {block.table.value}:{block.start}"
                f"+{block.count}: {response}",
                t_received_s=received_s,
            )
            return
        problem = _reply_problem(block, response)
        if problem:  # never decode a reply of the wrong kind or size into tag values
            raise CommError(self.plc_id, f"reply to {block.table.value}:{block.start}: {problem}")
        if block.table.is_bit_table:
            values = block.decode_bits(response.bits)
        else:
            values = block.decode_registers(response.registers)
        self._table.update_group(group, values, t_source_s=sent_s, t_received_s=received_s)

    async def _bounded(self, request: Awaitable[_T], what: str) -> _T:
        """One request, within the PLC's timeout (wall seconds; a stall of padctl's own loop
        not counted); CommError naming it if the PLC stays silent."""
        try:
            return await within_wall(request, self._plc.timeout_s, what)
        except TimeoutError as error:
            raise CommError(self.plc_id, str(error)) from error

    def _require_client(self) -> AsyncModbusTcpClient:
        client = self._client
        if client is None or not client.connected:
            raise CommError(self.plc_id, "not connected")
        return client

    async def write(self, tag: Tag, value: TagValue) -> None:
        """Write one engineering value (already checked against the allow-list and range)."""
        address = ModbusAddress.parse(tag.address)
        if not address.table.is_writable:
            raise WriteRefused(tag.name, f"{address} is in a read-only Modbus table")
        if tag.type is TagType.BOOL:
            checked_kind(tag, value)
            registers: list[int] = []
        else:
            registers = encode_registers(tag, value, self._plc.word_order)
        try:
            client = self._require_client()
            async with self._lock:
                if tag.type is TagType.BOOL:
                    request = client.write_coil(
                        address.offset, bool(value), device_id=self._plc.unit_id
                    )
                else:
                    request = client.write_registers(
                        address.offset, registers, device_id=self._plc.unit_id
                    )
                response = await self._bounded(request, f"write {tag.name}")
        except (ModbusException, OSError, TimeoutError) as error:
            raise CommError(self.plc_id, f"write {tag.name}: {error}") from error
        if response.isError():
            raise WriteFailed(tag.name, f"PLC {self.plc_id} answered {response}")


_FUNCTION_CODES = {  # the read function each table answers with
    ModbusTable.COIL: 1,
    ModbusTable.DISCRETE_INPUT: 2,
    ModbusTable.HOLDING_REGISTER: 3,
    ModbusTable.INPUT_REGISTER: 4,
}
_READ_METHODS = {
    ModbusTable.COIL: "read_coils",
    ModbusTable.DISCRETE_INPUT: "read_discrete_inputs",
    ModbusTable.HOLDING_REGISTER: "read_holding_registers",
    ModbusTable.INPUT_REGISTER: "read_input_registers",
}


def _reply_problem(block: ReadBlock, response: Any) -> str:
    """Why a read reply cannot be the answer to `block` ("" when it can)."""
    expected_function = _FUNCTION_CODES[block.table]
    if getattr(response, "function_code", expected_function) != expected_function:
        return f"function code {response.function_code}, expected {expected_function}"
    if block.table.is_bit_table:
        bits = getattr(response, "bits", None)
        # Bits come in whole bytes: at least `count`, fewer than `count` + 8.
        if bits is None or not block.count <= len(bits) < block.count + 8:
            return f"{0 if bits is None else len(bits)} bits for {block.count} requested"
    else:
        registers = getattr(response, "registers", None)
        if registers is None or len(registers) != block.count:
            got = 0 if registers is None else len(registers)
            return f"{got} registers for {block.count} requested"
    return ""
