"""Benchmark: Sparkplug B publishing of the reference pad plus a synthetic 5,000-tag pad, with
10 % of the tags changing every 100 ms, to a real mosquitto and a subscriber process.

This process runs one edge node per pad (padctl/sparkplug: paho-mqtt's network thread and the
publisher thread) and, on its asyncio loop, what the station's face does on the control loop:
hand each round of changes over (`EdgeNode.offer`). A 10 ms timer on the same loop measures
what publishing costs the loop. A subscriber in a process of its own (paho-mqtt, decoding
with padctl's schema) takes the time from each metric's change (its timestamp) to its
arrival. Prints one JSON object as its last line:

- `mqtt_change_to_subscriber_ms_p99` (target <= 100);
- `publisher_cpu_pct`: CPU of the edge nodes' threads, % of one core (target <= 50);
- `control_loop_lag_ms_p99` while publishing (target <= 20);
- `history_rows_per_s`: what the tag history's store (padctl/history) sustains, appending
  batches of the size this load makes (10 % of the tags) for `--history-s` seconds, as fast
  as it goes, on a thread at the history writer's priority; `history_rows_offered_per_s` is
  what this load would hand it without the downsampling;
- the remote console (tests/bench/remote_viewers.py): `padctl serve --from-mqtt` in a child
  process, following the reference pad's edge node on the same broker, with `--viewers` (100)
  WebSocket clients in a process of their own, each logged in as a user of its own. Each
  change's value is its change time (`stamp`), so a viewer takes, for each tag value an update
  brings, the time from the change (the Reading's timestamp) to its arrival.
  `remote_viewers`: the clients that stayed connected and heard tag updates all through the
  changes (never silent over 1 s; `remote_viewers_opened` were opened);
  `remote_update_latency_ms_p99` (target <= 500) and p50 over every client's values changed
  within the run (`remote_update_samples`); `remote_console_cpu_pct`: the console process's
  CPU, % of one core, over the same time as `publisher_cpu_pct` (the viewers' process's too);
  `remote_resyncs`: snapshots sent again to clients that fell behind.

What is left out: the readings come from a loop task, not from PLC scans through a station's
tag table (the scan itself is measured by tests/bench/scan.py). The viewers run on the same
machine as everything else (one process; their JSON decoding is in the latency), read every
update but draw nothing, and their logins come before the run, not during it. Boolean tags
carry no change time: the latency is that of the reference pad's number tags.

    .venv/bin/python tests/bench/fanout.py [--duration-s 20] [--viewers 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402

from padctl.clock import real_clock  # noqa: E402
from padctl.definition import load_pad_definition  # noqa: E402
from padctl.sparkplug import EdgeNode, Reading, device_metrics, parse_mqtt_url  # noqa: E402
from tests.bench.big_pad import write_big_pad  # noqa: E402
from tests.bench.remote_viewers import (  # noqa: E402
    stamp,
    start_remote_console,
    write_viewer_users,
)
from tests.mqtt_broker import Broker  # noqa: E402

CHANGE_PERIOD_S = 0.1
CHANGE_FRACTION = 0.1
LAG_TIMER_S = 0.01
VIEWERS_SCRIPT = str(REPO / "tests/bench/remote_viewers.py")
REMOTE_SETTLE_S = 2.0  # after the last change, for the remote console's viewers to hear it

SUBSCRIBER = r"""
import json, sys, time, threading
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from padctl.sparkplug import Payload
latencies = []
lock = threading.Lock()
def on_message(client, userdata, message):
    now_ms = time.time() * 1000
    if "/DDATA/" not in message.topic:
        return
    payload = Payload.FromString(message.payload)
    with lock:
        latencies.extend(now_ms - m.timestamp for m in payload.metrics if m.timestamp)
client = mqtt.Client(CallbackAPIVersion.VERSION2)
client.on_connect = lambda c, *a: c.subscribe("spBv1.0/#")
client.on_message = on_message
client.connect("127.0.0.1", int(sys.argv[1]))
client.loop_start()
print("ready", flush=True)
sys.stdin.readline()
client.loop_stop()
with lock:
    print(json.dumps(latencies))
