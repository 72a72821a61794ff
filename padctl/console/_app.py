"""The console server: HTTP login, the WebSocket, static pages, around one running station."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from padctl.console._arming import DEFAULT_ARM_TIMEOUT_WALL_S, ArmBoard
from padctl.console._auth import SESSION_COOKIE, LoginThrottle, Session, SessionPolicy, SessionStore
from padctl.console._authority import AuthorityBoard
from padctl.console._catalogue import Catalogue
from padctl.console._command_table import CATALOGUE
from padctl.console._commands import CommandDesk, Injector
from padctl.console._http_guard import (
    LOOPBACK_HOSTS,
    MAX_BODY_BYTES,
    guard_middleware,
    json_body,
)
from padctl.console._state import ConsoleSettings, StateTracker
from padctl.console._users import MAX_USER_NAME, User, UsersError, UsersFile
from padctl.console._ws import CLOSE_FORBIDDEN_ORIGIN, CLOSE_UNAUTHENTICATED, Hub, encode
from padctl.off_loop import OffLoopWorker
from padctl.plant import record_soon
from padctl.station import Station

log = structlog.get_logger()

STATIC_DIR = Path(__file__).parent / "static"


@dataclass
class ConsoleConfig:
    """Everything the console server is configured with (times in wall seconds)."""

    users: UsersFile
    settings: ConsoleSettings = field(default_factory=ConsoleSettings)
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    arm_timeout_wall_s: float = DEFAULT_ARM_TIMEOUT_WALL_S
    static_dir: Path = STATIC_DIR
    wall: Callable[[], float] = time.monotonic  # for timeouts
    epoch: Callable[[], float] = time.time  # for the times consoles show
    catalogue: Catalogue = CATALOGUE  # the commands consoles may send
    # The names (Host header) the console is served under: any other is refused.
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS


@dataclass
class StationHandle:
    """A running station, and how to inject faults when it runs on simulators."""

    station: Station
    injector: Injector | None = None


StationSource = Callable[[], AbstractAsyncContextManager[StationHandle]]


class Console:
    """The server's state around one station: users, sessions, authority, arms, the hub."""

    def __init__(self, config: ConsoleConfig, handle: StationHandle) -> None:
        self.config = config
        self.station = handle.station
        self.injector = handle.injector
        # Off the control loop: password hashing on a thread of its own (a burst of guesses
        # must not delay a journal search), encodes and journal searches on another.
        self.passwords = OffLoopWorker("padctl-console-passwords")
        self.offload = OffLoopWorker("padctl-console-offload")
        self.sessions = SessionStore(config.sessions, config.wall)
        self.throttle = LoginThrottle(config.wall)
        self.authority = AuthorityBoard(tuple(handle.station.subsystems))
        self.arms = ArmBoard(config.wall, config.epoch, config.arm_timeout_wall_s)
        self.desk = CommandDesk(
            station=self.station,
            authority=self.authority,
            arms=self.arms,
            injector=self.injector,
            offload=self.offload,
            catalogue=config.catalogue,
            wall=config.wall,
        )
        self.tracker = StateTracker(
            station=self.station,
            authority=self.authority,
            arms=self.arms,
            settings=config.settings,
            epoch=config.epoch,
            consoles=lambda: self.hub.consoles(),
            catalogue=self.desk.catalogue,
        )
        self.hub = Hub(
            station=self.station,
            tracker=self.tracker,
            desk=self.desk,
            sessions=self.sessions,
            authority=self.authority,
            arms=self.arms,
            update_period_wall_s=config.settings.update_period_wall_s,
            on_session_end=self._session_ended,
            on_tick=self.users,
            offload=self.offload,
        )
        self._users_mtime = _mtime(config.users.path)

    def users(self) -> UsersFile:
        """The users file, re-read when it changed on disk (users added while serving).

        A user removed, or whose role, subsystems or positions changed, is logged out.
        """
        mtime = _mtime(self.config.users.path)
        if mtime != self._users_mtime:
            self._users_mtime = mtime
            try:
                self.config.users = UsersFile.load(
                    self.config.users.path, hasher=self.config.users.hasher
                )
            except UsersError as error:
                log.error("users_file_unreadable", error=str(error))
                return self.config.users
            records = self.config.users.records
            for session in self.sessions.live():
                record = records.get(session.user.name)
                if record is None or record.user != session.user:
                    self.end_session(session, "user removed or changed in the users file")
        return self.config.users

    def journal_soon(self, kind: str, payload: dict[str, object], actor: str) -> None:
        record_soon(self.station.journal, kind, payload, actor=actor)

    def _session_ended(self, session: Session, reason: str) -> None:
        name = session.user.name
        self.journal_soon("console_session_expired", {"reason": reason}, name)
        self._release_if_gone(name)

    def _release_if_gone(self, name: str) -> None:
        if any(s.user.name == name for s in self.sessions.live()):
            return
        for subsystem in self.authority.release_all(name):
            self.journal_soon(
                "authority_released",
                {"subsystem": subsystem, "holder": name, "why": "session ended"},
                name,
            )
        for arm in self.arms.drop_user(name):
            self.journal_soon(
                "console_disarmed",
                {"arm_id": arm.arm_id, "command": arm.command, "reason": "session ended"},
                name,
            )

    def logout(self, session: Session) -> None:
        self.end_session(session, "logged out")

    def end_session(self, session: Session, reason: str) -> None:
        self.sessions.close(session.token)
        self.hub.end_session(session, reason)
        if reason != "logged out":  # a logout is journaled (and awaited) by its request
            self.journal_soon("console_session_expired", {"reason": reason}, session.user.name)
        self._release_if_gone(session.user.name)

    def session_of(self, connection: HTTPConnection) -> Session | None:
        self.users()
        return self.sessions.get(connection.cookies.get(SESSION_COOKIE))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _console(connection: HTTPConnection) -> Console:
    console: Console = connection.app.state.console
    return console


