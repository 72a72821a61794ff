"""The console server on the simulated pad, driven through Starlette's test client.

The station and the server run on the test client's own event loop (its portal thread); the
test talks to them only through HTTP and the WebSocket, as a console does. Every wait is
bounded: the server sends an update every period, so a receive never blocks for long.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x asks for `httpx2` behind its test client; `httpx` works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient, WebSocketTestSession
    from starlette.testclient import WebSocketDenialResponse as WebSocketDenialResponse

from padctl.cli._serve import simulated_station
from padctl.console import (
    CATALOGUE,
    SESSION_COOKIE,
    Catalogue,
    Console,
    ConsoleConfig,
    ConsoleSettings,
    Role,
    SessionPolicy,
    StationHandle,
    UsersFile,
    console_server,
    console_url,
    create_app,
    listening_socket,
)
from padctl.countdown import CountdownSequence, Criterion, load_lcc, load_sequence
from padctl.definition import PadDefinition, load_pad_definition
from padctl.procedure import sequences_dir
from padctl.subsystems import ALL_SPECS

PASSWORD = "correct horse battery"
# Cheap argon2 parameters keep logins fast in tests; the hash format is the same.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
USERS: dict[str, tuple[Role, tuple[str, ...], tuple[str, ...] | None]] = {
    "viewer1": (Role.VIEWER, (), None),
    "op_power": (Role.SUBSYSTEM_OPERATOR, ("ground_power", "water_deluge", "hold_downs"), None),
    "op_power2": (Role.SUBSYSTEM_OPERATOR, ("ground_power", "hold_downs"), None),
    "op_prop": (Role.SUBSYSTEM_OPERATOR, ("lox_loading", "kerosene_loading"), None),
    "tc": (Role.TEST_CONDUCTOR, (), None),
    "so": (Role.SAFETY_OFFICER, (), None),
    "admin1": (Role.ADMIN, (), None),
}
RATE = 10.0
UPDATE_PERIOD_WALL_S = 0.05


class AdjustableWall:
    """Monotonic wall time that a test can move forward (session and arm expiry, no waiting)."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset_s

    def advance(self, seconds: float) -> None:
        self.offset_s += seconds


def write_users(path: Path) -> UsersFile:
    users = UsersFile(path=path, hasher=TEST_HASHER)
    for name, (role, subsystems, positions) in USERS.items():
        users.add(name, role=role, password=PASSWORD, subsystems=subsystems, positions=positions)
    users.save()
    return users


def reference_test_flight() -> tuple[PadDefinition, CountdownSequence, tuple[Criterion, ...]]:
    """The reference pad, its test-flight count and its launch commit criteria."""
    definition = load_pad_definition()
    sequence = load_sequence(
        sequences_dir() / "countdown.yaml",
        profile="test-flight",
        definition=definition,
        specs=ALL_SPECS,
    )
    return definition, sequence, load_lcc(sequences_dir() / "lcc.yaml", definition)


def station_source(folder: Path) -> Callable[[], AbstractAsyncContextManager[StationHandle]]:
    definition, sequence, criteria = reference_test_flight()

    def source() -> AbstractAsyncContextManager[StationHandle]:
        return simulated_station(
            definition,
            rate=RATE,
            sequence=sequence,
            lcc=criteria,
            journal_path=folder / "journal.sqlite",
            scan_wall_s=0.01,
        )

    return source


class Timeout(AssertionError):
    pass


