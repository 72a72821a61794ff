"""The console server: HTTP login, the WebSocket, static pages, around one running station."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import structlog
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from padctl.console._auth import SESSION_COOKIE
from padctl.console._console import Console, ConsoleConfig, ConsoleSource
from padctl.console._history_query import HistoryQueryError, parse_history_query, read_history
from padctl.console._http_guard import (
    MAX_BODY_BYTES,
    guard_middleware,
    json_body,
)
from padctl.console._read_only import READ_ONLY
from padctl.console._users import MAX_USER_NAME, User
from padctl.console._ws import CLOSE_FORBIDDEN_ORIGIN, CLOSE_UNAUTHENTICATED, encode

log = structlog.get_logger()


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

    async def verify() -> User | None:  # argon2, ~0.1 s: never on the control loop
        return await console.passwords.run(console.users().verify, name, password)

    verdict = await console.throttle.attempt(name, address, verify)
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
        console.judge_logins()
        await console.station.journal.append(
            "console_login_failed", {"username": name, "address": address}, actor="console"
        )
        return _error(401, "wrong user name or password")
    user = console.as_seen(user)
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
        secure=console.config.tls,
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
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=console.config.tls, httponly=True, samesite="strict"
    )
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


async def history(request: Request) -> Response:
    """`GET /api/history`: tags' kept changes, downsampled (see _history_query)."""
    console = _console(request)
    if console.session_of(request) is None:
        return _error(401, "not logged in")
    reading = console.config.settings.history
    if reading is None:
        return _error(
            409,
            "this console keeps no tag history (padctl serve --no-history, or --sim "
            "without --history FILE)",
            code="no_history",
        )
    known = {tag.name for tag in console.station.definition.tags}
    try:
        query = parse_history_query(request.query_params, known)
        answer = await read_history(reading, query, console.history_reader)
    except HistoryQueryError as error:
        return _error(400, str(error))
    return JSONResponse(answer)


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
    statuses = {"forbidden": 403, READ_ONLY: 403, "unavailable": 404, "bad_request": 400}
    return _error(statuses.get(answer["code"], 409), answer["reason"])


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
    station_source: ConsoleSource,
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
        Route("/api/history", history, methods=["GET"]),
        WebSocketRoute("/ws", websocket_endpoint),
    ]
    if (config.static_dir / "index.html").is_file():
        routes.append(Mount("/", app=StaticFiles(directory=config.static_dir, html=True)))
    else:
        routes.append(Route("/", _no_pages, methods=["GET"]))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=guard_middleware(config.allowed_hosts, tls=config.tls),
    )
