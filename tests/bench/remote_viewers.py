"""The remote console's side of tests/bench/fanout.py: `padctl serve --from-mqtt` in a child
process, and (run as a script, a process of its own) N viewers of it.

Each viewer logs in as a user of its own (POST /api/login), opens the WebSocket /ws with its
session cookie and takes, for each GOOD tag value an `update` brings, the time from the value's
change at the pad to its arrival. An update tells a tag's value and when the console received
it, not when it changed; so the bench writes the change time into the value itself
(`stamp`: 1 + the wall time in ms, modulo about 2.8 h, exact in a double) and the viewer
reads it back (`age_ms`). Boolean tags carry no stamp and are not counted.

    python tests/bench/remote_viewers.py URL COUNT PASSWORD

prints `ready N` once every viewer has its snapshot (N: how many have), then waits for a line
`START_MS END_MS` (the wall-clock window of the changes) on stdin, closes the sockets and prints
one JSON object: the viewers that stayed connected and heard tag updates all through the window
(no silence over SILENCE_LIMIT_MS), the ages of the values changed within it, the longest
silence, and how many snapshots were sent again to viewers that fell behind.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import websockets  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402

from padctl.console import SESSION_COOKIE, Role, UsersFile  # noqa: E402

STAMP_MODULUS_MS = 10_000_000
SILENCE_LIMIT_MS = 1000.0  # the console sends an update every 150 ms
VIEWER_PASSWORD = "remote viewer of the bench"
START_TIMEOUT_S = 120.0  # every login hashes once at full cost (argon2) in the console


def stamp(wall_ms: int) -> float:
    """A tag value that tells when it was set (`wall_ms`, wall-clock milliseconds)."""
    return float(1 + wall_ms % STAMP_MODULUS_MS)


def age_ms(value: object, now_ms: float) -> float | None:
    """How long ago a `stamp`ed value was set; None for a value that is no stamp."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
        return None
    return (now_ms - (value - 1)) % STAMP_MODULUS_MS


def viewer_name(index: int) -> str:
    return f"viewer{index:03d}"


def write_viewer_users(path: Path, count: int) -> str:
    """A users file of `count` viewers sharing one password (returned). Cheap argon2 here: the
    console hashes each again at full cost on its first login, before the bench measures."""
    users = UsersFile(path=path, hasher=PasswordHasher(time_cost=1, memory_cost=1024))
    for index in range(count):
        users.add(viewer_name(index), role=Role.VIEWER, password=VIEWER_PASSWORD)
    users.save()
    return VIEWER_PASSWORD


def start_remote_console(
    folder: Path, broker_port: int, users: Path, timeout_s: float = 60.0
) -> tuple[subprocess.Popen[str], str]:
    """`padctl serve --from-mqtt` on the broker, for the reference pad; its URL once it serves.
    Its diagnostics go to serve.log in `folder`."""
    with (folder / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "padctl"),
                "serve",
                "--from-mqtt",
                f"mqtt://127.0.0.1:{broker_port}",
                "--users",
                str(users),
                "--host",
                "127.0.0.1",
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=folder,
        )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while (left_s := deadline - time.monotonic()) > 0:
        if not select.select([process.stdout], [], [], left_s)[0]:
            break
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("padctl console: http://"):
            return process, line.split(": ", 1)[1].strip().rstrip("/")
    process.kill()
    process.wait()
    log_text = (folder / "serve.log").read_text(errors="replace")[-3000:]
    raise RuntimeError(
        f"padctl serve --from-mqtt did not serve within {timeout_s:g} s:\n{log_text}"
    )


@dataclass
class Viewer:
    name: str
    snapshots: int = 0
    heard_ms: list[float] = field(default_factory=list)  # arrivals of updates with tag values
    ages: list[tuple[float, float]] = field(default_factory=list)  # (changed at ms, age ms)
    closed: str = ""  # why its socket ended before the bench was over
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def watch(self, ws_url: str, cookie: str) -> None:
        headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
        try:
            async with websockets.connect(ws_url, additional_headers=headers, max_size=None) as ws:
                async for text in ws:
                    self.take(text, time.time() * 1000)
            self.closed = "closed by the console"
        except (websockets.ConnectionClosed, OSError) as error:
            self.closed = repr(error)
        finally:
            self.ready.set()

    def take(self, text: str | bytes, now_ms: float) -> None:
        message = json.loads(text)
        if message.get("type") == "snapshot":
            self.snapshots += 1
            self.ready.set()
        elif message.get("type") == "update" and message.get("tags"):
            self.heard_ms.append(now_ms)
            for tag in message["tags"].values():
                age = age_ms(tag.get("value"), now_ms) if tag.get("quality") == "GOOD" else None
                if age is not None:
                    self.ages.append((now_ms - age, round(age, 1)))


def summary(viewers: list[Viewer], start_ms: float, end_ms: float) -> dict[str, object]:
    stayed, silence_max_ms, ages = 0, 0.0, []
    for viewer in viewers:
        ages += [age for changed_ms, age in viewer.ages if start_ms <= changed_ms <= end_ms]
        heard = [start_ms, *(t for t in viewer.heard_ms if start_ms <= t <= end_ms), end_ms]
        silence_ms = max(later - earlier for earlier, later in itertools.pairwise(heard))
        silence_max_ms = max(silence_max_ms, silence_ms)
        stayed += not viewer.closed and silence_ms <= SILENCE_LIMIT_MS
    return {
        "viewers": stayed,
        "opened": len(viewers),
        "closed": [f"{v.name}: {v.closed}" for v in viewers if v.closed][:5],
        "silence_ms_max": round(silence_max_ms, 1),
        "resyncs": sum(max(0, v.snapshots - 1) for v in viewers),
        "ages_ms": ages,
    }


async def main(url: str, count: int, password: str) -> None:
    viewers = [Viewer(viewer_name(index)) for index in range(count)]
    async with httpx.AsyncClient(base_url=url, timeout=START_TIMEOUT_S) as http:
        cookies = []
        for viewer in viewers:
            answer = await http.post(
                "/api/login", json={"username": viewer.name, "password": password}
            )
            answer.raise_for_status()
            cookies.append(answer.cookies[SESSION_COOKIE])
    ws_url = url.replace("http://", "ws://", 1) + "/ws"
    tasks = [
        asyncio.create_task(viewer.watch(ws_url, cookie))
        for viewer, cookie in zip(viewers, cookies, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(v.ready.wait() for v in viewers)), START_TIMEOUT_S)
    print("ready", sum(v.snapshots > 0 and not v.closed for v in viewers), flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start_ms, end_ms = (float(part) for part in line.split())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(summary(viewers, start_ms, end_ms)), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
