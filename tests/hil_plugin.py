"""pytest plugin for the PLC contract suite: `--rig PATH` runs it against a HIL rig.

Without `--rig`, the contract tests run on `hil/rigs/sim-processes.yaml`: the reference pad's
simulators in a child process, reached over TCP exactly as real PLCs are. With `--rig`,
only the tests marked `hil` run, against the rig's PLCs (endpoints from the rig file, or
`--rig-endpoint PLC=HOST:PORT`). A rig with real PLCs is written to only with `--rig-yes`
(the contract's writing tests are skipped otherwise), as `padctl hil write` asks first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from hil._rig_sims import SimulatorProcess, rig_on_bench
from hil.rig import Rig, RigError, load_rig, parse_endpoint
from padctl.clock import ScaledClock
from padctl.definition import PadDefinition
from padctl.journal import AsyncJournal
from padctl.plant import BenchWriteGuard, Plant

DEFAULT_RIG = Path(__file__).resolve().parents[1] / "hil" / "rigs" / "sim-processes.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop rigs")
    group.addoption(
        "--rig",
        type=Path,
        default=None,
        help="Run the PLC contract tests (marker hil) against this rig file; only those run.",
    )
    group.addoption(
        "--rig-endpoint",
        action="append",
        default=[],
        metavar="PLC=HOST:PORT",
        help="Reach a rig PLC there instead of where the rig file says (repeatable).",
    )
    group.addoption(
        "--rig-yes",
        action="store_true",
        default=False,
        help="Let the contract tests write to a rig with real PLCs (round trips, watchdog, "
        "checkout).",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--rig") is None:
        return
    kept = [item for item in items if item.get_closest_marker("hil") is not None]
    dropped = [item for item in items if item.get_closest_marker("hil") is None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@dataclass
class HilBench:
    """A rig ready for the contract tests: its live definition and clock rate."""

    rig: Rig
    definition: PadDefinition  # endpoints live, timings at the clock rate
    sims: SimulatorProcess | None
    may_write: bool  # simulators, or real PLCs with --rig-yes

    @property
    def clock_rate(self) -> float:
        return self.rig.clock_rate

    def require_writes(self) -> None:
        if not self.may_write:
            pytest.skip(f"rig {self.rig.name} has real PLCs: writing tests need --rig-yes")

    @asynccontextmanager
    async def plant(
        self, tmp_path: Path, *, writes: bool
    ) -> AsyncIterator[tuple[Plant, BenchWriteGuard | None, AsyncJournal | None]]:
        """A connected plant on the rig: read-only, or journaled and guarded with heartbeats."""
        clock = ScaledClock(self.clock_rate)
        base_dir = self.rig.pad_path.parent
        if not writes:
            plant = Plant(
                definition=self.definition,
                clock=clock,
                journal=None,
                base_dir=base_dir,
                beat_heartbeats=False,
            )
            async with plant:
                assert await plant.wait_connected(15.0), "rig PLCs did not answer"
                yield plant, None, None
            return
        guard = self.rig.write_guard()  # confirmed already: simulators, or --rig-yes
        async with AsyncJournal(tmp_path / "hil-journal.sqlite", clock=clock) as journal:
            plant = Plant(
                definition=self.definition,
                clock=clock,
                journal=journal,
                base_dir=base_dir,
                write_guard=guard,
            )
            async with plant:
                assert await plant.wait_connected(15.0), "rig PLCs did not answer"
                problems = await plant.wait_watchdogs_clear(15.0)
                assert not problems, problems
                yield plant, guard, journal


@pytest.fixture(scope="session")
def hil_bench(request: pytest.FixtureRequest) -> Iterator[HilBench]:
    """The rig of `--rig` (default: the simulators in a child process), for the session."""
    given = request.config.getoption("--rig")
    path = Path(given) if given is not None else DEFAULT_RIG
    try:
        rig = load_rig(path)
        overrides = dict(
            parse_endpoint(text) for text in request.config.getoption("--rig-endpoint")
        )
        with rig_on_bench(rig, overrides) as (definition, sims):
            real = [p for p in rig.endpoints if p not in rig.from_sim or p in overrides]
            may_write = not real or bool(request.config.getoption("--rig-yes"))
            yield HilBench(rig=rig, definition=definition, sims=sims, may_write=may_write)
    except (RigError, ValueError) as error:
        raise pytest.UsageError(f"--rig {path}: {error}") from None
