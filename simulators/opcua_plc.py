"""A simulated OPC UA PLC: an asyncua server whose variables match one PLC of a pad definition."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from asyncua import Server, ua

from padctl.clock import Clock
from padctl.definition import OpcUaPlc, Tag, TagType
from padctl.opcua_security import PasswordUsers, configure_security
from padctl.opcua_security import ServerSecurity as SimServerSecurity
from simulators._codec import OPCUA_VARIANT_TYPE, TagValue, opcua_raw, opcua_value
from simulators._opcua_address_space import SharedStandardNodesServer

log = structlog.get_logger()

__all__ = ["OpcUaPlcServer", "SimServerSecurity"]

_YIELD_EVERY_WRITES = 100  # let the server's subscriptions publish between bursts of writes
_DATA_TYPES = {
    TagType.BOOL: ua.ObjectIds.Boolean,
    TagType.UINT16: ua.ObjectIds.UInt16,
    TagType.INT16: ua.ObjectIds.Int16,
    TagType.INT32: ua.ObjectIds.Int32,
    TagType.UINT32: ua.ObjectIds.UInt32,
    TagType.FLOAT32: ua.ObjectIds.Float,
    TagType.FLOAT64: ua.ObjectIds.Double,
}
_STATUS_OF_QUALITY = {
    "GOOD": ua.StatusCodes.Good,
    "UNCERTAIN": ua.StatusCodes.UncertainLastUsableValue,
    "BAD": ua.StatusCodes.BadSensorFailure,
}


class _SharedDataValue(ua.DataValue):
    """A DataValue the simulator never changes after writing it, so not worth copying.

    asyncua's server deep-copies every written value once per monitored item (about 90 us
    each): at 1,000 tags that alone is ~100 ms per full update, longer than a publishing interval.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> _SharedDataValue:
        return self


