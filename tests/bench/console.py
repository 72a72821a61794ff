"""Benchmark: a tag change at the simulated PLC -> shown in a connected console's page.

`padctl serve --sim` runs the reference pad at real time (every PLC scanned) in a child
process, with ten consoles connected: one a real Chromium page (Debian's /usr/bin/chromium)
on the LOX loading display, where the latency is measured, and nine plain WebSocket clients,
each logged in with a session of its own. Each sample forces the simulated LOX ullage
transducer (LOX-PT-101) to a new value through the admin's fault door (`override`), and the
page records (a MutationObserver, `Date.now()`) when that value appears in its DOM; the sample
is that time minus the wall time just before the fault was sent. The server process's CPU is
measured with psutil over the same time.

Then the flood an outsider or a broken script can make: 200 bad logins (wrong passwords, from
another loopback address, 127.0.0.2) and 5,000 commands a viewer may not give, sent over its
socket as fast as the server answers. After it, `LOGIN_SAMPLES` fresh logins from the team's
address are each timed from the login request to the first snapshot on the new socket
(`login_to_data_ms_p95`), and that snapshot's size is `snapshot_bytes`. Prints one JSON object
as its last line.

    .venv/bin/python tests/bench/console.py [--samples N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psutil  # noqa: E402
import websockets  # noqa: E402

from padctl.console import SESSION_COOKIE  # noqa: E402
from padctl.procedure import sequences_dir  # noqa: E402
from tests.e2e_fixtures import (  # noqa: E402
    PASSWORD,
    chromium,
    console_server,
    make_users_file,
    open_console,
)

TAG = "LOX-PT-101"  # range 0-6 bar: the page shows it with three decimals
SOCKET_CLIENTS = 9
UPDATE_PERIOD_S = 0.15  # the server's default
BAD_LOGINS = 200
REFUSED_COMMANDS = 5_000
LOGIN_SAMPLES = 20
ATTACKER_ADDRESS = "127.0.0.2"  # any 127/8 address reaches the loopback server
WATCH = """(tag) => {
  window.__seen = {};
  const view = document.getElementById("view");
  let last = null;
  new MutationObserver(() => {
    const el = document.querySelector(`[data-tag="${tag}"]`);
    if (!el || el.textContent === last) return;
    last = el.textContent;
    if (!(last in window.__seen)) window.__seen[last] = Date.now();
  }).observe(view, { childList: true, subtree: true, characterData: true });
}"""


async def socket_client(url: str, cookie: str, counts: list[int], index: int) -> None:
    """A console that only listens (and keeps up), as a script or a wall display would."""
    ws_url = url.replace("http://", "ws://") + "/ws"
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    async with websockets.connect(ws_url, additional_headers=headers, max_size=None) as ws:
        async for _ in ws:
            counts[index] += 1


async def login(client: httpx.AsyncClient, user: str) -> str:
    answer = await client.post("/api/login", json={"username": user, "password": PASSWORD})
    answer.raise_for_status()
    cookie = answer.cookies[SESSION_COOKIE]
    client.cookies.clear()
    return cookie


async def bad_logins(url: str, count: int) -> dict[str, int]:
    """`count` logins with wrong passwords from another address; the answers by status."""
    transport = httpx.AsyncHTTPTransport(local_address=ATTACKER_ADDRESS)
    statuses: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=60) as client:

        async def one(index: int) -> None:
            name = "conductor" if index % 2 else f"guess{index}-" + "x" * 64
            answer = await client.post(
                "/api/login", json={"username": name, "password": f"wrong-{index}"}
            )
            statuses[str(answer.status_code)] = statuses.get(str(answer.status_code), 0) + 1

        for start in range(0, count, 20):  # twenty at a time, as a script would
            await asyncio.gather(*(one(i) for i in range(start, min(count, start + 20))))
    return statuses


async def refused_commands(url: str, cookie: str, count: int) -> dict[str, int]:
    """`count` commands a viewer may not give, over its socket; the answers by type."""
    ws_url = url.replace("http://", "ws://") + "/ws"
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    answers: dict[str, int] = {}
    async with websockets.connect(ws_url, additional_headers=headers, max_size=None) as ws:
        done = asyncio.Event()

        async def read() -> None:
            async for message in ws:
                kind = json.loads(message).get("type", "")
                if kind in ("accepted", "refused", "armed"):
                    answers[kind] = answers.get(kind, 0) + 1
                    if sum(answers.values()) >= count:
                        done.set()
                        return

        reader = asyncio.create_task(read())
        for index in range(count):
            request = {"type": "command", "request_id": f"f-{index}", "command": "count.start"}
            await ws.send(json.dumps(request))
        try:
            await asyncio.wait_for(done.wait(), timeout=120)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
    return answers


async def login_to_data(url: str, user: str) -> tuple[float, int]:
    """One login from the team's address: ms to the new socket's snapshot, its bytes."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        cookie = await login(client, user)
    ws_url = url.replace("http://", "ws://") + "/ws"
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    async with websockets.connect(ws_url, additional_headers=headers, max_size=None) as ws:
        async for message in ws:
            if json.loads(message).get("type") == "snapshot":
                elapsed_ms = (time.monotonic() - started) * 1000
                size = len(message.encode() if isinstance(message, str) else message)
                return elapsed_ms, size
    raise RuntimeError("the socket closed before its snapshot")


