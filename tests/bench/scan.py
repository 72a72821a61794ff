"""Benchmark: padctl's full Modbus scan and OPC UA update latency against a 6,000-tag pad.

The simulated PLCs run in a separate process. Prints one JSON object as its last line:
modbus_tags, modbus_plcs, opcua_tags, cycle_ms_p50, cycle_ms_p99, naive_cycle_ms_p50,
bare_client_cycle_ms_p50, opcua_update_ms_p99, rss_mb (and a few more for context).

    .venv/bin/python tests/bench/scan.py [--cycles N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from pymodbus.client import AsyncModbusTcpClient

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from padctl.clock import ScaledClock  # noqa: E402
from padctl.definition import ModbusPlc, PadDefinition, load_pad_definition  # noqa: E402
from padctl.logs import configure_logging  # noqa: E402
from padctl.plant import ModbusHub, TagTable  # noqa: E402
from padctl.plant._opcua_hub import OpcUaHub  # noqa: E402
from tests.bench.big_pad import OPCUA_PUBLISHING_INTERVAL_MS, write_big_pad  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(definition: PadDefinition, cycles: int) -> dict[str, float | int | str]:
    clock = ScaledClock(1.0)
    table = TagTable(definition, clock)
    modbus_plcs = [plc for plc in definition.plcs if isinstance(plc, ModbusPlc)]
    hubs = [
        ModbusHub(plc=plc, tags=definition.tags_of(plc.id), table=table, clock=clock)
        for plc in modbus_plcs
    ]
    ua_plc = next(plc for plc in definition.plcs if not isinstance(plc, ModbusPlc))
    ua_hub = OpcUaHub(plc=ua_plc, tags=definition.tags_of(ua_plc.id), table=table, clock=clock)  # type: ignore[arg-type]
    latencies_ms: list[float] = []
    stamp_tags = {t.name for t in definition.tags_of(ua_plc.id) if "-ST-" in t.name}

    def on_change(names: object) -> None:
        now = time.time()
        for name in names:  # type: ignore[attr-defined]
            if name in stamp_tags:
                value = table.get(name).value
                if isinstance(value, float) and value > 0:
                    latencies_ms.append((now - value) * 1000)

    table.add_listener(on_change)
    await ua_hub.start()
    for hub in hubs:
        await hub.connect()
    try:
        if not await ua_hub.wait_connected(60):
            raise RuntimeError("OPC UA hub did not connect")
        gc.collect()
        gc.freeze()
        for _ in range(20):  # warm up
            await asyncio.gather(*(hub.scan_once() for hub in hubs))
        # Bare pymodbus clients (one more connection per PLC) reading the same blocks with no
        # decoding; measured interleaved with padctl's scan so both see the same load.
        clients = []
        for plc in modbus_plcs:
            client = AsyncModbusTcpClient(plc.host, port=plc.port, timeout=2, retries=0)
            await client.connect()
            clients.append(client)
        plans = [[(b.table.value, b.start, b.count) for b in hub.blocks] for hub in hubs]
        methods = {
            "co": "read_coils",
            "di": "read_discrete_inputs",
            "hr": "read_holding_registers",
            "ir": "read_input_registers",
        }

        async def bare_scan(client: AsyncModbusTcpClient, plan: list[tuple[str, int, int]]) -> None:
            for table_name, start, count in plan:
                await getattr(client, methods[table_name])(start, count=count, device_id=1)

        latencies_ms.clear()
        cycle_ms = []
        bare_ms = []
        for _ in range(cycles):
            started = time.perf_counter()
            await asyncio.gather(*(hub.scan_once() for hub in hubs))
            cycle_ms.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.005)  # as the poll loop would: let OPC UA traffic through
            started = time.perf_counter()
            await asyncio.gather(*(bare_scan(c, p) for c, p in zip(clients, plans, strict=True)))
            bare_ms.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.005)
        opcua_samples = list(latencies_ms)

        # Naive: one request per tag, the same tags.
        naive_hubs = [
            ModbusHub(
                plc=p, tags=definition.tags_of(p.id), table=table, clock=clock, coalesce=False
            )
            for p in modbus_plcs
        ]
        for hub in naive_hubs:
            await hub.connect()
        naive_ms = []
        for _ in range(3):
            started = time.perf_counter()
            await asyncio.gather(*(hub.scan_once() for hub in naive_hubs))
            naive_ms.append((time.perf_counter() - started) * 1000)
        for hub in naive_hubs:
            await hub.stop()
        for client in clients:
            client.close()
    finally:
        for hub in hubs:
            await hub.stop()
        await ua_hub.stop()

    blocks = sum(len(hub.blocks) for hub in hubs)
    return {
        "modbus_tags": sum(len(definition.tags_of(p.id)) for p in modbus_plcs),
        "modbus_plcs": len(modbus_plcs),
        "modbus_blocks_per_cycle": blocks,
        "opcua_tags": len(definition.tags_of(ua_plc.id)),
        "cycles": cycles,
        "cycle_ms_p50": round(statistics.median(cycle_ms), 3),
        "cycle_ms_p99": round(percentile(cycle_ms, 0.99), 3),
        "naive_cycle_ms_p50": round(statistics.median(naive_ms), 3),
        "bare_client_cycle_ms_p50": round(statistics.median(bare_ms), 3),
        "cycle_vs_bare": round(statistics.median(cycle_ms) / statistics.median(bare_ms), 3),
        "naive_vs_cycle": round(statistics.median(naive_ms) / statistics.median(cycle_ms), 1),
        "opcua_publishing_interval_ms": OPCUA_PUBLISHING_INTERVAL_MS,
        "opcua_updates_measured": len(opcua_samples),
        "opcua_update_ms_p50": round(statistics.median(opcua_samples), 3) if opcua_samples else -1,
        "opcua_update_ms_p99": round(percentile(opcua_samples, 0.99), 3) if opcua_samples else -1,
        "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
        "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
    }


def run_loop(main_coroutine):  # type: ignore[no-untyped-def]
    """Run on uvloop where it installs, as padctl does."""
    if importlib.util.find_spec("uvloop") is None:
        return asyncio.run(main_coroutine)
    import uvloop

    return uvloop.run(main_coroutine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=500)
    args = parser.parse_args()
    configure_logging(level="warning")
    with tempfile.TemporaryDirectory() as tmp:
        definition_path = write_big_pad(Path(tmp) / "bench_pad.yaml")
        definition = load_pad_definition(definition_path)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        sim = subprocess.Popen(
            [sys.executable, str(REPO / "tests/bench/sim_process.py"), str(definition_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        try:
            assert sim.stdout is not None
            for _ in definition.plcs:
                endpoint = json.loads(sim.stdout.readline())
                definition = definition.with_plc_endpoint(
                    endpoint["id"], host=endpoint["host"], port=endpoint["port"]
                )
            result = run_loop(measure(definition, args.cycles))
        finally:
            assert sim.stdin is not None
            sim.stdin.close()
            try:
                sim.wait(timeout=20)
            except subprocess.TimeoutExpired:
                sim.kill()
                sim.wait()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
