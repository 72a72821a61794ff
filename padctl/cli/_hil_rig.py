"""`padctl hil check|write|record|replay`: rig definitions against real (or simulated) PLCs."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from hil._rig_check import CheckRow, check_rig
from hil._rig_desk import DeskEvent, replay_at_desk, windowless
from hil._rig_programs import ask_on_terminal, parse_value, record, write_once
from hil._rig_sims import SimulatorError, SimulatorProcess, rig_on_bench
from hil.rig import Rig, RigError, load_rig, parse_endpoint
from padctl.cli._app import LogFileOption, LogLevelOption, check_rate_or_exit, setup_logging
from padctl.cli._hil import hil_app
from padctl.cli._runtime import run
from padctl.clock import ScaledClock
from padctl.countdown import LccError, load_lcc, parse_t_time
from padctl.definition import OpcUaPlc, PadDefinition, load_pad_definition
from padctl.plant import RecordingError, read_recording, security_warnings
from padctl.procedure import sequences_dir
from simulators.fault_commands import FaultSyntaxError, parse_fault

__all__ = ["hil_app"]

RigArgument = Annotated[Path, typer.Argument(help="Rig file (hil/rigs/NAME.yaml).")]
EndpointOption = Annotated[
    list[str] | None,
    typer.Option(
        "--endpoint",
        help="PLC=HOST:PORT: reach that PLC there, not where the rig file says (repeatable).",
    ),
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for every PLC to answer.")
]


def _load(path: Path, command: str) -> Rig:
    try:
        return load_rig(path)
    except RigError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        typer.echo(
            f"padctl hil {command}: {len(error.problems)} problem(s); nothing done", err=True
        )
        raise typer.Exit(2) from None


@contextmanager
def _bench(
    rig: Rig, endpoints: list[str] | None, command: str
) -> Iterator[tuple[PadDefinition, SimulatorProcess | None]]:
    try:
        overrides = dict(parse_endpoint(text) for text in endpoints or [])
        with rig_on_bench(rig, overrides) as bench:
            yield bench
    except (ValueError, RigError, SimulatorError) as error:
        problems = error.problems if isinstance(error, RigError) else [str(error)]
        for problem in problems:
            typer.echo(f"padctl hil {command}: {problem}", err=True)
        raise typer.Exit(2) from None


@hil_app.command("check")
def check_command(
    rig: RigArgument,
    endpoint: EndpointOption = None,
    timeout_s: TimeoutOption = 10.0,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per row.")] = False,
    problems_only: Annotated[
        bool, typer.Option("--problems-only", help="Print only the rows that did not match.")
    ] = False,
    log_level: LogLevelOption = "critical",
    log_file: LogFileOption = None,
) -> None:
    """Connect, read every tag of the rig once, compare with the definition. Writes nothing.

    Checks each address exists at its PLC, each value decodes within its range (not NaN),
    each OPC UA node has the variant type of its tag, and each PLC's heartbeat advances.
    Exits 1 on any mismatch.
    """
    setup_logging(log_level, log_file)
    loaded = _load(rig, "check")
    for plc in loaded.definition.plcs:  # said before the check: it does not fail it
        if isinstance(plc, OpcUaPlc):
            for warning in security_warnings(plc):
                typer.echo(f"padctl hil check: warning: {warning}", err=True)
    with _bench(loaded, endpoint, "check") as (definition, _sims):
        clock = ScaledClock(loaded.clock_rate)
        rows = run(
            check_rig(
                definition,
                clock=clock,
                connect_timeout_s=timeout_s * clock.rate,
                base_dir=loaded.pad_path.parent,
            )
        )
    bad = [row for row in rows if not row.ok]
    shown = bad if problems_only else rows
    if json_output:
        for row in shown:
            typer.echo(json.dumps(row.as_dict()))
    else:
        typer.echo(
            f"rig {loaded.name}: {len(definition.plcs)} PLC(s), {len(definition.tags)} tags "
            f"of pad {definition.pad}"
        )
        typer.echo(_CHECK_HEADER)
        for row in shown:
            typer.echo(_check_line(row))
    typer.echo(f"{len(rows) - len(bad)} matched, {len(bad)} did not", err=json_output)
    if bad:
        raise typer.Exit(1)


_CHECK_HEADER = (
    f"{'RESULT':<8} {'PLC':<5} {'TAG':<24} {'CHECK':<9} {'TYPE':<7} {'ADDRESS':<22} "
    f"{'VALUE':>12} {'UNIT':<7} {'QUALITY':<9} DETAIL"
)


def _check_line(row: CheckRow) -> str:
    return (
        f"{'ok' if row.ok else 'MISMATCH':<8} {row.plc:<5} {row.tag:<24} {row.check:<9} "
        f"{row.type:<7} {row.address:<22} {row.value:>12} {row.unit:<7} {row.quality:<9} "
        f"{row.detail}"
    ).rstrip()


@hil_app.command("write")
def write_command(
    rig: RigArgument,
    tag: Annotated[str, typer.Argument(help="Tag to write (e.g. LOX-FV-101-CMD).")],
    value: Annotated[str, typer.Argument(help="true/false, or a number in the tag's unit.")],
    endpoint: EndpointOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Journal what would be written; write nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before the first write.")] = False,
    journal: Annotated[Path, typer.Option("--journal", help="Audit journal (appended to).")] = Path(
        "hil-journal.sqlite"
    ),
    actor: Annotated[str, typer.Option("--actor", help="Who writes (journaled).")] = "hil",
    reason: Annotated[str, typer.Option("--reason", help="Why (journaled).")] = "",
    timeout_s: TimeoutOption = 10.0,
    log_level: LogLevelOption = "critical",
    log_file: LogFileOption = None,
) -> None:
    """Write one tag through padctl's guarded path (rig allow-list, ranges, rate limits).

    Asks before the first write unless --yes; journals every write, refusal and dry run;
    proves the write by reading it back. The PLC drives its outputs safe once padctl's
    heartbeat stops, a watchdog time after this command ends.
    """
    setup_logging(log_level, log_file)
    loaded = _load(rig, "write")
    if not loaded.definition.has_tag(tag):
        typer.echo(f"padctl hil write: no tag {tag!r} on rig {loaded.name}", err=True)
        raise typer.Exit(2)
    try:
        parsed = parse_value(loaded.definition.tag(tag), value)
    except ValueError as error:
        typer.echo(f"padctl hil write: {error}", err=True)
        raise typer.Exit(2) from None
    with _bench(loaded, endpoint, "write") as (definition, _sims):
        result = run(
            write_once(
                loaded,
                definition,
                tag,
                parsed,
                dry_run=dry_run,
                confirm=None if yes else ask_on_terminal(loaded, _prompt),
                journal_path=journal,
                actor=actor,
                why=reason or f"padctl hil write on rig {loaded.name}",
                timeout_s=timeout_s,
            )
        )
    typer.echo(result.message, err=not result.ok)
    if not result.ok:
        raise typer.Exit(1)


def _prompt(text: str) -> None:
    typer.echo(text, err=True, nl=False)


@hil_app.command("record")
def record_command(
    rig: RigArgument,
    out: Annotated[Path, typer.Option("--out", help="Recording file (JSON lines).")],
    seconds: Annotated[
        float | None,
        typer.Option("--seconds", help="Seconds of pad time to record (default: until Ctrl-C)."),
    ] = None,
    endpoint: EndpointOption = None,
    sim_fault: Annotated[
        list[str] | None,
        typer.Option(
            "--sim-fault",
            help="'SECONDS COMMAND': a fault for the rig's simulators, that many pad seconds "
            "into the recording (e.g. '5 bias LOX-PT-001 2.5').",
        ),
    ] = None,
    timeout_s: TimeoutOption = 10.0,
    log_level: LogLevelOption = "critical",
    log_file: LogFileOption = None,
) -> None:
    """Record the tag stream of a rig (every change of value or quality) to a file. Reads only."""
    setup_logging(log_level, log_file)
    loaded = _load(rig, "record")
    if seconds is not None and seconds <= 0:
        typer.echo("padctl hil record: --seconds must be above 0", err=True)
        raise typer.Exit(2)
    faults = []
    for spec in sim_fault or []:
        at_text, _, command = spec.strip().partition(" ")
        try:
            faults.append((float(at_text), command))
            parse_fault(command)
        except (ValueError, FaultSyntaxError) as error:
            typer.echo(f"padctl hil record: --sim-fault {spec!r}: {error}", err=True)
            raise typer.Exit(2) from None
    with _bench(loaded, endpoint, "record") as (definition, sims):
        if faults and sims is None:
            typer.echo("padctl hil record: --sim-fault needs the rig's simulators", err=True)
            raise typer.Exit(2)
        run(
            record(
                loaded,
                definition,
                out,
                seconds=seconds,
                timeout_s=timeout_s,
                say=lambda text: typer.echo(text, err=True),
                faults=faults,
                play=sims.send if sims is not None else None,
            )
        )


@hil_app.command("replay")
def replay_command(
    recording_file: Annotated[Path, typer.Argument(help="A recording of `padctl hil record`.")],
    rig: Annotated[
        Path | None, typer.Option("--rig", help="Rig file (default: the one recorded).")
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option("--rate", help="Replay N times faster than real time (default: as recorded)."),
    ] = None,
    lcc: Annotated[
        Path | None, typer.Option("--lcc", help="Launch commit criteria (default: sequences').")
    ] = None,
    t_time: Annotated[
        str | None,
        typer.Option(
            "--t-time",
            help="Judge the LCC as at this countdown time (e.g. T-00:10:00); "
            "default: every criterion, whatever its window.",
        ),
    ] = None,
    settle_s: Annotated[
        float, typer.Option("--settle", help="Pad seconds to hold the last values after the end.")
    ] = 0.0,
    journal: Annotated[
        Path | None, typer.Option("--journal", help="Journal of the replay (default: temporary).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per event.")] = False,
    log_level: LogLevelOption = "critical",
    log_file: LogFileOption = None,
) -> None:
    """Feed a recording to padctl in place of the PLCs: subsystems, alarms and LCC see it.

    Replay is read-only: every write padctl would make is refused and journaled.
    """
    setup_logging(log_level, log_file)
    try:
        recording = read_recording(recording_file)
    except RecordingError as error:
        typer.echo(f"padctl hil replay: {error}", err=True)
        raise typer.Exit(2) from None
    recorded_rig = recording.header.get("rig_file")
    if rig is None and not isinstance(recorded_rig, str):
        typer.echo(f"padctl hil replay: {recording_file} names no rig file: give --rig", err=True)
        raise typer.Exit(2)
    rig_path = rig or Path(str(recorded_rig))
    loaded = _load(rig_path, "replay")
    try:
        recorded_rate = float(recording.header.get("clock_rate", 1.0))
    except (TypeError, ValueError):
        typer.echo(f"padctl hil replay: {recording_file}:1: header: bad clock_rate", err=True)
        raise typer.Exit(2) from None
    replay_rate = rate if rate is not None else recorded_rate
    check_rate_or_exit(replay_rate, "hil replay")
    definition = loaded.definition
    try:
        lcc_path = lcc or sequences_dir() / "lcc.yaml"
        criteria = [
            c
            for c in load_lcc(lcc_path, load_pad_definition(loaded.pad_path))
            if all(definition.has_tag(tag) for tag in c.tags)
        ]
        lcc_t_s = parse_t_time(t_time) if t_time is not None else 0.0
    except (LccError, ValueError) as error:
        typer.echo(f"padctl hil replay: {error}", err=True)
        raise typer.Exit(2) from None

    def emit(event: DeskEvent) -> None:
        if json_output:
            typer.echo(json.dumps(event.as_dict()))
        else:
            typer.echo(
                f"t={event.t_s:9.3f} s  {event.kind:<9} {event.subject:<28} {event.state:<10} "
                f"{event.detail}".rstrip()
            )

    with tempfile.TemporaryDirectory(prefix="padctl-replay-") as scratch:
        try:
            summary = run(
                replay_at_desk(
                    recording,
                    definition,
                    rate=replay_rate,
                    journal_path=journal or Path(scratch) / "replay-journal.sqlite",
                    criteria=windowless(criteria) if t_time is None else criteria,
                    lcc_t_s=lcc_t_s,
                    settle_s=settle_s,
                    emit=emit,
                    source_name=str(recording_file),
                )
            )
        except ValueError as error:
            typer.echo(f"padctl hil replay: {error}", err=True)
            raise typer.Exit(2) from None
    result = {
        "samples": summary.samples,
        "duration_s": summary.duration_s,
        "events": len(summary.events),
        "refused_writes": summary.refused_writes,
        "subsystems": summary.subsystem_states,
    }
    if json_output:
        typer.echo(json.dumps({"summary": result}))
    else:
        typer.echo(
            f"replayed {summary.samples} samples ({summary.duration_s:.3f} s of pad time), "
            f"{len(summary.events)} events, {len(summary.refused_writes)} write(s) refused "
            "(replay is read-only)"
        )
