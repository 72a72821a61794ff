"""Console sessions: log in, expire (absolute and idle)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from padctl.console._users import User

SESSION_COOKIE = "padctl_session"


@dataclass
class Session:
    """One login: a random token, its user, and when it ends (monotonic wall seconds)."""

    token: str
    user: User
    started_wall_s: float
    last_seen_wall_s: float
    sockets: int = 0  # open WebSockets keep a session from going idle


@dataclass
class SessionPolicy:
    lifetime_wall_s: float = 8 * 3600.0
    idle_wall_s: float = 30 * 60.0


@dataclass
class SessionStore:
    """Live sessions by token. Time comes from `wall` (monotonic seconds), injected."""

    policy: SessionPolicy
    wall: Callable[[], float]
    _sessions: dict[str, Session] = field(default_factory=dict)

    def open(self, user: User) -> Session:
        now_s = self.wall()
        session = Session(secrets.token_urlsafe(32), user, now_s, now_s)
        self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of `token` (renewing its idle timer), or None."""
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None or self.expiry_reason(session):
            return None
        session.last_seen_wall_s = self.wall()
        return session

    def expiry_reason(self, session: Session) -> str:
        """Why the session has ended, or '' while it is live."""
        now_s = self.wall()
        if session.token not in self._sessions:
            return "logged out"
        if now_s - session.started_wall_s > self.policy.lifetime_wall_s:
            return f"session older than {self.policy.lifetime_wall_s / 3600:g} h: log in again"
        if session.sockets == 0 and now_s - session.last_seen_wall_s > self.policy.idle_wall_s:
            return f"idle for more than {self.policy.idle_wall_s / 60:g} min: log in again"
        return ""

    def live(self) -> list[Session]:
        return [s for s in self._sessions.values() if not self.expiry_reason(s)]

    def close(self, token: str) -> Session | None:
        return self._sessions.pop(token, None)

    def expire(self) -> list[tuple[Session, str]]:
        """Remove and return the sessions that have ended, with why."""
        ended = [(s, reason) for s in self._sessions.values() if (reason := self.expiry_reason(s))]
        for session, _ in ended:
            self._sessions.pop(session.token, None)
        return ended

    def expires_at_wall_s(self, session: Session) -> float:
        return session.started_wall_s + self.policy.lifetime_wall_s

    def __len__(self) -> int:
        return len(self._sessions)