def _same_origin(connection: HTTPConnection) -> bool:
    origin = connection.headers.get("origin")
    if not origin:
        return True  # not a browser page (a script, a test client): the cookie is what counts
    return urlsplit(origin).netloc == connection.headers.get("host", "")


def _error(status: int, text: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": text, **extra}, status_code=status)


async def login(request: Request) -> Response:
    console = _console(request)
    if not _same_origin(request):
        return _error(403, "login from another origin refused")
    body = await json_body(request)
    if (
        body is None
        or not isinstance(body.get("username"), str)
        or not isinstance(body.get("password"), str)
    ):
        return _error(
            400, f'send JSON {{"username": ..., "password": ...}} of at most {MAX_BODY_BYTES} bytes'
        )
    name, password = body["username"].strip(), body["password"]
    if len(name) > MAX_USER_NAME:  # no user has such a name: refused, neither counted nor kept
        return _error(400, f"a user name has at most {MAX_USER_NAME} characters")
    address = request.client.host if request.client else "unknown"
    keys = (f"user:{name}", f"address:{address}")

    async def verify() -> User | None:  # argon2, ~0.1 s: never on the control loop
        return await console.passwords.run(console.users().verify, name, password)

    verdict = await console.throttle.attempt(keys, verify)
    if verdict.retry_after_s > 0:
        await console.station.journal.append(
            "console_login_throttled", {"username": name, "address": address}, actor="console"
        )
        wait_s = verdict.retry_after_s
        return _error(
            429, f"too many failed logins: try again in {wait_s:.0f} s", retry_after_s=round(wait_s)
        )
    user = verdict.user
    if user is None:
        await console.station.journal.append(
            "console_login_failed", {"username": name, "address": address}, actor="console"
        )
        return _error(401, "wrong user name or password")
    session = console.sessions.open(user)
    await console.station.journal.append(
        "console_login", {"address": address, "role": user.role.value}, actor=user.name
    )
    response = JSONResponse({"user": user.describe()})
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=int(console.config.sessions.lifetime_wall_s),
        httponly=True,
        samesite="strict",
        path="/",
    )
    return response


