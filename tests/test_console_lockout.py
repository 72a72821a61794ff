"""Password guessing at the console, over real sockets from several loopback addresses: failures
count per user and address with a doubling wait, a stranger elsewhere locks nobody out, and a
brute-force pattern raises CONSOLE-BRUTE-FORCE."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from padctl.alarms import AlarmState
from padctl.console import BRUTE_FORCE_ALARM_ID, User
from padctl.console._login_throttle import LoginThrottle
from tests.console_fixtures import PASSWORD, ServedConsole, served_console

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[ServedConsole]:
    async with served_console(tmp_path) as console:
        yield console


async def _login(served: ServedConsole, address: str, name: str, password: str) -> httpx.Response:
    """One login from `address` (a loopback source address of its own)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=served.url, transport=transport, timeout=10) as client:
        return await client.post("/api/login", json={"username": name, "password": password})


async def _guesses(served: ServedConsole, address: str, names: list[str]) -> list[int]:
    """A wrong password for each of `names` from `address`: the answers' status codes."""
    return [(await _login(served, address, name, "guess-guess")).status_code for name in names]


async def test_a_stranger_elsewhere_cannot_lock_the_safety_officer_out(
    served: ServedConsole,
) -> None:
    statuses = await _guesses(served, "127.0.0.2", ["so"] * 8)
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429  # the stranger is held back
    mine = await _login(served, "127.0.0.1", "so", PASSWORD)
    assert mine.status_code == 200, mine.text


async def test_random_names_from_one_address_do_not_lock_a_real_user_there(
    served: ServedConsole,
) -> None:
    assert await _guesses(served, "127.0.0.2", [f"nobody{n}" for n in range(10)]) == [401] * 10
    real = await _login(served, "127.0.0.2", "tc", PASSWORD)
    assert real.status_code == 200, real.text


async def test_the_wait_doubles_per_user_and_address_and_a_success_resets_it(
    served: ServedConsole,
) -> None:
    assert await _guesses(served, "127.0.0.2", ["admin1"] * 5) == [401] * 5
    first = await _login(served, "127.0.0.2", "admin1", PASSWORD)
    assert first.status_code == 429 and 0 < first.json()["retry_after_s"] <= 1
    served.wall.advance(1.1)
    assert (await _login(served, "127.0.0.2", "admin1", "guess-guess")).status_code == 401
    second = await _login(served, "127.0.0.2", "admin1", PASSWORD)
    assert second.status_code == 429 and 1 < second.json()["retry_after_s"] <= 2
    served.wall.advance(2.1)
    assert (await _login(served, "127.0.0.2", "admin1", PASSWORD)).status_code == 200
    assert (await _login(served, "127.0.0.2", "admin1", "guess-guess")).status_code == 401


async def test_a_brute_force_from_one_address_raises_an_alarm_and_slows_that_address(
    served: ServedConsole,
) -> None:
    alarms = served.console.station.alarms
    assert not alarms.get(BRUTE_FORCE_ALARM_ID).condition_active
    assert await _guesses(served, "127.0.0.3", [f"guess{n}" for n in range(20)]) == [401] * 20
    alarm = alarms.get(BRUTE_FORCE_ALARM_ID)
    assert alarm.condition_active and alarm.state is AlarmState.UNACK
    assert "127.0.0.3" in alarm.detail and "20" in alarm.detail, alarm.detail
    slowed = await _login(served, "127.0.0.3", "tc", PASSWORD)  # that address waits a little
    assert slowed.status_code == 429 and slowed.json()["retry_after_s"] <= 1
    elsewhere = await _login(served, "127.0.0.1", "tc", PASSWORD)  # nobody else does
    assert elsewhere.status_code == 200, elsewhere.text
    served.wall.advance(61.0)  # the failures are old now: the condition clears on the next tick
    await _until(lambda: not alarms.get(BRUTE_FORCE_ALARM_ID).condition_active)
    assert (await _login(served, "127.0.0.3", "tc", PASSWORD)).status_code == 200


async def test_failures_across_addresses_raise_the_alarm_too(served: ServedConsole) -> None:
    """A guessing spread over many machines: no single address is busy, the console is."""
    for number in range(30):
        address = f"127.0.1.{number + 1}"
        assert (await _login(served, address, "so", "guess-guess")).status_code == 401
    alarm = served.console.station.alarms.get(BRUTE_FORCE_ALARM_ID)
    assert alarm.condition_active and "30 failed logins" in alarm.detail, alarm.detail
    assert (await _login(served, "127.0.0.1", "so", PASSWORD)).status_code == 200


async def _until(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s"
        await asyncio.sleep(0.02)


async def test_overlapping_guesses_of_one_pair_take_turns() -> None:
    """Hashing runs off the loop, so guesses overlap: ten at once for one name and address
    still get five hearings, each failure counted before the next is judged."""
    throttle = LoginThrottle(wall=lambda: 1000.0)  # time stands still: no wait runs out
    heard = 0

    async def wrong_password() -> User | None:
        nonlocal heard
        heard += 1
        for _ in range(3):  # the loop runs others meanwhile, as while a hash runs elsewhere
            await asyncio.sleep(0)
        return None

    verdicts = await asyncio.gather(
        *(throttle.attempt("so", "10.0.0.9", wrong_password) for _ in range(10))
    )
    assert heard == 5
    assert [v.retry_after_s > 0 for v in verdicts] == [False] * 5 + [True] * 5
    assert throttle.retry_after_s("so", "10.0.0.8") == 0  # the same user elsewhere may try
