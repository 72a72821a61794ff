"""`padctl hil proxy`: the TCP fault proxy between padctl and a PLC."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from typing import Annotated

import typer

from hil._proxy_commands import COMMAND_HELP, ProxyCommandError, parse_command
from hil.proxy import CorruptionKind, FaultProxy, Faults, FaultSettingError
from padctl.cli._app import LogFileOption, LogLevelOption, setup_logging
from padctl.cli._hil import hil_app
from padctl.cli._runtime import run

__all__ = ["hil_app"]

_LATENCY_HELP = "Added latency, wall ms, both directions (per-direction options override)."


@hil_app.command(
    "proxy",
    help="Forward TCP from --listen to --upstream (a PLC), playing network faults.\n\n"
    "Prints a status line when listening and after every command; fault commands are read "
    "from standard input, one per line (end of input or Ctrl-C stops it):\n\n\b\n" + COMMAND_HELP,
)
def proxy_command(
    upstream: Annotated[
        str, typer.Option("--upstream", help="HOST:PORT of the PLC (or simulator).")
    ],
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT to listen on (port 0: any free port).")
    ] = "127.0.0.1:0",
    latency_ms: Annotated[float, typer.Option("--latency-ms", help=_LATENCY_HELP)] = 0.0,
    jitter_ms: Annotated[float, typer.Option("--jitter-ms", help="Jitter +- ms, both ways.")] = 0.0,
    latency_to_server_ms: Annotated[float | None, typer.Option("--latency-to-server-ms")] = None,
    latency_to_client_ms: Annotated[float | None, typer.Option("--latency-to-client-ms")] = None,
    jitter_to_server_ms: Annotated[float | None, typer.Option("--jitter-to-server-ms")] = None,
    jitter_to_client_ms: Annotated[float | None, typer.Option("--jitter-to-client-ms")] = None,
    corrupt_fraction: Annotated[
        float, typer.Option("--corrupt-fraction", help="Fraction of Modbus replies corrupted.")
    ] = 0.0,
    corrupt_kinds: Annotated[
        str,
        typer.Option(
            "--corrupt-kinds", help="Comma list: pdu,function,count,short,data,length,tid,tid0."
        ),
    ] = "pdu,length,tid",
    duplicate_ms: Annotated[
        float, typer.Option("--duplicate-ms", help="Send replies again this many ms later.")
    ] = 0.0,
    duplicate_fraction: Annotated[
        float, typer.Option("--duplicate-fraction", help="Fraction of replies duplicated.")
    ] = 1.0,
    stall: Annotated[bool, typer.Option("--stall", help="Start stalled.")] = False,
    raw: Annotated[
        bool, typer.Option("--raw", help="Not Modbus: no reply framing, corruption, duplicates.")
    ] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the fault dice.")] = None,
    read_stdin: Annotated[
        bool, typer.Option("--stdin/--no-stdin", help="Read fault commands on standard input.")
    ] = True,
    log_level: LogLevelOption = "warning",
    log_file: LogFileOption = None,
) -> None:
    setup_logging(log_level, log_file)
    listen_host, listen_port = _host_port(listen, "--listen")
    upstream_host, upstream_port = _host_port(upstream, "--upstream")
    try:
        kinds = tuple(CorruptionKind.parse(word) for word in corrupt_kinds.split(",") if word)
        faults = Faults(
            latency_to_server_ms=_either(latency_to_server_ms, latency_ms),
            latency_to_client_ms=_either(latency_to_client_ms, latency_ms),
            jitter_to_server_ms=_either(jitter_to_server_ms, jitter_ms),
            jitter_to_client_ms=_either(jitter_to_client_ms, jitter_ms),
            stalled=stall,
            corrupt_fraction=corrupt_fraction,
            corrupt_kinds=kinds,
            duplicate_after_ms=duplicate_ms,
            duplicate_fraction=duplicate_fraction,
        )
    except (ValueError, FaultSettingError) as error:
        typer.echo(f"padctl hil proxy: {error}", err=True)
        raise typer.Exit(2) from None
    status = run(
        _serve(
            listen=(listen_host, listen_port),
            upstream=(upstream_host, upstream_port),
            faults=faults,
            modbus=not raw,
            seed=seed,
            read_stdin=read_stdin,
        )
    )
    raise typer.Exit(status)


def _either(specific: float | None, both: float) -> float:
    return both if specific is None else specific


def _host_port(text: str, option: str) -> tuple[str, int]:
    host, separator, port_text = text.strip().rpartition(":")
    host = host.strip("[]")
    if not separator or not host or not port_text.isdigit() or int(port_text) > 65535:
        typer.echo(f"padctl hil proxy: {option} {text!r}: expected HOST:PORT", err=True)
        raise typer.Exit(2)
    return host, int(port_text)


async def _serve(
    *,
    listen: tuple[str, int],
    upstream: tuple[str, int],
    faults: Faults,
    modbus: bool,
    seed: int | None,
    read_stdin: bool,
) -> int:
    proxy = FaultProxy(
        upstream_host=upstream[0],
        upstream_port=upstream[1],
        listen_host=listen[0],
        listen_port=listen[1],
        faults=faults,
        modbus=modbus,
        seed=seed,
    )
    try:
        await proxy.start()
    except OSError as error:
        typer.echo(f"padctl hil proxy: cannot listen on {listen[0]}:{listen[1]}: {error}", err=True)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    if read_stdin:
        _read_stdin_lines(loop, lines)
    try:
        _say(proxy.status_line())
        while not stop.is_set():
            waiter = asyncio.ensure_future(lines.get())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not waiter.done():
                waiter.cancel()
                break
            line = waiter.result()
            if line is None:  # end of input
                break
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            try:
                await parse_command(text).apply(proxy)
            except ProxyCommandError as error:
                typer.echo(f"command refused: {error}", err=True)
                continue
            _say(proxy.status_line())
    finally:
        await proxy.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return 0


def _say(text: str) -> None:
    typer.echo(text)
    sys.stdout.flush()


def _read_stdin_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    """Feed standard input's lines to the loop from a daemon thread; None at its end."""

    def reader() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)
        except RuntimeError:  # the loop has closed: the proxy stopped for another reason
            return

    threading.Thread(target=reader, name="proxy-stdin", daemon=True).start()
