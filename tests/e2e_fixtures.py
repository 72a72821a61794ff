"""The console end to end: `padctl serve --sim` as a child process, Debian's Chromium driven
by Playwright, users made as `padctl users add` makes them.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from padctl.console import Role, UsersFile
from padctl.subsystems import ALL_SPECS

REPO = Path(__file__).resolve().parents[1]
PADCTL = str(Path(sys.executable).parent / "padctl")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DATA = REPO / "tests" / "data" / "console"
COUNT_FILE = DATA / "count.yaml"
LCC_FILE = DATA / "lcc.yaml"
ARTIFACTS = REPO / "test-artifacts" / "console"
PASSWORD = "e2e-Password-42"
PAD_SYSTEMS = (
    "ground_power,water_deluge,fire_suppression,erector,cable_mast,hold_downs,vehicle_interface"
)
# name -> the user's role and subsystems (as `padctl users add NAME --role R --subsystems S`)
USERS: dict[str, tuple[Role, str]] = {
    "conductor": (Role.TEST_CONDUCTOR, ""),
    "padsystems": (Role.SUBSYSTEM_OPERATOR, PAD_SYSTEMS),
    "propellants": (Role.SUBSYSTEM_OPERATOR, "kerosene_loading"),
    "viewer": (Role.VIEWER, ""),
    "admin": (Role.ADMIN, ""),
}
_URL_LINE = re.compile(r"padctl console: (https?://\S+)")


def make_users_file(path: Path, names: tuple[str, ...] = tuple(USERS)) -> Path:
    """The users file, made by what `padctl users add NAME --role R --subsystems S` does (the
    command itself, from its own process, is tests/test_cli_users.py's): in this process, as
    a process start per user cost a CPU second each."""
    users = UsersFile.load(path)
    for name in names:
        role, subsystems = USERS[name]
        users.add(
            name,
            role=role,
            password=PASSWORD,
            subsystems=tuple(part for part in subsystems.split(",") if part),
            known_subsystems=tuple(spec.name for spec in ALL_SPECS),
        )
    users.save()
    return path


@dataclass
class ConsoleServer:
    """A running `padctl serve --sim`: its URL, its process, and its output files."""

    url: str
    process: asyncio.subprocess.Process
    log: Path

    async def inject(self, fault: str, *, user: str = "admin") -> dict[str, Any]:
        """A simulator fault through the admin's HTTP door (as an instructor injects one)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            login = await client.post("/api/login", json={"username": user, "password": PASSWORD})
            login.raise_for_status()
            answer = await client.post("/api/inject", json={"fault": fault})
            answer.raise_for_status()
            body: dict[str, Any] = answer.json()
            await client.post("/api/logout")
            return body

    def pause(self) -> None:
        """Freeze the server process (SIGSTOP): every console stops hearing from it."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@asynccontextmanager
async def console_server(
    folder: Path,
    users: Path,
    *,
    rate: float,
    sequence: Path = COUNT_FILE,
    lcc: Path = LCC_FILE,
    update_period_s: float = 0.15,
    start_timeout_s: float = 60.0,
) -> AsyncIterator[ConsoleServer]:
    """`padctl serve --sim` on 127.0.0.1, an ephemeral port; stopped (SIGTERM) on the way out.

    Its diagnostics go to `serve.log` in `folder`; its standard output says where it listens.
    """
    async with padctl_serve(
        folder,
        "--sim",
        "--rate",
        str(rate),
        "--users",
        str(users),
        "--sequence",
        str(sequence),
        "--lcc",
        str(lcc),
        "--journal",
        str(folder / "journal.sqlite"),
        "--update-period",
        str(update_period_s),
        start_timeout_s=start_timeout_s,
    ) as server:
        yield server


@asynccontextmanager
async def padctl_serve(
    folder: Path, *options: str, start_timeout_s: float = 60.0
) -> AsyncIterator[ConsoleServer]:
    """`padctl serve OPTIONS` on 127.0.0.1, an ephemeral port; stopped (SIGTERM) on the way
    out. Its diagnostics go to `serve.log` in `folder`."""
    log_path = folder / "serve.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            PADCTL,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            *options,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            cwd=folder,
        )
    try:
        url = await _wait_for_url(process, log_path, start_timeout_s)
        yield ConsoleServer(url=url.rstrip("/"), process=process, log=log_path)
    finally:
        await stop_process(process)


async def _wait_for_url(process: asyncio.subprocess.Process, log: Path, timeout_s: float) -> str:
    assert process.stdout is not None
    printed: list[str] = []

    async def url() -> str:
        assert process.stdout is not None
        while line := (await process.stdout.readline()).decode(errors="replace"):
            printed.append(line)
            match = _URL_LINE.search(line)
            if match:
                return match.group(1)
        raise EOFError("padctl serve ended")

    try:
        return await asyncio.wait_for(url(), timeout_s)
    except (TimeoutError, EOFError):
        raise AssertionError(
            f"padctl serve did not print its URL within {timeout_s:g} s "
            f"(exit {process.returncode}):\n{''.join(printed)}\n{_diagnostics(log)}"
        ) from None


def _diagnostics(log: Path) -> str:
    """The server's log for a failure message: its start (the cause) and its end."""
    text = log.read_text(errors="replace")
    return text if len(text) <= 8000 else f"{text[:5000]}\n...\n{text[-3000:]}"


async def stop_process(process: asyncio.subprocess.Process, timeout_s: float = 20.0) -> None:
    if process.returncode is None:
        os.kill(process.pid, signal.SIGCONT)  # in case a test left it paused
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Debian's Chromium, headless, through Playwright (never a downloaded browser).

    Each operator gets a context of their own (`browser.new_context()`: incognito, with its own
    cookies), as separate browsers on separate desks would be.
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def server_and_browser(
    folder: Path, users: Path, *, rate: float
) -> AsyncIterator[tuple[ConsoleServer, Any]]:
    """`padctl serve --sim` (as `console_server`) and a headless Chromium to reach it."""
    async with console_server(folder, users, rate=rate) as server, chromium() as browser:
        yield server, browser


@dataclass
class Operator:
    """One operator's console: a browser context of their own, its page, its script errors."""

    name: str
    page: Any
    errors: list[str]

    async def show(self, display: str) -> None:
        """Go to a display (`overview`, `alarms`, `poll`, `journal`, `subsystem/erector`)."""
        await self.page.evaluate("(display) => { location.hash = '#/' + display; }", display)
        view, _, name = display.partition("/")
        selector = f'[data-subsystem="{name}"]' if name else f".{view}-page"
        await self.page.wait_for_selector(selector, timeout=10_000)


async def open_console(
    browser: Any, server: ConsoleServer, user: str, password: str = PASSWORD
) -> Operator:
    """A new browser context for `user`: the console sends it to the login page; log in there."""
    context = await browser.new_context(viewport={"width": 1500, "height": 1100})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(server.url + "/")
    await page.wait_for_url("**/login.html", timeout=15_000)
    await page.fill("#username", user)
    await page.fill("#password", password)
    await page.click("#login-button")
    await page.wait_for_selector(".overview-page", timeout=15_000)
    return Operator(user, page, errors)


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout_s: float, what: str, poll_s: float = 0.1
) -> None:
    """Poll `check` until it holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        await asyncio.sleep(poll_s)


def browser_marks(timeout_s: float) -> list[pytest.MarkDecorator]:
    """The marks of a test module driving Debian's Chromium (skipped where it is missing)."""
    return [
        pytest.mark.e2e,
        pytest.mark.slow,
        pytest.mark.timeout(timeout_s),
        pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (chromium)"),
    ]


async def answered(operator: Operator, text: str, timeout_ms: float = 20_000) -> None:
    """The server's answer to the last command shows as a toast (and in the command log)."""
    from playwright.async_api import expect

    toast = operator.page.locator(".toast", has_text=text).first
    await expect(toast).to_be_visible(timeout=timeout_ms)