async def flood_then_logins(url: str, http: httpx.AsyncClient) -> dict[str, Any]:
    bad = await bad_logins(url, BAD_LOGINS)
    refused = await refused_commands(url, await login(http, "viewer"), REFUSED_COMMANDS)
    timings_ms, sizes = [], []
    for _ in range(LOGIN_SAMPLES):
        elapsed_ms, size = await login_to_data(url, "viewer")
        timings_ms.append(elapsed_ms)
        sizes.append(size)
    timings_ms.sort()
    return {
        "login_to_data_ms_p95": round(timings_ms[int(0.95 * (len(timings_ms) - 1))], 1),
        "login_to_data_ms_p50": round(statistics.median(timings_ms), 1),
        "snapshot_bytes": max(sizes),
        "flood_bad_logins": bad,
        "flood_refused_commands": refused,
    }


async def measure(samples: int, folder: Path) -> dict[str, Any]:
    users = await asyncio.to_thread(
        make_users_file, folder / "users.yaml", ("conductor", "viewer", "admin")
    )
    async with (
        console_server(
            folder,
            users,
            rate=1.0,
            sequence=sequences_dir() / "countdown.yaml",
            lcc=sequences_dir() / "lcc.yaml",
            update_period_s=UPDATE_PERIOD_S,
        ) as server,
        chromium() as browser,
        httpx.AsyncClient(base_url=server.url, timeout=10) as http,
    ):
        page = (await open_console(browser, server, "conductor")).page
        await page.evaluate("() => { location.hash = '#/subsystem/lox_loading'; }")
        await page.wait_for_selector(f'[data-tag="{TAG}"]')
        await page.evaluate(WATCH, TAG)
        counts = [0] * SOCKET_CLIENTS
        cookies = [await login(http, "viewer") for _ in range(SOCKET_CLIENTS)]
        clients = [
            asyncio.create_task(socket_client(server.url, cookie, counts, i))
            for i, cookie in enumerate(cookies)
        ]
        admin = httpx.AsyncClient(base_url=server.url, timeout=10)
        try:
            admin.cookies.set(SESSION_COOKIE, await login(http, "admin"))
            deadline = time.monotonic() + 20
            while (await http.get("/api/health")).json()["consoles"] < 1 + SOCKET_CLIENTS:
                if time.monotonic() > deadline:
                    raise TimeoutError("the ten consoles did not all connect")
                await asyncio.sleep(0.1)
            server_process = psutil.Process(server.process.pid)
            server_process.cpu_percent(None)
            started = time.monotonic()
            latencies_ms = []
            for i in range(samples):
                value = round(0.5 + 0.01 * i, 3)
                text = f"{value:.3f}"
                sent_ms = time.time() * 1000
                answer = await admin.post("/api/inject", json={"fault": f"override {TAG} {value}"})
                answer.raise_for_status()
                await page.wait_for_function(
                    "(text) => text in window.__seen", arg=text, polling=10, timeout=10_000
                )
                shown_ms = await page.evaluate("(text) => window.__seen[text]", text)
                latencies_ms.append(shown_ms - sent_ms)
                # Off the update period's beat, so samples fall anywhere in it.
                await asyncio.sleep(random.uniform(0.05, 0.35))
            cpu_pct = server_process.cpu_percent(None)
            elapsed_s = time.monotonic() - started
            health = (await http.get("/api/health")).json()
            await admin.post("/api/inject", json={"fault": f"unoverride {TAG}"})
            flood = await flood_then_logins(server.url, http)
        finally:
            await admin.aclose()
            for task in clients:
                task.cancel()
            for task in clients:
                with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                    await task
    latencies_ms.sort()
    return {
        "update_latency_ms_p99": round(latencies_ms[int(0.99 * (len(latencies_ms) - 1))], 1),
        "update_latency_ms_p50": round(statistics.median(latencies_ms), 1),
        "update_latency_ms_max": round(latencies_ms[-1], 1),
        "server_cpu_pct": round(cpu_pct, 1),
        "samples": len(latencies_ms),
        "consoles": health["consoles"],
        "socket_client_messages_min": min(counts),
        "measured_wall_s": round(elapsed_s, 1),
        "update_period_wall_s": UPDATE_PERIOD_S,
        "rate": 1.0,
        **flood,
        "targets": {
            "update_latency_ms_p99": 250,
            "server_cpu_pct": 50,
            "login_to_data_ms_p95": 800,
            "snapshot_bytes": 1_000_000,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="padctl-bench-console-") as tmp:
        result = asyncio.run(measure(args.samples, Path(tmp)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
