"""The bench's simulated PLCs, in their own process as PLCs are on a real pad.

Prints one JSON line per PLC endpoint, then keeps changing values: the OPC UA stamp tags
carry the wall time at which they were written, so the reader can measure update latency.
Exits when its standard input closes.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import sys
import time
from pathlib import Path

from padctl.clock import ScaledClock
from padctl.definition import load_pad_definition
from padctl.logs import configure_logging
from simulators.pad import SimulatedPad
from tests.bench.big_pad import OPCUA_STAMP_TAGS

STAMP_PERIOD_S = 0.1


async def main(definition_path: Path) -> None:
    configure_logging(level="warning")
    definition = load_pad_definition(definition_path)
    pad = SimulatedPad(definition, ScaledClock(1.0), scan_wall_s=0.05)
    await pad.start()
    gc.collect()
    gc.freeze()  # a built asyncua server holds ~500k objects: keep them out of GC pauses
    try:
        for endpoint in pad.endpoints():
            print(json.dumps(endpoint), flush=True)
        stdin_closed = asyncio.Event()
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

        async def watch_stdin() -> None:
            await reader.read()
            stdin_closed.set()

        watcher = asyncio.create_task(watch_stdin())
        stamps = [f"UA-ST-{n:04d}" for n in range(OPCUA_STAMP_TAGS)]
        modbus = {
            plc: [t.name for t in definition.tags_of(plc) if "-PT-" in t.name]
            for plc in pad.plcs
            if plc != "UA"
        }
        while not stdin_closed.is_set():
            now = time.time()
            await pad.set_values("UA", {name: now for name in stamps})
            for plc, names in modbus.items():
                await pad.set_values(plc, {n: random.uniform(0, 1000) for n in names[:50]})
            await asyncio.sleep(STAMP_PERIOD_S)
        watcher.cancel()
    finally:
        await pad.stop()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: sim_process.py PAD_DEFINITION")
    try:
        import uvloop

        uvloop.run(main(Path(sys.argv[1])))
    except ImportError:
        asyncio.run(main(Path(sys.argv[1])))
