"""The brake on password guessing: failures counted per (user, address) pair with a doubling
wait, a gentler brake per address, and the signs of a brute force (for an alarm)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from padctl.console._users import User


@dataclass(frozen=True)
class LoginVerdict:
    """One login attempt judged: the user it proved, or none; `retry_after_s` > 0 when it was
    refused unheard (too many recent failures for its name at its address, or at its address)."""

    user: User | None
    retry_after_s: float = 0.0


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free, how the wait grows, and what counts as a brute force."""

    free_failures_per_pair: int = 5  # then 1 s, 2 s, 4 s ... for that name at that address
    free_failures_per_address: int = 20  # within the window, across names
    first_wait_wall_s: float = 1.0
    max_wait_per_pair_wall_s: float = 300.0
    max_wait_per_address_wall_s: float = 30.0  # real users at that address wait at most this
    window_wall_s: float = 60.0  # failures counted for an address, and for a brute force
    forget_pair_after_wall_s: float = 900.0  # a pair's count resets after this long quiet
    brute_force_from_one_address: int = 20  # failures within the window
    brute_force_in_all: int = 30  # failures within the window, from every address together


@dataclass
class _Backoff:
    """One key's failures and how long it must wait."""

    failures: int = 0
    last_failure_wall_s: float = 0.0
    wait_until_wall_s: float = 0.0


@dataclass
class _Turn:
    """One pair's attempts in progress: they take turns on the lock."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    attempts: int = 0  # holding or waiting for the lock


@dataclass
class LoginThrottle:
    """Judges login attempts: the real safety officer is never locked out by a stranger's
    guesses from another address, and a burst of random names slows only its own address."""

    wall: Callable[[], float]
    policy: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    _pairs: dict[tuple[str, str], _Backoff] = field(default_factory=dict)
    _addresses: dict[str, _Backoff] = field(default_factory=dict)
    _recent: deque[tuple[float, str]] = field(default_factory=deque)  # (time, address)
    _turns: dict[tuple[str, str], _Turn] = field(default_factory=dict, repr=False)
    _swept_wall_s: float = float("-inf")

    async def attempt(
        self, name: str, address: str, verify: Callable[[], Awaitable[User | None]]
    ) -> LoginVerdict:
        """Judge one attempt: refused at once while its pair or its address must wait, else
        `verify`d and its failure or success counted.

        `verify` runs off the loop (argon2 takes ~0.1 s), so attempts could overlap: those of
        one pair take turns, and each one's failure counts before the next one is judged.
        """
        pair = (name, address)
        wait_s = self.retry_after_s(name, address)
        if wait_s > 0:
            return LoginVerdict(None, wait_s)
        turn = self._turns.setdefault(pair, _Turn())
        turn.attempts += 1
        try:
            async with turn.lock:
                wait_s = self.retry_after_s(name, address)
                if wait_s > 0:
                    return LoginVerdict(None, wait_s)
                user = await verify()
                if user is None:
                    self.failed(name, address)
                else:
                    self._pairs.pop(pair, None)
                return LoginVerdict(user)
        finally:
            turn.attempts -= 1
            if turn.attempts == 0:  # nobody holds or waits for it
                del self._turns[pair]

    def retry_after_s(self, name: str, address: str) -> float:
        """Seconds until `name` may try again from `address`; 0 when it may now."""
        now_s = self.wall()
        waits = [0.0]
        for backoff in (self._pairs.get((name, address)), self._addresses.get(address)):
            if backoff is not None:
                waits.append(backoff.wait_until_wall_s - now_s)
        return max(waits)

    def failed(self, name: str, address: str) -> None:
        policy, now_s = self.policy, self.wall()
        self._forget(now_s)
        pair = self._pairs.setdefault((name, address), _Backoff())
        if now_s - pair.last_failure_wall_s > policy.forget_pair_after_wall_s:
            pair.failures = 0
        self._count(
            pair, now_s, free=policy.free_failures_per_pair, cap=policy.max_wait_per_pair_wall_s
        )
        self._recent.append((now_s, address))
        from_address = self.failures_from(address)
        if from_address >= policy.free_failures_per_address:
            backoff = self._addresses.setdefault(address, _Backoff())
            backoff.failures = max(backoff.failures, from_address - 1)
            self._count(
                backoff,
                now_s,
                free=policy.free_failures_per_address,
                cap=policy.max_wait_per_address_wall_s,
            )

    def _count(self, backoff: _Backoff, now_s: float, *, free: int, cap: float) -> None:
        backoff.failures += 1
        backoff.last_failure_wall_s = now_s
        if backoff.failures >= free:
            doublings = min(backoff.failures - free, 30)
            wait_s = min(self.policy.first_wait_wall_s * 2.0**doublings, cap)
            backoff.wait_until_wall_s = now_s + wait_s

    def failures_from(self, address: str) -> int:
        """Failed logins from `address` within the window."""
        return sum(1 for _, source in self._recent if source == address)

    def brute_force(self) -> str:
        """What looks like a brute force now (failures within the window from one address, or
        from every address together), or '' when nothing does."""
        policy = self.policy
        self._forget(self.wall())
        window = f"{policy.window_wall_s:g} s"
        by_address: dict[str, int] = {}
        for _, address in self._recent:
            by_address[address] = by_address.get(address, 0) + 1
        busiest = max(by_address.items(), key=lambda item: item[1], default=("", 0))
        if busiest[1] >= policy.brute_force_from_one_address:
            return f"{busiest[1]} failed logins in {window} from {busiest[0]}"
        if len(self._recent) >= policy.brute_force_in_all:
            return f"{len(self._recent)} failed logins in {window} from {len(by_address)} addresses"
        return ""

    def _forget(self, now_s: float) -> None:
        """Drop failures older than the window; at most once a window, pairs and addresses
        quiet for long (a flood of random names must not cost a sweep per attempt)."""
        policy = self.policy
        while self._recent and now_s - self._recent[0][0] > policy.window_wall_s:
            self._recent.popleft()
        if now_s - self._swept_wall_s < policy.window_wall_s:
            return
        self._swept_wall_s = now_s
        self._pairs = {
            pair: backoff
            for pair, backoff in self._pairs.items()
            if _remembered(backoff, now_s, policy.forget_pair_after_wall_s)
        }
        self._addresses = {
            address: backoff
            for address, backoff in self._addresses.items()
            if _remembered(backoff, now_s, policy.window_wall_s)
        }


def _remembered(backoff: _Backoff, now_s: float, quiet_s: float) -> bool:
    """Whether a key's failures still matter: it must wait, or failed within `quiet_s`."""
    return now_s < backoff.wait_until_wall_s or now_s - backoff.last_failure_wall_s <= quiet_s
