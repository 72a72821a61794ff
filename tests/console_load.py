"""Console clients that load a server: a program of its own, so their work never runs in the
server's process (`python -m tests.console_load --url URL ...`).

- Failed logins: `--login-clients` clients in parallel, each from loopback addresses of its
  own (127.0.0.x, `--addresses-per-client`), each trying `--logins-per-client` wrong
  passwords one after another, alternately for a known user (`--guess-users`) and an
  unknown name.
- Idle consoles: `--sockets` WebSockets logged in as `--user` that only listen; the gaps
  between the updates each one receives are measured.
- A refusing console: one more WebSocket of `--user` sending, at `--refusals-per-s`, a
  command that user may not give (a viewer taking authority); its answers are counted.

The consoles log in and connect first. Then a line `{"phase": "start"}` is printed, the
logins and the refusals run (the refusals for `--duration-s`), `{"phase": "end"}` is
printed, and the figures follow as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import time
from collections import Counter
from typing import Any

import httpx
import websockets

SESSION_COOKIE = "padctl_session"
CONSOLE_ADDRESS = "127.0.0.2"  # the consoles' own logins: never locked out by the guesses
FIRST_GUESS_ADDRESS = 10  # guesses come from 127.0.0.10 upwards
REFUSED = {"type": "command", "command": "authority.take", "args": {"subsystem": "lox_loading"}}


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * (len(ordered) - 1) + 0.5))]


async def console_login(url: str, user: str, password: str) -> str:
    transport = httpx.AsyncHTTPTransport(local_address=CONSOLE_ADDRESS)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=60) as client:
        answer = await client.post("/api/login", json={"username": user, "password": password})
        answer.raise_for_status()
        return answer.cookies[SESSION_COOKIE]


async def guesses(
    url: str, index: int, args: argparse.Namespace, statuses: Counter[int], took_s: list[float]
) -> None:
    """One client's wrong passwords, one after another, from its own addresses."""
    first = FIRST_GUESS_ADDRESS + index * args.addresses_per_client
    clients = [
        httpx.AsyncClient(
            base_url=url,
            transport=httpx.AsyncHTTPTransport(local_address=f"127.0.0.{first + a}"),
            timeout=120,
        )
        for a in range(args.addresses_per_client)
    ]
    known = args.guess_users.split(",") if args.guess_users else []
    try:
        for attempt in range(args.logins_per_client):
            if known and attempt % 2 == 0:
                name = known[index % len(known)]
            else:
                name = f"nobody-{index}-{attempt}"
            client = clients[attempt % len(clients)]
            started = time.monotonic()
            answer = await client.post(
                "/api/login", json={"username": name, "password": f"wrong-guess-{attempt}"}
            )
            took_s.append(time.monotonic() - started)
            statuses[answer.status_code] += 1
    finally:
        for client in clients:
            await client.aclose()


class Listener:
    """An idle console: counts what it receives and when each update came."""

    def __init__(self) -> None:
        self.update_times: list[float] = []
        self.snapshots = 0
        self.measuring = False

    def gaps_s(self) -> list[float]:
        times = self.update_times
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    async def listen(self, ws: Any, connected: asyncio.Event) -> None:
        async for text in ws:
            head = text[:24] if isinstance(text, str) else ""
            if '"type":"snapshot"' in head:
                self.snapshots += 1
                connected.set()
            elif '"type":"update"' in head and self.measuring:
                self.update_times.append(time.monotonic())


async def refuse(ws: Any, rate_per_s: float, duration_s: float, counts: Counter[str]) -> None:
    """Send the refused command at a steady rate (a batch every 10 ms) for `duration_s`."""
    tick_s = 0.01
    total = int(rate_per_s * duration_s)
    started = time.monotonic()
    tick = 0
    while counts["sent"] < total:
        tick += 1
        due = min(total, int(tick * tick_s * rate_per_s))
        while counts["sent"] < due:
            counts["sent"] += 1
            await ws.send(json.dumps({**REFUSED, "request_id": f"r{counts['sent']}"}))
        await asyncio.sleep(max(0.0, started + tick * tick_s - time.monotonic()))


