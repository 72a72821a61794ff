"""Console sessions: log in, expire (absolute and idle), and a brake on password guessing."""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
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


@dataclass(frozen=True)
class LoginVerdict:
    """One login attempt judged: the user it proved, or none; `retry_after_s` > 0 when it was
    refused unheard (too many recent failures for its name or its address)."""

    user: User | None
    retry_after_s: float = 0.0


@dataclass
class LoginThrottle:
    """Refuses logins for a name or from an address after too many recent failures."""

    wall: Callable[[], float]
    max_failures: int = 5
    window_wall_s: float = 60.0
    lockout_wall_s: float = 60.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def attempt(
        self, keys: tuple[str, ...], verify: Callable[[], Awaitable[User | None]]
    ) -> LoginVerdict:
        """Judge one attempt: refused at once while a key is locked out, else `verify`d and
        its failure or success counted.

        `verify` runs off the loop (argon2 takes ~0.1 s), so attempts could overlap: they take
        turns here, and each attempt's failure counts before the next one is judged, exactly
        as when hashing ran on the loop (at most `max_failures` guesses per name or address).
        """
        wait_s = self.retry_after_s(*keys)
        if wait_s > 0:
            return LoginVerdict(None, wait_s)
        async with self._turn:
            wait_s = self.retry_after_s(*keys)
            if wait_s > 0:
                return LoginVerdict(None, wait_s)
            user = await verify()
            if user is None:
                self.failed(*keys)
            else:
                self.succeeded(*keys)
            return LoginVerdict(user)

    def retry_after_s(self, *keys: str) -> float:
        """Seconds until these keys may try again; 0 when they may now."""
        now_s = self.wall()
        waits = [self._locked_until.get(key, 0.0) - now_s for key in keys]
        return max([0.0, *waits])

    def failed(self, *keys: str) -> None:
        now_s = self.wall()
        for key in keys:
            recent = self._failures.setdefault(key, deque())
            recent.append(now_s)
            while recent and now_s - recent[0] > self.window_wall_s:
                recent.popleft()
            if len(recent) >= self.max_failures:
                self._locked_until[key] = now_s + self.lockout_wall_s
                recent.clear()

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
