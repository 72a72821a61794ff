"""The simulated pad the CLI runs padctl on: in a process of its own, on a shared clock.

`countdown --sim`, `serve --sim`, `train` and `demo` start the simulated PLCs and the
physics as a child process (`simulators.process`), so they never share padctl's event loop
or core; they reach padctl over loopback sockets exactly as real PLCs would. The clock is
padctl's `ScaledClock`, published to the child: one pad time on both sides of the wire, and
every rate change (the rate governor, an instructor's pause) reaches the physics at once.
This module is one of the few places padctl composes a whole program with the simulators.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from padctl.clock import ScaledClock
from padctl.definition import PadDefinition
from simulators.remote import SimulatorProcess


@dataclass
class SimulatedPadHandle:
    """A running simulated pad: the shared clock, the child, and the live definition."""

    clock: ScaledClock
    simulator: SimulatorProcess
    definition: PadDefinition  # endpoints point at the child's servers

    async def inject(self, text: str) -> str:
        """Play fault words (`padctl sim`'s, or 'LOX-PT-101 bias 2.5'); ValueError if bad."""
        return await self.simulator.inject(text)


@asynccontextmanager
async def simulated_pad(
    definition: PadDefinition,
    *,
    rate: float,
    scan_wall_s: float | None = None,
    log_level: str = "warning",
) -> AsyncIterator[SimulatedPadHandle]:
    """The simulated pad of `definition` in its own process, at clock rate `rate`."""
    with tempfile.TemporaryDirectory(prefix="padctl-clock-") as folder:
        clock = ScaledClock(rate, share_path=Path(folder) / "clock")
        try:
            simulator = SimulatorProcess(
                definition, clock, scan_wall_s=scan_wall_s, log_level=log_level
            )
            live = await simulator.start()
            try:
                yield SimulatedPadHandle(clock, simulator, live)
            finally:
                await simulator.stop()
        finally:
            clock.close()