class OpcUaPlcServer:
    """One simulated OPC UA PLC: a variable per tag under an object named after the PLC."""

    def __init__(
        self,
        *,
        plc: OpcUaPlc,
        tags: Sequence[Tag],
        security: SimServerSecurity | None = None,
        clock: Clock | None = None,
    ) -> None:
        foreign = [tag.name for tag in tags if tag.plc != plc.id]
        if foreign:
            raise ValueError(f"tags {foreign} do not belong to PLC {plc.id}")
        self._plc = plc
        self._tags = list(tags)
        self._tag_by_name = {tag.name: tag for tag in self._tags}
        self._security = security
        self._clock = clock  # source timestamps from its wall time; real UTC when None
        self._values: dict[str, TagValue] = {tag.name: _initial_value(tag) for tag in self._tags}
        self._status: dict[str, int] = {}
        self._server: Server | None = None
        self._users = PasswordUsers({}, anonymous=True)
        self._node_ids: dict[str, ua.NodeId] = {}
        self._host = "127.0.0.1"
        self.port = 0

    @property
    def plc(self) -> OpcUaPlc:
        return self._plc

    @property
    def endpoint(self) -> str:
        """The URL this server listens on (clients behind a relay dial the relay instead)."""
        return f"opc.tcp://{self._host}:{self.port}/padctl/{self._plc.id}"

    def _refused_client(self, subject: str, application_uri: str) -> None:
        log.warning(
            "sim_client_certificate_refused",
            plc=self._plc.id,
            subject=subject,
            application=application_uri,
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Build the address space and serve on `host:port` (0: ephemeral); returns the port."""
        if self._server is not None:
            raise RuntimeError(f"simulated PLC {self._plc.id} is already running")
        if self._security is None:
            users = PasswordUsers({}, anonymous=True)
        else:
            users = PasswordUsers(self._security.users, anonymous=False)
        self._users = users
        server = Server(iserver=SharedStandardNodesServer(user_manager=users))
        self._host = host
        await server.init()
        server.set_server_name(f"padctl simulated PLC {self._plc.id}")
        server.set_endpoint(f"opc.tcp://{host}:{port}/padctl/{self._plc.id}")
        server.allow_remote_admin(False)
        await configure_security(server, self._security, users, self._refused_client)
        namespace_index = await server.register_namespace(self._plc.namespace)
        self._build_address_space(server, namespace_index)
        try:
            await server.start()
        except BaseException:
            await server.stop()
            raise
        self._server = server
        await self._push(list(self._status))  # qualities set while stopped
        assert server.bserver is not None
        self.port = int(server.bserver.port)
        # Endpoints were described before the port was known; asyncua rewrites them to the URL a
        # client dialled anyway (so a relay's port is what clients see), but keep them true here.
        for endpoint in server.iserver.endpoints:
            endpoint.EndpointUrl = self.endpoint
            endpoint.Server.DiscoveryUrls = [self.endpoint]
        log.info(
            "sim_plc_listening",
            plc=self._plc.id,
            protocol="opcua",
            port=self.port,
            secured=self._security is not None,
        )
        return self.port

    def _build_address_space(self, server: Server, namespace_index: int) -> None:
        """Add the PLC object and all its variables in one call (not one service call each)."""
        plc_node = ua.NodeId(self._plc.id, namespace_index)
        folder = ua.AddNodesItem(
            RequestedNewNodeId=plc_node,
            BrowseName=ua.QualifiedName(self._plc.id, namespace_index),
            NodeClass=ua.NodeClass.Object,
            ParentNodeId=ua.NodeId(ua.ObjectIds.ObjectsFolder),
            ReferenceTypeId=ua.NodeId(ua.ObjectIds.Organizes),
            TypeDefinition=ua.NodeId(ua.ObjectIds.BaseObjectType),
            NodeAttributes=ua.ObjectAttributes(
                DisplayName=ua.LocalizedText(self._plc.id),
                Description=ua.LocalizedText(self._plc.description or self._plc.area),
                EventNotifier=0,
            ),
        )
        items = [folder]
        self._node_ids = {}
        for tag in self._tags:
            node_id = ua.NodeId(tag.address, namespace_index)
            self._node_ids[tag.name] = node_id
            access = ua.AccessLevel.CurrentRead.mask
            if tag.writable:
                access |= ua.AccessLevel.CurrentWrite.mask
            attributes = ua.VariableAttributes(
                DisplayName=ua.LocalizedText(tag.name),
                Description=ua.LocalizedText(tag.description or tag.name),
                Value=self._variant(tag),
                DataType=ua.NodeId(_DATA_TYPES[tag.type]),
                ValueRank=ua.ValueRank.Scalar,
                AccessLevel=access,
                UserAccessLevel=access,
                Historizing=False,
            )
            items.append(
                ua.AddNodesItem(
                    RequestedNewNodeId=node_id,
                    BrowseName=ua.QualifiedName(tag.name, namespace_index),
                    NodeClass=ua.NodeClass.Variable,
                    ParentNodeId=plc_node,
                    ReferenceTypeId=ua.NodeId(ua.ObjectIds.HasComponent),
                    TypeDefinition=ua.NodeId(ua.ObjectIds.BaseDataVariableType),
                    NodeAttributes=attributes,
                )
            )
        for item, result in zip(
            items, server.iserver.node_mgt_service.add_nodes(items), strict=True
        ):
            if not result.StatusCode.is_good():
                raise RuntimeError(
                    f"simulated PLC {self._plc.id}: cannot create node {item.RequestedNewNodeId}: "
                    f"{result.StatusCode.name}"
                )

    async def stop(self) -> None:
        """Stop serving (values are kept: a restarted server starts from them)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._capture_commands(server)
        await server.stop()
        # Sessions whose client vanished without closing them (a stalled or cut link) outlive
        # their connection on purpose (OPC UA Part 4 6.7), and asyncua's stop() leaves them and
        # their subscription tasks running: a stopped PLC keeps nothing.
        for session in list(server.iserver._external_sessions.values()):
            await session.close_session(True)

    def _capture_commands(self, server: Server) -> None:
        for tag in self._tags:
            if tag.writable:
                self._values[tag.name] = self._read(server, tag)

    def commands(self) -> dict[str, TagValue]:
        """Current values of the writable tags, as padctl last wrote them."""
        server = self._server
        if server is not None:
            self._capture_commands(server)
        return {tag.name: self._values[tag.name] for tag in self._tags if tag.writable}

    def value(self, name: str) -> TagValue:
        """The value the PLC holds for any of its tags (for tests and instructors)."""
        tag = self._tag(name)
        if self._server is not None:
            return self._read(self._server, tag)
        return self._values[name]

    def session_timeouts_s(self) -> list[float]:
        """The timeout (wall seconds) the server granted each session open on it now."""
        server = self._server
        if server is None:
            return []
        sessions = server.iserver._external_sessions.values()
        return [session.session_timeout for session in sessions if session.session_timeout]

    async def set_values(self, values: Mapping[str, TagValue]) -> None:
        """Set tags' values: measurements, the PLC heartbeat, or outputs forced safe.

        Only values that changed are written to the address space: an OPC UA server reports
        by exception, and padctl takes a publish (or keep-alive) as "the rest still stands"."""
        changed = []
        for name, value in values.items():
            self._tag(name)
            if self._values.get(name) != value:
                changed.append(name)
        self._values.update(values)
        await self._push(changed)

    async def set_quality(self, qualities: Mapping[str, str]) -> None:
        """Make tags report GOOD, UNCERTAIN or BAD status (sensor faults), values unchanged."""
        for name, quality in qualities.items():
            self._tag(name)
            if quality == "STALE":
                raise ValueError("STALE is judged by age in padctl; a PLC cannot report it")
            self._status[name] = _STATUS_OF_QUALITY[quality]
        await self._push(list(qualities))

    async def _push(self, names: Sequence[str]) -> None:
        """Write the named tags' values and status to the server, yielding now and then."""
        server = self._server
        if server is None:
            return
        now = self._now()
        for count, name in enumerate(names, start=1):
            tag = self._tag_by_name[name]
            await server.write_attribute_value(self._node_ids[name], self._data_value(tag, now))
            if count % _YIELD_EVERY_WRITES == 0:
                await asyncio.sleep(0)  # a yield, not a wait: subscriptions publish meanwhile

    def _tag(self, name: str) -> Tag:
        try:
            return self._tag_by_name[name]
        except KeyError:
            raise KeyError(f"PLC {self._plc.id} has no tag {name!r}") from None

    def _variant(self, tag: Tag) -> ua.Variant:
        return ua.Variant(opcua_raw(tag, self._values[tag.name]), OPCUA_VARIANT_TYPE[tag.type])

    def _data_value(self, tag: Tag, now: datetime) -> ua.DataValue:
        return _SharedDataValue(
            self._variant(tag),
            StatusCode=ua.StatusCode(self._status.get(tag.name, ua.StatusCodes.Good)),
            SourceTimestamp=now,
            ServerTimestamp=now,
        )

    def _read(self, server: Server, tag: Tag) -> TagValue:
        variant = server.read_attribute_value(self._node_ids[tag.name]).Value
        assert variant is not None
        return opcua_value(tag, variant.Value)

    def _now(self) -> datetime:
        if self._clock is None:
            return datetime.now(UTC)
        return datetime.fromtimestamp(self._clock.wall_now(), UTC)


def _initial_value(tag: Tag) -> TagValue:
    if tag.type is TagType.BOOL:
        return bool(tag.safe)
    value = float(tag.safe) if tag.writable and tag.safe is not None else 0.0
    if tag.range is not None and not tag.in_range(value):
        value = tag.range[0]
    return value if tag.type in (TagType.FLOAT32, TagType.FLOAT64) else _integral(value)


def _integral(value: float) -> float | int:
    return int(value) if math.isfinite(value) and value == int(value) else value
