"""`padctl serve`: the operator console server, on the pad's PLCs or on simulators."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Annotated

import typer

from padctl.cli._app import (
    LogFileOption,
    LogLevelOption,
    MqttOption,
    PadOption,
    app,
    check_rate_or_exit,
    load_definition_or_exit,
    setup_logging,
    sparkplug_settings_or_exit,
)
from padctl.cli._history import HistoryOption, NoHistoryOption, history_path, history_reading
from padctl.cli._opcua_face_options import (
    OpcUaCertOption,
    OpcUaKeyOption,
    OpcUaNoSecurityOption,
    OpcUaServerOption,
    OpcUaTrustedOption,
    opcua_face_settings_or_exit,
)
from padctl.cli._runtime import run
from padctl.cli._serve_listen import (
    InsecureHttpOption,
    TlsCertOption,
    TlsKeyOption,
    is_loopback,
    serve_console,
    tls_or_exit,
)
from padctl.cli._serve_remote import remote_broker_or_exit, remote_source
from padctl.cli._simulated import simulated_pad
from padctl.clock import ScaledClock
from padctl.console import (
    WILDCARD_HOSTS,
    ConsoleConfig,
    ConsoleSettings,
    ConsoleSource,
    Role,
    SessionPolicy,
    StationHandle,
    StationSource,
    UsersError,
    UsersFile,
    served_hosts,
)
from padctl.countdown import CountdownSequence, Criterion, LccError, SequenceError, load_lcc
from padctl.countdown import load_sequence as load_countdown
from padctl.definition import PadDefinition
from padctl.history import recorded
from padctl.opcua_face import OpcUaFaceSettings, served
from padctl.procedure import sequences_dir
from padctl.sparkplug import SparkplugSettings, published
from padctl.station import Station
from padctl.subsystems import ALL_SPECS

__all__ = ["app", "is_loopback", "simulated_station"]

DEMO_USERS: tuple[tuple[str, Role, tuple[str, ...]], ...] = (
    ("conductor", Role.TEST_CONDUCTOR, ()),
    ("safety", Role.SAFETY_OFFICER, ()),
    (
        "propellants",
        Role.SUBSYSTEM_OPERATOR,
        ("lox_loading", "kerosene_loading", "gas_supply", "thermal_conditioning"),
    ),
    (
        "padsystems",
        Role.SUBSYSTEM_OPERATOR,
        (
            "ground_power",
            "water_deluge",
            "fire_suppression",
            "erector",
            "cable_mast",
            "hold_downs",
            "vehicle_interface",
        ),
    ),
    ("viewer", Role.VIEWER, ()),
    ("admin", Role.ADMIN, ()),
)


@asynccontextmanager
async def simulated_station(
    definition: PadDefinition,
    *,
    rate: float,
    sequence: CountdownSequence,
    lcc: tuple[Criterion, ...],
    journal_path: Path,
    scan_wall_s: float | None = None,
) -> AsyncIterator[StationHandle]:
    """The simulated pad (a process of its own) and a station on it, with a fault injector."""
    async with (
        simulated_pad(definition, rate=rate, scan_wall_s=scan_wall_s) as simulated,
        Station(
            definition=simulated.definition,
            clock=simulated.clock,
            journal_path=journal_path,
            sequence=sequence,
            lcc=lcc,
        ) as station,
    ):
        yield StationHandle(station, simulated.inject)


@asynccontextmanager
async def _real_station(
    definition: PadDefinition,
    *,
    sequence: CountdownSequence,
    lcc: tuple[Criterion, ...],
    journal_path: Path,
) -> AsyncIterator[StationHandle]:
    async with Station(
        definition=definition,
        clock=ScaledClock(1.0),
        journal_path=journal_path,
        sequence=sequence,
        lcc=lcc,
    ) as station:
        yield StationHandle(station, None)


def with_face(
    source: StationSource,
    sparkplug: SparkplugSettings | None,
    opcua: OpcUaFaceSettings | None = None,
    history_file: Path | None = None,
) -> StationSource:
    """`source`'s station, published over Sparkplug B, served over OPC UA and its tag history
    kept while it runs (each with its settings)."""
    if sparkplug is None and opcua is None and history_file is None:
        return source

    @asynccontextmanager
    async def published_source() -> AsyncIterator[StationHandle]:
        async with (
            source() as handle,
            published(handle.station, sparkplug),
            served(handle.station, opcua),
            recorded(handle.station, history_file),
        ):
            yield handle

    return published_source


def _demo_users(folder: Path) -> tuple[UsersFile, list[tuple[str, str, str]]]:
    users = UsersFile(path=folder / "users.yaml")
    printed = []
    for name, role, subsystems in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        users.add(name, role=role, password=password, subsystems=subsystems)
        printed.append((name, role.value, password))
    users.save()
    return users, printed


@app.command("serve")
def serve_command(
    sim: Annotated[
        bool, typer.Option("--sim", help="Run on the simulated pad (a process of its own).")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one).")] = 8080,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="A host name consoles use to reach this server (repeat for more); any other "
            "Host header is refused. The loopback names and --host are always allowed.",
        ),
    ] = None,
    tls_cert: TlsCertOption = None,
    tls_key: TlsKeyOption = None,
    insecure_http: InsecureHttpOption = False,
    rate: Annotated[float, typer.Option("--rate", help="Clock rate, with --sim.")] = 1.0,
    users: Annotated[
        Path | None, typer.Option("--users", help="Users file (padctl users add ...).")
    ] = None,
    profile: Annotated[str, typer.Option("--profile", help="test-flight or full.")] = "test-flight",
    sequence_file: Annotated[Path | None, typer.Option("--sequence")] = None,
    lcc_file: Annotated[Path | None, typer.Option("--lcc")] = None,
    journal: Annotated[
        Path | None, typer.Option("--journal", help="Journal file (with --sim: a temporary one).")
    ] = None,
    arm_timeout: Annotated[
        float, typer.Option("--arm-timeout", help="Seconds to confirm an armed command.")
    ] = 10.0,
    session_hours: Annotated[float, typer.Option("--session-hours")] = 8.0,
    idle_minutes: Annotated[float, typer.Option("--idle-minutes")] = 30.0,
    update_period: Annotated[
        float, typer.Option("--update-period", help="Seconds between console updates.")
    ] = 0.15,
    mqtt: MqttOption = None,
    from_mqtt: Annotated[
        str | None,
        typer.Option(
            "--from-mqtt",
            help="Serve a read-only console fed only from the pad's Sparkplug B edge node on "
            "this broker (mqtt://HOST[:PORT] or mqtts://...): no PLC connection, every user a "
            "viewer, every command refused.",
        ),
    ] = None,
    opcua_server: OpcUaServerOption = None,
    opcua_cert: OpcUaCertOption = None,
    opcua_key: OpcUaKeyOption = None,
    opcua_trusted: OpcUaTrustedOption = None,
    opcua_no_security: OpcUaNoSecurityOption = False,
    history: HistoryOption = None,
    no_history: NoHistoryOption = False,
    pad: PadOption = None,
    log_level: LogLevelOption = "warning",
    log_file: LogFileOption = None,
) -> None:
    """Serve the operator console: the station, the WebSocket API and the pages."""
    if not is_loopback(host) and users is None:
        typer.echo(f"padctl serve: listening on {host} needs --users FILE", err=True)
        raise typer.Exit(2)
    if users is None and not sim:
        typer.echo("padctl serve: a real pad needs --users FILE", err=True)
        raise typer.Exit(2)
    if host in WILDCARD_HOSTS and not allowed_host:
        typer.echo(
            f"padctl serve: listening on {host or 'every address'} needs --allowed-host NAME: "
            "the names consoles use to reach it (a request naming any other host is refused)",
            err=True,
        )
        raise typer.Exit(2)
    tls = tls_or_exit(
        host=host, certificate=tls_cert, private_key=tls_key, insecure_http=insecure_http
    )
    if not sim and rate != 1.0:
        typer.echo("padctl serve: --rate is for simulators (--sim) only", err=True)
        raise typer.Exit(2)
    check_rate_or_exit(rate, "serve")
    if not (arm_timeout > 0 and update_period > 0):
        typer.echo("padctl serve: --arm-timeout and --update-period must be above 0", err=True)
        raise typer.Exit(2)
    sparkplug = sparkplug_settings_or_exit(mqtt, "serve")
    remote = remote_broker_or_exit(
        from_mqtt,
        station_options={
            "--sim": sim,
            "--mqtt": mqtt,
            "--opcua-server": opcua_server,
            "--history": history,
        },
    )
    setup_logging(log_level, log_file)
    definition = load_definition_or_exit(pad)
    try:
        sequence = load_countdown(
            sequence_file or sequences_dir() / "countdown.yaml",
            profile=profile,
            definition=definition,
            specs=ALL_SPECS,
        )
        criteria = load_lcc(lcc_file or sequences_dir() / "lcc.yaml", definition)
    except (SequenceError, LccError) as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(2) from None
    with tempfile.TemporaryDirectory(prefix="padctl-serve-") as scratch:
        if users is None:
            users_file, printed = _demo_users(Path(scratch))
            typer.echo("demo users (this run only):")
            for name, role, password in printed:
                typer.echo(f"  {name:<12} {role:<19} password {password}")
        else:
            try:
                users_file = UsersFile.load(users)
            except UsersError as error:
                typer.echo(f"padctl serve: {error}", err=True)
                raise typer.Exit(2) from None
            if not users_file.records:
                typer.echo(f"padctl serve: {users} has no users (padctl users add ...)", err=True)
                raise typer.Exit(2)
        journal_path = journal or (
            Path(scratch) / "journal.sqlite" if sim or remote else Path("padctl-journal.sqlite")
        )
        source: StationSource
        if sim:

            def source() -> AbstractAsyncContextManager[StationHandle]:
                return simulated_station(
                    definition,
                    rate=rate,
                    sequence=sequence,
                    lcc=criteria,
                    journal_path=journal_path,
                )
        else:

            def source() -> AbstractAsyncContextManager[StationHandle]:
                return _real_station(
                    definition, sequence=sequence, lcc=criteria, journal_path=journal_path
                )

        history_file = history_path(history, off=no_history or remote is not None, simulated=sim)
        config = ConsoleConfig(
            users=users_file,
            settings=ConsoleSettings(
                update_period_wall_s=update_period,
                simulated=sim,
                history=None if history_file is None else history_reading(history_file),
            ),
            sessions=SessionPolicy(
                lifetime_wall_s=session_hours * 3600.0, idle_wall_s=idle_minutes * 60.0
            ),
            arm_timeout_wall_s=arm_timeout,
            allowed_hosts=served_hosts(host, allowed_host or ()),
            tls=tls is not None,
        )
        readers = users_file

        def verify_user(name: str, password: str) -> bool:  # on the OPC UA face's thread
            return readers.verify(name, password) is not None

        opcua = opcua_face_settings_or_exit(
            opcua_server,
            certificate=opcua_cert,
            private_key=opcua_key,
            trusted=opcua_trusted,
            no_security=opcua_no_security,
            verify_user=verify_user,
            command="serve",
        )
        faced: ConsoleSource
        if remote is not None:
            faced = remote_source(
                remote,
                definition=definition,
                sequence=sequence,
                lcc=criteria,
                journal_path=journal_path,
            )
        else:
            faced = with_face(source, sparkplug, opcua, history_file)
        code = run(serve_console(config, faced, host=host, port=port, tls=tls))
    raise typer.Exit(code)