@dataclass
class ConsoleSocket:
    """One console's WebSocket: commands with request ids, updates kept as they arrive."""

    session: WebSocketTestSession
    name: str
    snapshot: dict[str, Any] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def receive(self) -> dict[str, Any]:
        message: dict[str, Any] = self.session.receive_json()
        if message["type"] == "update":
            self.updates.append(message)
        elif message["type"] == "snapshot":
            self.snapshot = message
        elif "request_id" in message:
            self.answers[str(message["request_id"])] = message
        return message

    def send(self, command: str, **args: Any) -> str:
        request_id = f"{self.name}-{next(self._ids)}"
        self.session.send_json(
            {"type": "command", "request_id": request_id, "command": command, "args": args}
        )
        return request_id

    def answer(self, request_id: str, timeout_s: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while request_id not in self.answers:
            if time.monotonic() > deadline:
                raise Timeout(f"no answer to {request_id} within {timeout_s} s")
            self.receive()
        return self.answers.pop(request_id)

    def command(self, command: str, **args: Any) -> dict[str, Any]:
        return self.answer(self.send(command, **args))

    def wait_update(
        self, predicate: Callable[[dict[str, Any]], bool], timeout_s: float = 15.0
    ) -> dict[str, Any]:
        """The first update (from now on) for which `predicate` holds."""
        deadline = time.monotonic() + timeout_s
        while True:
            if time.monotonic() > deadline:
                raise Timeout(f"no matching update within {timeout_s} s")
            message = self.receive()
            if message["type"] == "update" and predicate(message):
                return message


@dataclass
class ConsoleRig:
    client: TestClient
    wall: AdjustableWall
    folder: Path

    def login(self, name: str, password: str = PASSWORD) -> str:
        response = self.client.post("/api/login", json={"username": name, "password": password})
        assert response.status_code == 200, response.text
        token = response.cookies[SESSION_COOKIE]
        self.client.cookies.clear()
        return token

    @contextmanager
    def connect(self, name: str, token: str | None = None) -> Iterator[ConsoleSocket]:
        token = token or self.login(name)
        with self.client.websocket_connect(
            "/ws", headers={"cookie": f"{SESSION_COOKIE}={token}"}
        ) as session:
            socket = ConsoleSocket(session, name)
            first = socket.receive()
            assert first["type"] == "snapshot", first
            yield socket

    @contextmanager
    def connect_all(self, names: Iterable[str]) -> Iterator[dict[str, ConsoleSocket]]:
        """A socket for each user, by name, all closed on leaving."""
        with ExitStack() as stack:
            yield {name: stack.enter_context(self.connect(name)) for name in names}

    def journal(self, kinds: list[str], socket: ConsoleSocket) -> list[dict[str, Any]]:
        answer = socket.command("journal.query", kinds=kinds, limit=500)
        assert answer["type"] == "accepted", answer
        rows: list[dict[str, Any]] = answer["result"]["rows"]
        return rows


@contextmanager
def console_rig(
    folder: Path, *, arm_timeout_wall_s: float = 10.0, catalogue: Catalogue = CATALOGUE
) -> Iterator[ConsoleRig]:
    """The simulated pad, a station and the console server, behind a test client."""
    wall = AdjustableWall()
    config = ConsoleConfig(
        users=write_users(folder / "users.yaml"),
        settings=ConsoleSettings(
            update_period_wall_s=UPDATE_PERIOD_WALL_S,
            clock_stale_after_wall_s=4 * UPDATE_PERIOD_WALL_S,
            simulated=True,
        ),
        sessions=SessionPolicy(lifetime_wall_s=3600.0, idle_wall_s=600.0),
        arm_timeout_wall_s=arm_timeout_wall_s,
        wall=wall,
        catalogue=catalogue,
        allowed_hosts=("testserver",),  # the test client's Host
    )
    app = create_app(config, station_source(folder))
    with TestClient(app) as client:
        yield ConsoleRig(client, wall, folder)


@dataclass
class ServedConsole:
    """A console server on a real socket (127.0.0.1, an ephemeral port) in the test's loop."""

    url: str
    console: Console
    wall: AdjustableWall


@asynccontextmanager
async def served_console(folder: Path) -> AsyncIterator[ServedConsole]:
    """The simulated pad, a station and the console server under uvicorn on a real socket."""
    wall = AdjustableWall()
    config = ConsoleConfig(
        users=write_users(folder / "users.yaml"),
        settings=ConsoleSettings(update_period_wall_s=UPDATE_PERIOD_WALL_S, simulated=True),
        wall=wall,
    )
    ready = asyncio.Event()
    application = create_app(config, station_source(folder), on_ready=ready.set)
    listener = listening_socket("127.0.0.1", 0)
    server = console_server(application)
    task = asyncio.create_task(server.serve(sockets=[listener]), name="uvicorn")
    try:
        async with asyncio.timeout(60):
            await ready.wait()
        url = console_url(listener, tls=False).rstrip("/")
        yield ServedConsole(url, application.state.console, wall)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        listener.close()
        # the station's blocking calls ran on the loop's default executor: end its threads
        await asyncio.get_running_loop().shutdown_default_executor()
