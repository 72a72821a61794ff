"""The console server's state around one station (or a read-only view of one): users,
sessions, authority, arms, the command desk and the WebSocket hub."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from starlette.requests import HTTPConnection

from padctl.alarms import AlarmDefinition, AlarmPriority
from padctl.console._arming import DEFAULT_ARM_TIMEOUT_WALL_S, ArmBoard
from padctl.console._auth import SESSION_COOKIE, Session, SessionPolicy, SessionStore
from padctl.console._authority import AuthorityBoard
from padctl.console._catalogue import Catalogue
from padctl.console._command_table import CATALOGUE
from padctl.console._commands import CommandDesk, Injector
from padctl.console._http_guard import (
    LOOPBACK_HOSTS,
)
from padctl.console._login_throttle import LoginThrottle
from padctl.console._read_only import Desk, ReadOnlyDesk, as_viewer
from padctl.console._state import ConsoleSettings, StateTracker
from padctl.console._users import User, UsersError, UsersFile
from padctl.console._view import ConsoleView
from padctl.console._ws import Hub
from padctl.off_loop import OffLoopWorker
from padctl.plant import record_soon
from padctl.station import Station

log = structlog.get_logger()

STATIC_DIR = Path(__file__).parent / "static"
BRUTE_FORCE_ALARM_ID = "CONSOLE-BRUTE-FORCE"


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
    # Served over TLS: the session cookie is Secure and responses carry HSTS.
    tls: bool = False


@dataclass
class StationHandle:
    """A running station, and how to inject faults when it runs on simulators."""

    station: Station
    injector: Injector | None = None


@dataclass
class ReadOnlyHandle:
    """A station seen from afar (no PLC, nothing to command): consoles only watch it, every
    user as a viewer, and every command is refused saying `why`."""

    view: ConsoleView
    why: str


StationSource = Callable[[], AbstractAsyncContextManager[StationHandle]]
ConsoleSource = Callable[[], AbstractAsyncContextManager[StationHandle | ReadOnlyHandle]]


class Console:
    """The server's state around one station: users, sessions, authority, arms, the hub."""

    def __init__(self, config: ConsoleConfig, handle: StationHandle | ReadOnlyHandle) -> None:
        self.config = config
        self.station: ConsoleView
        self.read_only = isinstance(handle, ReadOnlyHandle)
        if isinstance(handle, ReadOnlyHandle):
            self.station, self.injector = handle.view, None
        else:
            self.station, self.injector = handle.station, handle.injector
        # Off the control loop: password hashing on a thread of its own (a burst of guesses
        # must not delay a journal search), encodes and journal searches on another.
        self.passwords = OffLoopWorker("padctl-console-passwords")
        self.offload = OffLoopWorker("padctl-console-offload")
        self.history_reader = OffLoopWorker("padctl-console-history")  # long trends
        self.sessions = SessionStore(config.sessions, config.wall)
        self.throttle = LoginThrottle(config.wall)
        # A read-only console mirrors the pad's alarms and has none of its own to raise.
        self._alarms = None if isinstance(handle, ReadOnlyHandle) else handle.station.alarms
        if self._alarms is not None and BRUTE_FORCE_ALARM_ID not in {
            view.id for view in self._alarms.views()
        }:
            self._alarms.define(
                AlarmDefinition(
                    id=BRUTE_FORCE_ALARM_ID,
                    message="Console logins: many wrong passwords (someone guessing?)",
                    priority=AlarmPriority.MEDIUM,
                )
            )
        self.authority = AuthorityBoard(tuple(self.station.subsystems))
        self.arms = ArmBoard(config.wall, config.epoch, config.arm_timeout_wall_s)
        self.desk: Desk
        if isinstance(handle, ReadOnlyHandle):
            self.desk = ReadOnlyDesk(
                journal=self.station.journal,
                why=handle.why,
                catalogue=config.catalogue,
                wall=config.wall,
            )
        else:
            self.desk = CommandDesk(
                station=handle.station,
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
            on_tick=self._tick,
            offload=self.offload,
        )
        self._users_mtime = _mtime(config.users.path)

    def _tick(self) -> None:
        self.users()
        self.judge_logins()

    def judge_logins(self) -> None:
        """Raise CONSOLE-BRUTE-FORCE while failed logins look like a brute force; clear it
        once they no longer do."""
        if self._alarms is None:
            return
        pattern = self.throttle.brute_force()
        self._alarms.set_condition(BRUTE_FORCE_ALARM_ID, bool(pattern), detail=pattern)

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
                if record is None or self.as_seen(record.user) != session.user:
                    self.end_session(session, "user removed or changed in the users file")
        return self.config.users

    def as_seen(self, user: User) -> User:
        """The user as this console treats them (a read-only console: as a viewer)."""
        return as_viewer(user) if self.read_only else user

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
