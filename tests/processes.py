"""Running the padctl command as an operator does: a real process, bounded in time."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

PADCTL = str(Path(sys.executable).parent / "padctl")


async def run_padctl(*args: str, timeout_s: float = 30.0) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        PADCTL, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