async def count_answers(ws: Any, counts: Counter[str]) -> None:
    async for text in ws:
        if isinstance(text, str) and text.startswith('{"type":"refused"'):
            counts["refused"] += 1


async def main(args: argparse.Namespace) -> dict[str, Any]:
    url = args.url.rstrip("/")
    ws_url = url.replace("http://", "ws://") + "/ws"
    consoles = args.sockets + (1 if args.refusals_per_s > 0 else 0)
    cookies = [await console_login(url, args.user, args.password) for _ in range(consoles)]
    listeners = [Listener() for _ in range(args.sockets)]
    counts: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    took_s: list[float] = []
    async with contextlib.AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(
                websockets.connect(
                    ws_url,
                    additional_headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
                    max_size=None,
                )
            )
            for cookie in cookies
        ]
        background: list[asyncio.Task[None]] = []
        try:
            for listener, ws in zip(listeners, sockets, strict=False):
                connected = asyncio.Event()
                background.append(asyncio.create_task(listener.listen(ws, connected)))
                await asyncio.wait_for(connected.wait(), 30)
            refuser = sockets[-1] if args.refusals_per_s > 0 else None
            if refuser is not None:
                assert '"type":"snapshot"' in (await asyncio.wait_for(refuser.recv(), 30))[:24]
                background.append(asyncio.create_task(count_answers(refuser, counts)))
            await asyncio.sleep(args.settle_s)
            print(json.dumps({"phase": "start"}), flush=True)
            for listener in listeners:
                listener.measuring = True
            started = time.monotonic()
            work = [guesses(url, i, args, statuses, took_s) for i in range(args.login_clients)]
            if refuser is not None:
                work.append(refuse(refuser, args.refusals_per_s, args.duration_s, counts))
            await asyncio.gather(*work)
            if time.monotonic() - started < args.duration_s:
                await asyncio.sleep(args.duration_s - (time.monotonic() - started))
            await asyncio.sleep(args.drain_s)  # the last answers and updates
            phase_s = time.monotonic() - started
            for listener in listeners:
                listener.measuring = False
            print(json.dumps({"phase": "end"}), flush=True)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
    gaps_ms = [gap * 1000 for listener in listeners for gap in listener.gaps_s()]
    return {
        "phase_s": round(phase_s, 2),
        "logins": {str(code): n for code, n in sorted(statuses.items())},
        "login_answer_ms_p50": round(percentile(took_s, 0.5) * 1000, 1),
        "login_answer_ms_max": round(max(took_s, default=0.0) * 1000, 1),
        "update_gap_ms_p99": round(percentile(gaps_ms, 0.99), 1),
        "update_gap_ms_max": round(max(gaps_ms, default=0.0), 1),
        "updates_per_console_min": min((len(x.update_times) for x in listeners), default=0),
        "resync_snapshots": sum(listener.snapshots - 1 for listener in listeners),
        "refusals_sent": counts["sent"],
        "refusals_answered": counts["refused"],
        "refusals_answered_per_s": round(counts["refused"] / phase_s, 1) if phase_s else 0.0,
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", default="viewer")
    parser.add_argument("--password", default="")
    parser.add_argument("--sockets", type=int, default=0)
    parser.add_argument("--login-clients", type=int, default=0)
    parser.add_argument("--logins-per-client", type=int, default=0)
    parser.add_argument("--addresses-per-client", type=int, default=1)
    parser.add_argument("--guess-users", default="", help="comma-separated known names")
    parser.add_argument("--refusals-per-s", type=float, default=0.0)
    parser.add_argument("--duration-s", type=float, default=0.0)
    parser.add_argument("--settle-s", type=float, default=0.0)
    parser.add_argument("--drain-s", type=float, default=0.3)
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse()))), flush=True)
