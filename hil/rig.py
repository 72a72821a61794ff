"""HIL rig definitions: which PLCs and tags of a pad are on a bench, and what may be written.

A rig file names a pad definition and lists the PLCs that are on the bench (with the
endpoints they have here), globs over the tags that exist on it, the writes allowed on it
(with optional narrower ranges and rate limits), and the contract tests that apply.
`load_rig` validates all of it against the pad definition and reports every problem as
`file:line: field: problem`, as the pad definition loader does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from hil._rig_model import ContractTest, RigFile
from hil._rig_resolve import resolve_rig
from padctl.definition import PadDefinition
from padctl.plant import BenchWriteGuard, WriteAllowance, WriteConfirmation
from padctl.yaml_lines import DataFileError, load_yaml_with_lines

# A list item in an error is named by these keys: an entry by its id or tag.
_LABELS = ("id", "tag")


class RigError(Exception):
    """A rig file (or an endpoint given for it) is invalid; `problems` lists each one."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s) in rig file\n" + "\n".join(problems))


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int | None  # None: the simulators' ephemeral port, known once they run


@dataclass(frozen=True)
class Simulators:
    pad_path: Path  # the pad the simulators serve
    rate: float
    physics: bool


@dataclass(frozen=True)
class Rig:
    """A validated rig: the bench's slice of the pad and the rules for writing to it."""

    name: str
    path: Path
    description: str
    pad_path: Path
    definition: PadDefinition  # the bench's PLCs and tags, endpoints as the rig file gives them
    endpoints: Mapping[str, Endpoint]
    allowances: Mapping[str, WriteAllowance]
    max_writes_per_s_per_tag: int
    max_writes_per_s: int
    contract_tests: frozenset[ContractTest]
    checkout_subsystems: tuple[str, ...]
    watchdog_tags: Mapping[str, str]  # PLC -> the output the watchdog test moves
    simulators: Simulators | None

    @property
    def clock_rate(self) -> float:
        """Clock rate of a run on this rig: 1 with real PLCs; the simulators' rate otherwise."""
        return self.simulators.rate if self.simulators is not None else 1.0

    @property
    def from_sim(self) -> list[str]:
        """PLCs whose port comes from the simulators (`port: from-sim`)."""
        return [plc_id for plc_id, endpoint in self.endpoints.items() if endpoint.port is None]

    def definition_at(self, overrides: Mapping[str, tuple[str, int]]) -> PadDefinition:
        """The bench definition with `overrides` (PLC -> host, port) applied, at the clock rate.

        RigError if a PLC whose port comes from the simulators is left without one, or an
        override names a PLC that is not on the rig.
        """
        problems = [
            f"{self.path}: --endpoint {plc_id}: PLC {plc_id} is not on rig {self.name} "
            f"(on it: {', '.join(self.endpoints)})"
            for plc_id in overrides
            if plc_id not in self.endpoints
        ]
        problems.extend(
            f"{self.path}: PLC {plc_id}: port is from-sim, and no simulator or --endpoint gave one"
            for plc_id in self.from_sim
            if plc_id not in overrides
        )
        if problems:
            raise RigError(self.path, problems)
        definition = self.definition
        for plc_id, (host, port) in overrides.items():
            definition = definition.with_plc_endpoint(plc_id, host=host, port=port)
        return definition

    def write_guard(
        self, *, dry_run: bool = False, confirm: WriteConfirmation | None = None
    ) -> BenchWriteGuard:
        """The guard that keeps padctl's writes to what this bench allows."""
        return BenchWriteGuard(
            name=self.name,
            allowances=self.allowances,
            max_writes_per_s_per_tag=self.max_writes_per_s_per_tag,
            max_writes_per_s=self.max_writes_per_s,
            dry_run=dry_run,
            confirm=confirm,
        )


def load_rig(path: Path | str) -> Rig:
    """Load and fully validate a rig file; RigError listing every problem."""
    file_path = Path(path)
    try:
        document = load_yaml_with_lines(file_path)
    except DataFileError as error:
        raise RigError(file_path, [str(error)]) from None
    try:
        parsed = RigFile.model_validate(document.data)
    except ValidationError as error:
        problems = [(tuple(item["loc"]), item["msg"]) for item in error.errors()]
        raise RigError(file_path, document.located_problems(file_path, problems, _LABELS)) from None
    resolved = resolve_rig(parsed, file_path)
    if resolved.problems:
        raise RigError(file_path, document.located_problems(file_path, resolved.problems, _LABELS))
    assert resolved.definition is not None and resolved.pad_path is not None
    simulators = None
    if parsed.simulators is not None:
        assert resolved.simulators_pad_path is not None
        simulators = Simulators(
            pad_path=resolved.simulators_pad_path,
            rate=parsed.simulators.rate,
            physics=parsed.simulators.physics,
        )
    return Rig(
        name=parsed.rig,
        path=file_path,
        description=parsed.description,
        pad_path=resolved.pad_path,
        definition=resolved.definition,
        endpoints={
            plc_id: Endpoint(host, port) for plc_id, (host, port) in resolved.endpoints.items()
        },
        allowances=resolved.allowances,
        max_writes_per_s_per_tag=parsed.writes.max_writes_per_s_per_tag,
        max_writes_per_s=parsed.writes.max_writes_per_s,
        contract_tests=frozenset(parsed.contract.tests),
        checkout_subsystems=tuple(resolved.checkout),
        watchdog_tags=resolved.watchdog_tags,
        simulators=simulators,
    )


_ENDPOINT = re.compile(r"^([A-Z][A-Z0-9-]*)=(.+):(\d{1,5})$")


def parse_endpoint(text: str) -> tuple[str, tuple[str, int]]:
    """`PLC=host:port` -> (PLC, (host, port)); ValueError saying what is wrong."""
    match = _ENDPOINT.match(text.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise ValueError(f"endpoint {text!r} is not PLC=HOST:PORT (e.g. PROP=10.0.45.11:502)")
    return match.group(1), (match.group(2), int(match.group(3)))
