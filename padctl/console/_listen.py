"""The console server's listening socket and its uvicorn server, HTTP or HTTPS/WSS."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette

if TYPE_CHECKING:
    import uvicorn


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` (0: any free port); OSError naming both if it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise OSError(f"cannot listen on {host}:{port}: {error}") from None
    return listener


def console_url(listener: socket.socket, *, tls: bool) -> str:
    """The URL consoles open for a server on `listener`."""
    address, port = listener.getsockname()[:2]
    shown = f"[{address}]" if listener.family == socket.AF_INET6 else address
    return f"{'https' if tls else 'http'}://{shown}:{port}/"


def console_server(
    application: Starlette,
    *,
    certificate: Path | None = None,
    private_key: Path | None = None,
) -> uvicorn.Server:
    """The uvicorn server for the console application (TLS with a certificate and its key)."""
    import uvicorn

    return uvicorn.Server(
        uvicorn.Config(
            application,
            lifespan="on",
            log_level="warning",
            ws="websockets-sansio",
            ssl_certfile=None if certificate is None else str(certificate),
            ssl_keyfile=None if private_key is None else str(private_key),
        )
    )
