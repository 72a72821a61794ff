"""A simulated OPC UA PLC: an asyncua server whose variables match one PLC of a pad definition."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hmac
import math
import threading
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from asyncua import Server, ua
from asyncua.common.utils import ServiceError
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.address_space import AttributeValue, NodeData
from asyncua.server.internal_server import InternalServer
from asyncua.server.standard_address_space import standard_address_space
from cryptography import x509

from padctl.clock import Clock
from padctl.definition import OpcUaPlc, Tag, TagType
from padctl.plant import Quality, TagValue
from padctl.plant._opcua_codec import VARIANT_TYPES, decode_value, encode_value
from padctl.plant._opcua_trust import (
    application_uri_of,
    is_trusted,
    load_certificate,
    load_trusted_certificates,
    read_private_key,
)

log = structlog.get_logger()

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
    Quality.GOOD: ua.StatusCodes.Good,
    Quality.UNCERTAIN: ua.StatusCodes.UncertainLastUsableValue,
    Quality.BAD: ua.StatusCodes.BadSensorFailure,
}


class _SharedDataValue(ua.DataValue):
    """A DataValue the simulator never changes after writing it, so not worth copying.

    asyncua's server deep-copies every written value once per monitored item (about 90 us
    each): at 1,000 tags that alone is ~100 ms per full update, longer than a publishing interval.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> _SharedDataValue:
        return self


@dataclass(frozen=True)
class SimServerSecurity:
    """Server certificate and key, trusted client certificates and users of a secured simulator.

    With it the server offers only Basic256Sha256 (SignAndEncrypt, and Sign), refuses client
    certificates that are not in (or directly issued by a CA in) `trusted_clients_dir`, and
    refuses anonymous users and wrong passwords.
    """

    certificate: Path
    private_key: Path
    trusted_clients_dir: Path
    users: Mapping[str, str] = field(default_factory=dict)


