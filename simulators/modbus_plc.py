"""A simulated Modbus TCP PLC: a pymodbus server whose data tables match a pad definition."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from padctl.definition import ModbusAddress, ModbusPlc, ModbusTable, Tag, TagType
from simulators._codec import TagValue, modbus_registers, modbus_value

log = structlog.get_logger()

# Function codes by table: pymodbus' datastore maps read and write codes alike to a table.
_FUNCTION_CODE = {
    ModbusTable.COIL: 1,
    ModbusTable.DISCRETE_INPUT: 2,
    ModbusTable.HOLDING_REGISTER: 3,
    ModbusTable.INPUT_REGISTER: 4,
}


# Function codes of client writes: single/multiple coils, single/multiple registers.
_CLIENT_WRITES = {
    5: ModbusTable.COIL,
    15: ModbusTable.COIL,
    6: ModbusTable.HOLDING_REGISTER,
    16: ModbusTable.HOLDING_REGISTER,
}


@dataclass
class _Run:
    """Consecutive read-only tags of one table, pushed to the datastore with one call."""

    table: ModbusTable
    start: int
    tags: list[Tag] = field(default_factory=list)
    end: int = 0
    dirty: bool = True


class ModbusPlcServer:
    """One simulated Modbus PLC: its tags' data tables, served on a TCP port."""

    def __init__(self, *, plc: ModbusPlc, tags: Sequence[Tag]) -> None:
        self._plc = plc
        self._tags = list(tags)
        self._addresses = {tag.name: ModbusAddress.parse(tag.address) for tag in self._tags}
        self._tag_by_name = {tag.name: tag for tag in self._tags}
        self._values: dict[str, TagValue] = {}
        for tag in self._tags:
            initial: TagValue = bool(tag.safe) if tag.type is TagType.BOOL else 0.0
            if tag.writable and tag.safe is not None and tag.type is not TagType.BOOL:
                initial = float(tag.safe)
            elif tag.range is not None and not tag.in_range(0.0):
                initial = tag.range[0]
            self._values[tag.name] = initial
        self._runs, self._run_of = self._plan_runs()
        # Channel status bits this PLC raises itself while a channel reads NaN (failed).
        self._status_of = {
            tag.name: tag.status_tag
            for tag in self._tags
            if tag.status_tag is not None and tag.status_tag in self._values
        }
        self._server: ModbusTcpServer | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self.port = 0
        # Called as listener(table, offset, values) when a client writes (benchmarks, tests).
        self.write_listeners: list[Callable[[ModbusTable, int, list[int] | list[bool]], None]] = []

    @property
    def plc(self) -> ModbusPlc:
        return self._plc

    def _plan_runs(self) -> tuple[list[_Run], dict[str, _Run]]:
        runs: list[_Run] = []
        run_of: dict[str, _Run] = {}
        ordered = sorted(
            (tag for tag in self._tags if not tag.writable),
            key=lambda t: (self._addresses[t.name].table.value, self._addresses[t.name].offset),
        )
        current: _Run | None = None
        for tag in ordered:
            address = self._addresses[tag.name]
            width = 1 if address.table.is_bit_table else tag.type.register_count
            if (
                current is None
                or current.table is not address.table
                or address.offset != current.end
            ):
                current = _Run(table=address.table, start=address.offset, end=address.offset)
                runs.append(current)
            current.tags.append(tag)
            current.end = address.offset + width
            run_of[tag.name] = current
        return runs, run_of

    def _device(self) -> SimDevice:
        sizes = {table: 16 for table in ModbusTable}
        for tag in self._tags:
            address = self._addresses[tag.name]
            width = 1 if address.table.is_bit_table else tag.type.register_count
            sizes[address.table] = max(sizes[address.table], address.offset + width)

        def bits(table: ModbusTable) -> list[SimData]:
            count = (sizes[table] + 15) // 16 * 16
            return [SimData(0, count=count, values=False, datatype=DataType.BITS)]

        def registers(table: ModbusTable) -> list[SimData]:
            return [SimData(0, count=sizes[table], values=0, datatype=DataType.REGISTERS)]

        return SimDevice(
            id=self._plc.unit_id,
            action=self._on_request,
            simdata=(
                bits(ModbusTable.COIL),
                bits(ModbusTable.DISCRETE_INPUT),
                registers(ModbusTable.HOLDING_REGISTER),
                registers(ModbusTable.INPUT_REGISTER),
            ),
        )

    async def _on_request(
        self,
        function_code: int,
        _start_address: int,
        address: int,
        _count: int,
        _registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> None:
        """pymodbus calls this for every request; client writes are passed to listeners."""
        table = _CLIENT_WRITES.get(function_code)
        if table is not None and set_values is not None:
            for listener in self.write_listeners:
                listener(table, address, set_values)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve on `host:port` (0: ephemeral); returns the bound port."""
        server = ModbusTcpServer(context=self._device(), address=(host, port))
        self._server = server
        self._serve_task = asyncio.create_task(
            server.serve_forever(), name=f"sim-modbus-{self._plc.id}"
        )
        for _ in range(500):
            listener = getattr(server, "transport", None)
            if listener is not None and getattr(listener, "sockets", None):
                break
            if self._serve_task.done():
                self._serve_task.result()
            await asyncio.sleep(0.002)
        else:
            raise RuntimeError(f"simulated PLC {self._plc.id} did not start listening")
        self.port = int(server.transport.sockets[0].getsockname()[1])
        for run in self._runs:
            run.dirty = True
        for tag in self._tags:
            if tag.writable:
                await self._put(tag, self._values[tag.name])
        await self._push_dirty_runs()
        log.info("sim_plc_listening", plc=self._plc.id, protocol="modbus", port=self.port)
        return self.port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()
        task, self._serve_task = self._serve_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _context(self):  # type: ignore[no-untyped-def]
        assert self._server is not None, "simulated PLC not started"
        return self._server.context

    async def commands(self) -> dict[str, TagValue]:
        """Current values of the writable tags, as padctl last wrote them."""
        result: dict[str, TagValue] = {}
        for tag in self._tags:
            if tag.writable:
                result[tag.name] = await self._get(tag)
        return result

    async def read_value(self, name: str) -> TagValue:
        """The value the PLC holds for any of its tags (for tests and instructors)."""
        return await self._get(self._tag_by_name[name])

    async def set_values(self, values: Mapping[str, TagValue]) -> None:
        """Set tags' values: measurements, the PLC heartbeat, or outputs forced safe.

        A NaN measurement is a failed channel: an integer tag carries its `fail_raw`, and the
        PLC sets the tag's `status_tag`.
        """
        if self._status_of:
            values = {**values, **self._channel_status(values)}
        for name, value in values.items():
            if name not in self._values:
                raise KeyError(f"PLC {self._plc.id} has no tag {name!r}")
            run = self._run_of.get(name)
            if run is None:  # a writable tag: forced by the PLC itself
                self._values[name] = value
                await self._put(self._tag_by_name[name], value)
            elif self._values[name] != value:
                self._values[name] = value
                run.dirty = True
        await self._push_dirty_runs()

    def _channel_status(self, values: Mapping[str, TagValue]) -> dict[str, bool]:
        return {
            status: isinstance(value, float) and math.isnan(value)
            for name, value in values.items()
            if (status := self._status_of.get(name)) is not None
        }

    async def _push_dirty_runs(self) -> None:
        if self._server is None:
            return
        context = self._context()
        for run in self._runs:
            if not run.dirty:
                continue
            run.dirty = False
            if run.table.is_bit_table:
                payload: list[int] | list[bool] = [bool(self._values[t.name]) for t in run.tags]
            else:
                payload = []
                for tag in run.tags:
                    payload.extend(self._encode(tag, self._values[tag.name]))
            await context.async_setValues(
                self._plc.unit_id, _FUNCTION_CODE[run.table], run.start, payload
            )

    def _encode(self, tag: Tag, value: TagValue) -> list[int]:
        return modbus_registers(tag, value, self._plc.word_order)

    async def _put(self, tag: Tag, value: TagValue) -> None:
        if self._server is None:
            return
        address = self._addresses[tag.name]
        payload: list[int] | list[bool] = (
            [bool(value)] if address.table.is_bit_table else self._encode(tag, value)
        )
        await self._context().async_setValues(
            self._plc.unit_id, _FUNCTION_CODE[address.table], address.offset, payload
        )

    async def _get(self, tag: Tag) -> TagValue:
        address = self._addresses[tag.name]
        width = 1 if address.table.is_bit_table else tag.type.register_count
        raw = await self._context().async_getValues(
            self._plc.unit_id, _FUNCTION_CODE[address.table], address.offset, width
        )
        if address.table.is_bit_table:
            return bool(raw[0])
        return modbus_value(tag, list(raw), self._plc.word_order)
