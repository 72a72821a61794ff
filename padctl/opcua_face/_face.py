"""padctl's OPC UA server face: a read-only address space a plant SCADA browses.

The server runs on a thread of its own with its own event loop, at a lower CPU priority than
the control loop; the station's loop only gathers what changed (the same feed as the Sparkplug
face) and hands it over under a lock. A SCADA client, however many and however slow, costs the
control loop nothing. Nothing is writable: padctl takes no command over OPC UA.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import structlog
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.internal_server import InternalServer
from asyncua.server.server import Server
from asyncua.ua.attribute_ids import AttributeIds

from padctl.alarms import AlarmDefinition, AlarmKind, AlarmPriority
from padctl.feed import Reading, StationFeed, station_points
from padctl.off_loop import OffLoopWorker, lower_priority
from padctl.opcua_face._address_space import PointNode, address_space_items, data_value
from padctl.opcua_security import PasswordUsers, ServerSecurity, configure_security
from padctl.station import Station

log = structlog.get_logger()

START_TIMEOUT_WALL_S = 30.0
SERVER_ALARM_ID = "OPCUA-FACE"


@dataclass(frozen=True)
class OpcUaFaceSettings:
    """Where the face listens and who may read it.

    `security` None serves anonymous users over no security at all: only for a pad whose
    site asks for it (`--opcua-no-security`), never the default. With `verify_user` the user
    accounts are checked by it (padctl's own users file), else by `security.users`."""

    endpoint: str  # opc.tcp://HOST:PORT/PATH
    security: ServerSecurity | None
    verify_user: Callable[[str, str], bool] | None = None
    period_wall_s: float = 0.1  # how often changes are gathered and handed over
    namespace: str = ""  # default: urn:padctl:<pad>:scada


class _Accounts(PasswordUsers):
    """The face's users: the secured channel's client must be trusted (as for any padctl
    server), then the user name and password must pass `verify`."""

    def __init__(self, verify: Callable[[str, str], bool]) -> None:
        super().__init__({}, anonymous=False)
        self._verify = verify

    def get_user(
        self,
        iserver: InternalServer,
        username: str | None = None,
        password: str | None = None,
        certificate: object = None,
    ) -> User | None:
        if super().client_trusted(certificate) and username and password is not None:
            if self._verify(username, password):
                return User(role=UserRole.User, name=username)
        return None


class OpcUaFace:
    """Serves a running station over OPC UA (`async with OpcUaFace(...)`)."""

    def __init__(self, station: Station, settings: OpcUaFaceSettings) -> None:
        self._station = station
        self._settings = settings
        self._feed = StationFeed(station)
        self._groups = station_points(station.definition, station.subsystems)
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], Reading] = {}
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._last_error = ""
        self._thread: threading.Thread | None = None
        self._server_loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self.port = 0
        self.endpoint = settings.endpoint  # the URL a client dials (its real port once started)
        self.values_written = 0
        self.namespace_index = 0  # the face's namespace in the server's table, once started

    # ---- the control loop's side ----------------------------------------------------------------
    async def __aenter__(self) -> OpcUaFace:
        self._thread = threading.Thread(target=self._serve_thread, name="opcua-face", daemon=True)
        self._thread.start()
        started = await OffLoopWorker("opcua-face-start").run(
            self._ready.wait, START_TIMEOUT_WALL_S
        )
        if self._failure is not None or not started:
            await self._stop_thread()
            why = self._failure or TimeoutError(f"not serving after {START_TIMEOUT_WALL_S:g} s")
            raise RuntimeError(f"OPC UA face on {self._settings.endpoint}: {why}") from why
        self._station.alarms.define(
            AlarmDefinition(
                id=SERVER_ALARM_ID,
                message=f"OPC UA face on {self.endpoint} is not serving: plant SCADA is blind",
                priority=AlarmPriority.LOW,
                kind=AlarmKind.EVENT,
            )
        )
        try:
            self._feed.start(
                "opcua-face",
                self._hand_over,
                period_wall_s=self._settings.period_wall_s,
                each_turn=self._judge_server,
            )
        except BaseException:
            await self._stop_thread()
            raise
        log.info("opcua_face_listening", endpoint=self.endpoint)
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        await self._feed.stop()
        await self._stop_thread()

    def _judge_server(self) -> None:
        """A server thread that ended while the face should serve is an alarm (LOW: the pad
        itself loses nothing, but the plant's SCADA no longer sees it)."""
        thread = self._thread
        down = thread is None or not thread.is_alive()
        self._station.alarms.set_condition(
            SERVER_ALARM_ID, down, detail=self._last_error or "the server thread ended"
        )

    def _hand_over(self, by_group: dict[str, dict[str, Reading]]) -> None:
        if not by_group:
            return
        with self._lock:
            for group, readings in by_group.items():
                for name, reading in readings.items():
                    self._pending[(group, name)] = reading
        loop, wake = self._server_loop, self._wake
        if loop is not None and wake is not None:
            loop.call_soon_threadsafe(wake.set)

    def end_server_for_test(self) -> None:
        """End the server thread as a crash would, the face still in place (tests)."""
        loop, stopping = self._server_loop, self._stopping
        if loop is not None and stopping is not None:
            loop.call_soon_threadsafe(stopping.set)

    async def _stop_thread(self) -> None:
        loop, stopping, thread = self._server_loop, self._stopping, self._thread
        if loop is not None and stopping is not None:
            try:
                loop.call_soon_threadsafe(stopping.set)
            except RuntimeError:  # its loop has already closed
                pass
        if thread is not None:
            await OffLoopWorker("opcua-face-stop").run(thread.join, START_TIMEOUT_WALL_S)
        self._thread = None

    # ---- the server's thread -----------------------------------------------------------------
    def _serve_thread(self) -> None:
        # Start-up (asyncua's standard address space, security, our nodes: seconds of CPU)
        # runs at the loop's priority, once, while the station waits for it; on a busy machine
        # a nice-10 start-up took longer than START_TIMEOUT_WALL_S. Serving runs niced.
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the starter, or logged once running
            if not self._ready.is_set():
                self._failure = error
                self._ready.set()
            else:
                self._last_error = str(error) or type(error).__name__
                log.error("opcua_face_failed", error=self._last_error)

    async def _serve(self) -> None:
        self._server_loop = asyncio.get_running_loop()
        self._wake, self._stopping = asyncio.Event(), asyncio.Event()
        settings = self._settings
        security = settings.security
        users: PasswordUsers
        if security is None:
            users = PasswordUsers({}, anonymous=True)
        elif settings.verify_user is not None:
            users = _Accounts(settings.verify_user)
        else:
            users = PasswordUsers(security.users, anonymous=False)
        pad = self._station.definition.pad
        server = Server(user_manager=users)
        await server.init()
        server.set_server_name(f"padctl {pad}")
        server.set_endpoint(settings.endpoint)
        server.allow_remote_admin(False)
        await configure_security(server, security, users, _refused_client)
        namespace_index = await server.register_namespace(
            settings.namespace or f"urn:padctl:{pad}:scada"
        )
        self.namespace_index = namespace_index
        items, nodes = address_space_items(pad, self._groups, namespace_index)
        for item, result in zip(
            items, server.iserver.node_mgt_service.add_nodes(items), strict=True
        ):
            if not result.StatusCode.is_good():
                raise RuntimeError(
                    f"cannot create node {item.RequestedNewNodeId}: {result.StatusCode.name}"
                )
        await server.start()
        try:
            assert server.bserver is not None
            self.port = int(server.bserver.port)
            self._describe_endpoints(server)
            await self._write_pending(server, nodes)
            lower_priority()
            self._ready.set()
            while not self._stopping.is_set():
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(self._stopping.wait())
                await asyncio.wait((waiter, stopper), return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()
                self._wake.clear()
                await self._write_pending(server, nodes)
        finally:
            await server.stop()
            for session in list(server.iserver._external_sessions.values()):
                await session.close_session(True)

    def _describe_endpoints(self, server: Server) -> None:
        """With port 0 the endpoints were described before the port was known: say the real
        one (asyncua answers with the URL a client dialled anyway; keep the descriptions true)."""
        url = self.endpoint
        scheme, _, rest = url.partition("://")
        host_port, slash, path = rest.partition("/")
        host = host_port.rsplit(":", 1)[0] if ":" in host_port else host_port
        url = f"{scheme}://{host}:{self.port}{slash}{path}"
        self.endpoint = url
        for endpoint in server.iserver.endpoints:
            endpoint.EndpointUrl = url
            endpoint.Server.DiscoveryUrls = [url]

    async def _write_pending(self, server: Server, nodes: dict[tuple[str, str], PointNode]) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for key, reading in pending.items():
            node = nodes.get(key)
            if node is None:
                continue
            await server.write_attribute_value(
                node.id, data_value(reading, node.variant_type), AttributeIds.Value
            )
            self.values_written += 1


def served(
    station: Station, settings: OpcUaFaceSettings | None
) -> contextlib.AbstractAsyncContextManager[object]:
    """The station's OPC UA face while the block runs (nothing without settings)."""
    if settings is None:
        return contextlib.nullcontext()
    return OpcUaFace(station, settings)


def _refused_client(subject: str, application_uri: str) -> None:
    log.warning("opcua_client_certificate_refused", subject=subject, application=application_uri)
