"""`padctl serve` over TLS: the certificate options, and the refusal to serve plain HTTP
beyond loopback (passwords and session cookies would cross the network in clear)."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from starlette.applications import Starlette

from padctl.console import (
    ConsoleConfig,
    ConsoleSource,
    console_server,
    console_url,
    create_app,
    listening_socket,
)

TlsCertOption = Annotated[
    Path | None,
    typer.Option(
        "--tls-cert",
        help="Serve HTTPS/WSS with this certificate (PEM, its chain after it); needs --tls-key.",
    ),
]
TlsKeyOption = Annotated[
    Path | None, typer.Option("--tls-key", help="The private key of --tls-cert (PEM).")
]
InsecureHttpOption = Annotated[
    bool,
    typer.Option(
        "--insecure-http",
        help="Serve plain HTTP on an address other than loopback (passwords and session "
        "cookies cross the network in clear): only on a network nobody else can reach.",
    ),
]


@dataclass(frozen=True)
class TlsFiles:
    """The console's certificate and private key, checked to load together."""

    certificate: Path
    private_key: Path


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"padctl serve: {message}", err=True)
    return typer.Exit(2)


def tls_or_exit(
    *, host: str, certificate: Path | None, private_key: Path | None, insecure_http: bool
) -> TlsFiles | None:
    """The TLS files to serve with (None: plain HTTP); exit 2 naming what is wrong when they
    are incomplete or do not load, or when plain HTTP would be served beyond loopback without
    --insecure-http."""
    if (certificate is None) != (private_key is None):
        raise _refuse("--tls-cert and --tls-key go together")
    if certificate is not None and private_key is not None:
        if insecure_http:
            raise _refuse("--insecure-http contradicts --tls-cert/--tls-key: give one or the other")
        for option, path in (("--tls-cert", certificate), ("--tls-key", private_key)):
            if not path.is_file():
                raise _refuse(
                    f"{option} {path}: {'a directory' if path.is_dir() else 'no such file'}"
                )
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certificate, private_key)
        except (ssl.SSLError, OSError) as error:
            raise _refuse(
                f"cannot load the certificate {certificate} with the key {private_key}: {error}"
            ) from None
        return TlsFiles(certificate, private_key)
    if is_loopback(host):
        return None
    if not insecure_http:
        raise _refuse(
            f"listening on {host or 'every address'} needs --tls-cert FILE --tls-key FILE "
            "(passwords and session cookies would cross the network in clear); "
            "--insecure-http serves plain HTTP there anyway"
        )
    typer.echo(
        f"padctl serve: serving plain HTTP on {host or 'every address'} (--insecure-http): "
        "passwords and session cookies cross the network in clear",
        err=True,
    )
    return None


async def serve_console(
    config: ConsoleConfig, source: ConsoleSource, *, host: str, port: int, tls: TlsFiles | None
) -> int:
    """Serve the console until cancelled: 0 once it has served, 1 if it never became ready,
    2 if it cannot listen."""
    ready = asyncio.Event()
    return await _serve(
        create_app(config, source, on_ready=ready.set), host=host, port=port, ready=ready, tls=tls
    )


async def _serve(
    application: Starlette, *, host: str, port: int, ready: asyncio.Event, tls: TlsFiles | None
) -> int:
    try:
        listener = listening_socket(host, port)
    except OSError as error:
        typer.echo(f"padctl serve: {error}", err=True)
        return 2
    server = console_server(
        application,
        certificate=None if tls is None else tls.certificate,
        private_key=None if tls is None else tls.private_key,
    )
    task = asyncio.create_task(server.serve(sockets=[listener]), name="uvicorn")
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if ready.is_set():
        typer.echo(f"padctl console: {console_url(listener, tls=tls is not None)}")
    waiter.cancel()
    await task
    listener.close()
    return 0 if ready.is_set() else 1
