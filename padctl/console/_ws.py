"""The WebSocket hub: a snapshot to each new console, coalesced updates to all, commands in."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from padctl.clock import wall_pause
from padctl.console._arming import ArmBoard
from padctl.console._auth import Session, SessionStore
from padctl.console._authority import AuthorityBoard
from padctl.console._encode import encode, encode_off_loop
from padctl.console._read_only import Desk
from padctl.console._state import StateTracker
from padctl.console._view import ConsoleView
from padctl.off_loop import OffLoopWorker
from padctl.tasks import cancel_and_wait

log = structlog.get_logger()

MAX_PENDING_UPDATES = 40  # a console this far behind gets a fresh snapshot instead
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
MAX_MESSAGE_CHARS = 16_384
__all__ = ["CLOSE_FORBIDDEN_ORIGIN", "CLOSE_UNAUTHENTICATED", "Client", "Hub", "encode"]


@dataclass(eq=False)
class Client:
    """One open console socket; one sender task writes to it, in order."""

    websocket: WebSocket
    session: Session
    pending: deque[tuple[str, int, str]] = field(default_factory=deque)  # (kind, seq, text)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    resync: bool = False
    has_snapshot: bool = False  # nothing is sent before the first snapshot
    snapshot_seq: int = -1  # the seq of the last snapshot put: older updates are dropped
    closing: str = ""  # why the server is closing it

    def push(self, kind: str, text: str, seq: int = 0) -> None:
        if kind == "update" and seq <= self.snapshot_seq:
            return  # built before the snapshot this console already has (encoded meanwhile)
        self.pending.append((kind, seq, text))
        if kind == "update" and len(self.pending) > MAX_PENDING_UPDATES:
            answers = [item for item in self.pending if item[0] != "update"]
            self.pending = deque(answers)
            self.resync = True
        self.wake.set()

    def put_snapshot(self, text: str, seq: int) -> None:
        """The snapshot goes first; updates built before it (seq <= its seq) are dropped."""
        kept = [item for item in self.pending if item[0] != "update" or item[1] > seq]
        self.pending = deque([("snapshot", seq, text), *kept])
        self.has_snapshot = True
        self.snapshot_seq = max(self.snapshot_seq, seq)
        self.wake.set()

    def close(self, reason: str) -> None:
        self.closing = reason
        self.wake.set()


class Hub:
    """Every open console, the broadcast loop, and the way from a socket to the command desk."""

    def __init__(
        self,
        *,
        station: ConsoleView,
        tracker: StateTracker,
        desk: Desk,
        sessions: SessionStore,
        authority: AuthorityBoard,
        arms: ArmBoard,
        update_period_wall_s: float,
        on_session_end: Callable[[Session, str], None],
        on_tick: Callable[[], object] = lambda: None,
        offload: OffLoopWorker | None = None,
    ) -> None:
        self._station = station
        self.tracker = tracker
        self._desk = desk
        self._sessions = sessions
        self._authority = authority
        self._arms = arms
        self._period_wall_s = update_period_wall_s
        self._on_session_end = on_session_end
        self._on_tick = on_tick
        self._offload = offload or OffLoopWorker("padctl-console-offload")
        self.clients: set[Client] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.tracker.prime()
        self._task = asyncio.create_task(self._broadcast_forever(), name="console-broadcast")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        for client in list(self.clients):
            client.close("server stopping")
        await self._desk.stop()

    def consoles(self) -> list[dict[str, Any]]:
        """Who is connected, one entry per user (for every console to show)."""
        by_user: dict[str, dict[str, Any]] = {}
        for client in self.clients:
            user = client.session.user
            entry = by_user.setdefault(
                user.name,
                {
                    "user": user.name,
                    "role": user.role.value,
                    "positions": list(user.positions),
                    "count": 0,
                },
            )
            entry["count"] += 1
        return [by_user[name] for name in sorted(by_user)]

    def end_session(self, session: Session, reason: str) -> None:
        """Close the session's sockets (the session itself is already gone from the store)."""
        for client in list(self.clients):
            if client.session.token == session.token:
                client.close(reason)

    # ---- broadcast ----------------------------------------------------------------------------
    async def _broadcast_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self._broadcast_once()
            except Exception:  # a bad tick must not end the console; the next one tries again
                log.exception("console_broadcast_failed")
            # Wall time on purpose: the update period is the consoles', not the pad clock's.
            await wall_pause(max(0.0, self._period_wall_s - (loop.time() - started)))

    async def _broadcast_once(self) -> None:
        self._on_tick()
        for session, reason in self._sessions.expire():
            self.end_session(session, reason)
            self._on_session_end(session, reason)
        for arm in self._arms.expire():
            await self._station.journal.append(
                "console_disarmed",
                {
                    "arm_id": arm.arm_id,
                    "command": arm.command,
                    "summary": arm.summary,
                    "reason": "expired",
                },
                actor=arm.armed_by.name,
            )
        update = await self.tracker.update()
        text = await encode_off_loop(update, self._offload)  # once, for every console
        for client in self.clients:
            client.push("update", text, update["seq"])

    # ---- one socket ---------------------------------------------------------------------------
    async def serve(self, websocket: WebSocket, session: Session) -> None:
        """Run one console's socket until it closes (the socket is already accepted)."""
        client = Client(websocket, session)
        session.sockets += 1
        self.clients.add(client)
        sender = asyncio.create_task(
            self._send_loop(client), name=f"console-send-{session.user.name}"
        )
        try:
            await self._send_snapshot(client)
            await self._receive_loop(client)
        finally:
            self.clients.discard(client)
            session.sockets -= 1
            session.last_seen_wall_s = self._sessions.wall()
            await cancel_and_wait(sender)

    async def _send_snapshot(self, client: Client) -> None:
        snapshot = await self.tracker.snapshot(client.session.user)
        client.put_snapshot(await encode_off_loop(snapshot, self._offload), snapshot["seq"])

    async def _receive_loop(self, client: Client) -> None:
        websocket, session = client.websocket, client.session
        while True:
            try:
                text = await websocket.receive_text()
            except (WebSocketDisconnect, RuntimeError, KeyError):
                return  # closed (by the console, or by us after session_expired)
            reason = self._sessions.expiry_reason(session)
            if reason:
                client.close(reason)
                return
            message, problem = _parse(text)
            if problem:
                answer = await self._desk.refuse_malformed(session.user, problem)
            else:
                answer = await self._desk.handle(session.user, message)
            client.push("answer", await encode_off_loop(answer, self._offload))

    async def _send_loop(self, client: Client) -> None:
        try:
            await self._send_all(client)
        except (WebSocketDisconnect, RuntimeError, OSError) as error:
            log.info("console_send_ended", user=client.session.user.name, error=str(error))
        except Exception:  # a bug here must show, and must not leave the console silent
            log.exception("console_send_failed", user=client.session.user.name)
            client.closing = "server error while sending"
            await client.websocket.close(code=1011)

    async def _send_all(self, client: Client) -> None:
        websocket = client.websocket
        while True:
            await client.wake.wait()
            client.wake.clear()
            if not client.has_snapshot:
                continue
            if client.resync:
                client.resync = False
                await self._send_snapshot(client)
            while client.pending:
                _, _, text = client.pending.popleft()
                await websocket.send_text(text)
            if client.closing:
                await websocket.send_text(
                    encode({"type": "session_expired", "reason": client.closing})
                )
                await websocket.close(code=CLOSE_UNAUTHENTICATED, reason=client.closing[:120])
                return


def _parse(text: str) -> tuple[object, str]:
    """A console's message, or what is wrong with it ("" when nothing is)."""
    if len(text) > MAX_MESSAGE_CHARS:
        return None, (
            f"a message of {len(text)} characters is over the limit of {MAX_MESSAGE_CHARS}"
        )
    try:
        return json.loads(text), ""
    except json.JSONDecodeError as error:
        return None, (
            f"not JSON: {error.msg} at line {error.lineno} column {error.colno}; send a JSON "
            'object such as {"type": "command", "request_id": "c-1", "command": "ping"}'
        )
    except RecursionError:
        return None, "not JSON a console sends: nested too deep"