async def logout(request: Request) -> Response:
    console = _console(request)
    session = console.session_of(request)
    if session is None:
        return _error(401, "not logged in")
    console.logout(session)
    await console.station.journal.append("console_logout", {}, actor=session.user.name)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def session_info(request: Request) -> Response:
    console = _console(request)
    session = console.session_of(request)
    if session is None:
        return _error(401, "not logged in")
    epoch_now, wall_now = console.config.epoch(), console.config.wall()
    return JSONResponse(
        {
            "user": session.user.describe(),
            "expires_at": epoch_now + console.sessions.expires_at_wall_s(session) - wall_now,
            "idle_timeout_wall_s": console.config.sessions.idle_wall_s,
        }
    )


async def health(request: Request) -> Response:
    console = _console(request)
    station = console.station
    stale = station.stale_plcs()
    return JSONResponse(
        {
            "ok": station.running,
            "data_fresh": not stale,
            "stale_plcs": stale,
            "consoles": len(console.hub.clients),
            "simulated": console.injector is not None,
            **station.health.report(),
        }
    )


async def inject(request: Request) -> Response:
    """`POST /api/inject`: the console command `sim.inject` over HTTP, for scripts. It goes
    through the command desk as over the WebSocket: the same checks, the same journal rows."""
    console = _console(request)
    session = console.session_of(request)
    if session is None:
        return _error(401, "not logged in")
    body = await json_body(request)
    if body is None or not isinstance(body.get("fault"), str):
        return _error(400, 'send JSON {"fault": "stall MECH"}')
    message = {
        "type": "command",
        "request_id": "http-inject",
        "command": "sim.inject",
        "args": {"fault": body["fault"]},
    }
    answer = await console.desk.handle(session.user, message)
    if answer["type"] == "accepted":
        return JSONResponse({"accepted": True, "fault": answer["result"]["fault"]})
    status = {"forbidden": 403, "unavailable": 404, "bad_request": 400}.get(answer["code"], 409)
    return _error(status, answer["reason"])


async def websocket_endpoint(websocket: WebSocket) -> None:
    console = _console(websocket)
    await websocket.accept()
    if not _same_origin(websocket):
        await websocket.send_text(
            encode(
                {
                    "type": "error",
                    "code": "forbidden",
                    "reason": "WebSocket from another origin refused",
                }
            )
        )
        await websocket.close(code=CLOSE_FORBIDDEN_ORIGIN)
        return
    session = console.session_of(websocket)
    if session is None:
        await websocket.send_text(
            encode(
                {
                    "type": "error",
                    "code": "unauthenticated",
                    "reason": "log in first (POST /api/login)",
                }
            )
        )
        await websocket.close(code=CLOSE_UNAUTHENTICATED)
        return
    await console.hub.serve(websocket, session)


async def _no_pages(request: Request) -> Response:
    return HTMLResponse(
        "<!doctype html><title>padctl</title><p>The console pages are not installed "
        "(padctl/console/static/). The API is at /api and /ws.</p>"
    )


def create_app(
    config: ConsoleConfig,
    station_source: StationSource,
    *,
    on_ready: Callable[[], None] | None = None,
) -> Starlette:
    """The console application; its lifespan runs the station from `station_source`."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with station_source() as handle:
            console = Console(config, handle)
            await console.hub.start()
            app.state.console = console
            if on_ready is not None:
                on_ready()
            try:
                yield
            finally:
                await console.hub.stop()

    routes: list[Route | WebSocketRoute | Mount] = [
        Route("/api/login", login, methods=["POST"]),
        Route("/api/logout", logout, methods=["POST"]),
        Route("/api/session", session_info, methods=["GET"]),
        Route("/api/health", health, methods=["GET"]),
        Route("/api/inject", inject, methods=["POST"]),
        WebSocketRoute("/ws", websocket_endpoint),
    ]
    if (config.static_dir / "index.html").is_file():
        routes.append(Mount("/", app=StaticFiles(directory=config.static_dir, html=True)))
    else:
        routes.append(Route("/", _no_pages, methods=["GET"]))
    return Starlette(
        routes=routes, lifespan=lifespan, middleware=guard_middleware(config.allowed_hosts)
    )