class _PasswordUsers:
    """Lets in exactly the configured users with their passwords (or anyone, unsecured)."""

    def __init__(self, users: Mapping[str, str], *, anonymous: bool) -> None:
        self._users = {name: password.encode() for name, password in users.items()}
        self._anonymous = anonymous
        self.trusted: list[x509.Certificate] = []

    def get_user(
        self,
        iserver: InternalServer,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if self._anonymous:
            return User(role=UserRole.User, name=username)
        if not certificate:
            # The session's secure channel is unsecured (no client certificate): asyncua would
            # let it in with the right password although only Basic256Sha256 is offered.
            return None
        if not is_trusted(x509.load_der_x509_certificate(certificate), self.trusted):
            return None  # the channel's certificate, whatever CreateSession claimed
        expected = self._users.get(username or "")
        if expected is None or password is None:
            return None
        if not hmac.compare_digest(expected, password.encode()):
            return None
        return User(role=UserRole.User, name=username)


_STANDARD_NODES: dict[ua.NodeId, NodeData] | None = None
_STANDARD_NODES_LOCK = threading.Lock()


def _standard_nodes() -> dict[ua.NodeId, NodeData]:
    """The OPC UA standard address space, filled once per process (about 1 s of CPU) and
    never handed to a server: each server copies the nodes it touches (_NodesCopiedOnUse)."""
    global _STANDARD_NODES
    with _STANDARD_NODES_LOCK:
        if _STANDARD_NODES is None:
            pristine = InternalServer()
            standard_address_space.fill_address_space(pristine.node_mgt_service)
            _STANDARD_NODES = dict(pristine.aspace._nodes)
        return _STANDARD_NODES


def _copy_node(node: NodeData) -> NodeData:
    copied = NodeData(node.nodeid)
    for attribute_id, attribute in node.attributes.items():
        value = AttributeValue(copy.deepcopy(attribute.value))
        value.value_callback = attribute.value_callback
        value.value_setter = attribute.value_setter
        value.datachange_callbacks = dict(attribute.datachange_callbacks)
        copied.attributes[attribute_id] = value
    copied.references = list(node.references)
    copied.call = node.call
    return copied


class _NodesCopiedOnUse(MutableMapping[ua.NodeId, NodeData]):
    """One server's address space over the shared standard nodes: a node is copied into the
    server's own dict the first time it is looked up, so no server sees another's writes."""

    def __init__(self, standard: dict[ua.NodeId, NodeData]) -> None:
        self._standard = standard
        self._own: dict[ua.NodeId, NodeData] = {}
        self._deleted: set[ua.NodeId] = set()

    def __getitem__(self, nodeid: ua.NodeId) -> NodeData:
        node = self._own.get(nodeid)
        if node is not None:
            return node
        if nodeid in self._deleted:
            raise KeyError(nodeid)
        node = self._own[nodeid] = _copy_node(self._standard[nodeid])
        return node

    def __setitem__(self, nodeid: ua.NodeId, node: NodeData) -> None:
        self._own[nodeid] = node
        self._deleted.discard(nodeid)

    def __delitem__(self, nodeid: ua.NodeId) -> None:
        if nodeid not in self:
            raise KeyError(nodeid)
        self._own.pop(nodeid, None)
        if nodeid in self._standard:
            self._deleted.add(nodeid)

    def __contains__(self, nodeid: object) -> bool:
        if nodeid in self._own:
            return True
        return nodeid in self._standard and nodeid not in self._deleted

    def __iter__(self) -> Iterator[ua.NodeId]:
        yield from self._own
        for nodeid in self._standard:
            if nodeid not in self._own and nodeid not in self._deleted:
                yield nodeid

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _InternalServer(InternalServer):
    """asyncua's internal server, its standard address space shared and copied on use.

    asyncua fills the standard address space (about 1 s of CPU, some 6,000 nodes) for every
    server, with `asyncio.to_thread`, which also leaves the loop's default executor thread
    running. Here it is filled once per process in a one-shot executor, and each server copies
    only the nodes it touches (asyncua's own shelf loading swaps the node dict the same way).
    """

    async def load_standard_address_space(self, shelf_file: Path | None = None) -> None:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-opcua-init")
        try:
            standard = await asyncio.get_running_loop().run_in_executor(executor, _standard_nodes)
        finally:
            executor.shutdown(wait=False)
        self.aspace._nodes = _NodesCopiedOnUse(standard)  # type: ignore[assignment]

    async def stop(self) -> None:
        # asyncua lets its server-clock task finish its 1 s sleep; a stopping PLC need not wait.
        task, self.time_task = self.time_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().stop()


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
        self._users = _PasswordUsers({}, anonymous=True)
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

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Build the address space and serve on `host:port` (0: ephemeral); returns the port."""
        if self._server is not None:
            raise RuntimeError(f"simulated PLC {self._plc.id} is already running")
        if self._security is None:
            users = _PasswordUsers({}, anonymous=True)
        else:
            users = _PasswordUsers(self._security.users, anonymous=False)
        self._users = users
        server = Server(iserver=_InternalServer(user_manager=users))
        self._host = host
        await server.init()
        server.set_server_name(f"padctl simulated PLC {self._plc.id}")
        server.set_endpoint(f"opc.tcp://{host}:{port}/padctl/{self._plc.id}")
        server.allow_remote_admin(False)
        await self._configure_security(server)
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

    async def _configure_security(self, server: Server) -> None:
        security = self._security
        if security is None:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
            server.set_identity_tokens([ua.AnonymousIdentityToken])
            return
        certificate_bytes = security.certificate.read_bytes()
        certificate = load_certificate(certificate_bytes)
        await server.load_certificate(certificate_bytes, _format(certificate_bytes))
        key_bytes = read_private_key(security.private_key)
        await server.load_private_key(key_bytes, None, _format(key_bytes))
        uri = application_uri_of(certificate)
        if uri is not None:
            await server.set_application_uri(uri)
        server.set_security_policy(
            [
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                ua.SecurityPolicyType.Basic256Sha256_Sign,
            ]
        )
        server.set_identity_tokens([ua.UserNameIdentityToken])
        trusted = load_trusted_certificates(security.trusted_clients_dir)
        self._users.trusted = trusted
        plc_id = self._plc.id

        async def validate_client(
            certificate: x509.Certificate, application: ua.ApplicationDescription
        ) -> None:
            if not is_trusted(certificate, trusted):
                log.warning(
                    "sim_client_certificate_refused",
                    plc=plc_id,
                    subject=certificate.subject.rfc4514_string(),
                    application=application.ApplicationUri,
                )
                raise ServiceError(ua.StatusCodes.BadCertificateUntrusted)

        server.set_certificate_validator(validate_client)

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

    async def set_quality(self, qualities: Mapping[str, Quality]) -> None:
        """Make tags report GOOD, UNCERTAIN or BAD status (sensor faults), values unchanged."""
        for name, quality in qualities.items():
            self._tag(name)
            if quality is Quality.STALE:
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
        raw = encode_value(tag, self._values[tag.name], clamp=True)
        return ua.Variant(raw, VARIANT_TYPES[tag.type])

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
        return decode_value(tag, variant.Value)

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


def _format(content: bytes) -> str:
    return "pem" if content.lstrip().startswith(b"-----BEGIN") else "der"