"""


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)


def edge_thread_cpu_s(process: psutil.Process, native_ids: set[int]) -> float:
    return sum(t.user_time + t.system_time for t in process.threads() if t.id in native_ids)


def cpu_s(processes: list[psutil.Process]) -> list[float]:
    return [sum(p.cpu_times()[:2]) for p in processes]


async def run(
    duration_s: float, port: int, watched: list[psutil.Process]
) -> tuple[dict[str, object], tuple[float, float], list[float]]:
    """The figures of the edge nodes and the loop; the wall-clock window of the changes (ms);
    the CPU % of one core each of the `watched` processes used over it."""
    folder = Path(tempfile.mkdtemp(prefix="padctl-fanout-"))
    pads = [load_pad_definition(), load_pad_definition(write_big_pad(folder / "big_pad.yaml"))]
    broker_url = parse_mqtt_url(f"mqtt://127.0.0.1:{port}")
    edges: list[tuple[EdgeNode, dict[str, list[str]]]] = []
    for definition in pads:
        devices = device_metrics(definition, ())
        edge = EdgeNode(
            broker_url,
            group_id="padctl",  # the remote console's group
            edge_node_id=definition.pad,
            devices=devices,
            clock=real_clock(),
        )
        plc_tags = {
            plc.id: [t.name for t in definition.tags if t.plc == plc.id] for plc in definition.plcs
        }
        for device, names in plc_tags.items():
            edge.offer(
                device, {name: Reading(0.0, "GOOD", int(time.time() * 1000)) for name in names}
            )
        edges.append((edge, plc_tags))
    before = {t.id for t in psutil.Process().threads()}
    for edge, _ in edges:
        edge.start()
    await asyncio.sleep(1.0)  # connected and born
    native_ids = {t.id for t in psutil.Process().threads()} - before
    process = psutil.Process()
    lags: list[float] = []
    changes = 0
    stop_at = time.monotonic() + duration_s
    cpu_start_s = edge_thread_cpu_s(process, native_ids)
    watched_start_s = cpu_s(watched)
    wall_start_s = time.monotonic()
    window_start_ms = float(int(time.time() * 1000))  # as the first Reading stamps it

    async def lag_probe() -> None:
        while time.monotonic() < stop_at:
            started = time.monotonic()
            await asyncio.sleep(LAG_TIMER_S)
            lags.append((time.monotonic() - started - LAG_TIMER_S) * 1000)

    async def changer() -> None:
        nonlocal changes
        rng = random.Random(1)
        all_tags = [
            (edge, device, name)
            for edge, tags in edges
            for device, names in tags.items()
            for name in names
        ]
        count = int(len(all_tags) * CHANGE_FRACTION)
        while time.monotonic() < stop_at:
            now_ms = int(time.time() * 1000)
            batch: dict[tuple[int, str], dict[str, Reading]] = {}
            for edge, device, name in rng.sample(all_tags, count):
                batch.setdefault((id(edge), device), {})[name] = Reading(
                    stamp(now_ms), "GOOD", now_ms
                )
            for edge, _ in edges:
                for device in list(edge._devices):
                    readings = batch.get((id(edge), device))
                    if readings:
                        edge.offer(device, readings)
            changes += count
            await asyncio.sleep(CHANGE_PERIOD_S)

    await asyncio.gather(lag_probe(), changer())
    window = (window_start_ms, time.time() * 1000)
    wall_s = time.monotonic() - wall_start_s
    edge_cpu_s = edge_thread_cpu_s(process, native_ids) - cpu_start_s
    watched_pct = [
        round(100 * (end - start) / wall_s, 1)
        for start, end in zip(watched_start_s, cpu_s(watched), strict=True)
    ]
    # the last round reaches the subscriber (and the remote console's viewers)
    await asyncio.sleep(REMOTE_SETTLE_S if watched else 0.5)
    statuses = [edge.status for edge, _ in edges]
    for edge, _ in edges:
        edge.stop()
    figures: dict[str, object] = {
        "tags": sum(len(d.tags) for d in pads),
        "changes_per_s": round(changes / wall_s),
        "publisher_cpu_pct": round(100 * edge_cpu_s / wall_s, 1),
        "control_loop_lag_ms_p99": percentile(lags, 0.99),
        "control_loop_lag_ms_p50": percentile(lags, 0.5),
        "data_messages": sum(s.data_messages for s in statuses),
        "coalesced_while_slow": sum(s.coalesced_while_slow for s in statuses),
    }
    return figures, window, watched_pct


def history_rows_per_s(tag_names: list[str], duration_s: float) -> dict[str, float]:
    """Append batches of 10 % of the tags to a fresh history file for `duration_s`."""
    import threading

    from padctl.history import HistoryRow, HistoryStore
    from padctl.off_loop import lower_priority

    folder = Path(tempfile.mkdtemp(prefix="padctl-fanout-history-"))
    result: dict[str, float] = {}

    def write() -> None:
        lower_priority()
        store = HistoryStore(folder / "history.sqlite")
        store.register((name, "") for name in tag_names)
        rng = random.Random(2)
        batch_size = int(len(tag_names) * CHANGE_FRACTION)
        rows = 0
        batch_times_ms = []
        started = time.monotonic()
        while time.monotonic() - started < duration_s:
            now_s = time.time()
            batch = [
                HistoryRow(name, now_s, now_s, rng.random() * 100, "GOOD")
                for name in rng.sample(tag_names, batch_size)
            ]
            begun = time.monotonic()
            store.append(batch)
            batch_times_ms.append((time.monotonic() - begun) * 1000)
            rows += batch_size
        result["history_rows_per_s"] = round(rows / (time.monotonic() - started))
        result["history_batch_ms_p99"] = percentile(batch_times_ms, 0.99)
        result["history_rows_offered_per_s"] = round(batch_size / CHANGE_PERIOD_S)
        store.close()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    return result


def python_child(*arguments: str) -> subprocess.Popen[str]:
    """A Python process of the bench's, spoken to on its stdin, answering on its stdout."""
    return subprocess.Popen(
        [sys.executable, *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def remote_figures(
    viewers: subprocess.Popen[str] | None, window: tuple[float, float]
) -> dict[str, object]:
    """What the viewers' process heard in `window`, once told it is over (None without one)."""
    if viewers is None:
        return {"remote_viewers": None, "remote_update_latency_ms_p99": None}
    out, _ = viewers.communicate(f"{window[0]} {window[1]}\n", timeout=60)
    heard = json.loads(out.strip().splitlines()[-1])
    return {
        "remote_viewers": heard["viewers"],
        "remote_viewers_opened": heard["opened"],
        "remote_update_latency_ms_p99": percentile(heard["ages_ms"], 0.99),
        "remote_update_latency_ms_p50": percentile(heard["ages_ms"], 0.5),
        "remote_update_samples": len(heard["ages_ms"]),
        "remote_update_silence_ms_max": heard["silence_ms_max"],
        "remote_resyncs": heard["resyncs"],
        "remote_viewers_closed": heard["closed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration-s", type=float, default=20.0)
    parser.add_argument("--history-s", type=float, default=5.0)
    parser.add_argument("--viewers", type=int, default=100, help="0: no remote console")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="padctl-fanout-broker-"))
    broker = Broker(folder)
    broker.start()
    children: list[subprocess.Popen[str]] = []
    try:
        subscriber = python_child("-c", SUBSCRIBER, str(broker.port))
        children.append(subscriber)
        assert subscriber.stdout is not None and subscriber.stdin is not None
        assert subscriber.stdout.readline().strip() == "ready"
        viewers = None
        if args.viewers > 0:
            password = write_viewer_users(folder / "users.yaml", args.viewers)
            console, url = start_remote_console(folder, broker.port, folder / "users.yaml")
            children.append(console)
            viewers = python_child(VIEWERS_SCRIPT, url, str(args.viewers), password)
            children.append(viewers)
            assert viewers.stdout is not None
            ready = viewers.stdout.readline().strip()
            if not ready.startswith("ready "):
                raise RuntimeError(f"the viewers did not start: {ready!r}")
            print(f"remote console {url}: viewers {ready}", file=sys.stderr)
        watched = [psutil.Process(p.pid) for p in children[1:]]
        try:
            import uvloop

            result, window, cpu_pct = uvloop.run(run(args.duration_s, broker.port, watched))
        except ImportError:
            result, window, cpu_pct = asyncio.run(run(args.duration_s, broker.port, watched))
        result.update(remote_figures(viewers, window))
        if viewers is not None:
            result["remote_console_cpu_pct"], result["remote_viewers_process_cpu_pct"] = cpu_pct
        out, _ = subscriber.communicate("\n", timeout=60)
        latencies = json.loads(out.strip().splitlines()[-1])
    finally:
        for child in reversed(children):
            stop(child)
        broker.stop()
    result.update(
        {
            "mqtt_change_to_subscriber_ms_p99": percentile(latencies, 0.99),
            "mqtt_change_to_subscriber_ms_p50": percentile(latencies, 0.5),
            "metrics_received": len(latencies),
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
    )
    tag_names = [tag.name for tag in load_pad_definition(None).tags]
    tag_names += [f"BIG-{n}" for n in range(result["tags"] - len(tag_names))]
    result.update(history_rows_per_s(tag_names, args.history_s))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
