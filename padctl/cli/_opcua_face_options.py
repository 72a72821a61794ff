"""`padctl serve --opcua-server ...`: the OPC UA face's options and their checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from padctl.opcua_face import OpcUaFaceSettings, ServerSecurity

OpcUaServerOption = Annotated[
    str | None,
    typer.Option(
        "--opcua-server",
        help="Serve a read-only OPC UA address space of the pad for plant SCADA at this "
        "endpoint (opc.tcp://HOST:PORT/PATH): Basic256Sha256 SignAndEncrypt, the users of "
        "--users.",
    ),
]
OpcUaCertOption = Annotated[
    Path | None, typer.Option("--opcua-cert", help="The OPC UA face's certificate (DER or PEM).")
]
OpcUaKeyOption = Annotated[
    Path | None, typer.Option("--opcua-key", help="The OPC UA face's private key (PEM or DER).")
]
OpcUaTrustedOption = Annotated[
    Path | None,
    typer.Option(
        "--opcua-trusted",
        help="Folder of the SCADA client certificates (or their CAs) the OPC UA face trusts.",
    ),
]
OpcUaNoSecurityOption = Annotated[
    bool,
    typer.Option(
        "--opcua-no-security",
        help="Serve the OPC UA face to anonymous users without security (a site's own choice; "
        "never the default).",
    ),
]


def opcua_face_settings_or_exit(
    endpoint: str | None,
    *,
    certificate: Path | None,
    private_key: Path | None,
    trusted: Path | None,
    no_security: bool,
    verify_user: Callable[[str, str], bool],
    command: str,
) -> OpcUaFaceSettings | None:
    """The OPC UA face's settings (None without --opcua-server); exit 2 naming what is wrong."""

    def refuse(problem: str) -> typer.Exit:
        typer.echo(f"padctl {command}: {problem}", err=True)
        return typer.Exit(2)

    given = [
        n
        for n, v in (
            ("--opcua-cert", certificate),
            ("--opcua-key", private_key),
            ("--opcua-trusted", trusted),
        )
        if v is not None
    ]
    if endpoint is None:
        if given or no_security:
            raise refuse(f"{', '.join(given) or '--opcua-no-security'} needs --opcua-server")
        return None
    if not endpoint.startswith("opc.tcp://") or len(endpoint) <= len("opc.tcp://"):
        raise refuse(f"--opcua-server {endpoint!r}: must be opc.tcp://HOST:PORT/PATH")
    if no_security:
        if given:
            raise refuse(f"--opcua-no-security and {', '.join(given)}: choose one")
        return OpcUaFaceSettings(endpoint=endpoint, security=None)
    if certificate is None or private_key is None or trusted is None:
        raise refuse(
            "--opcua-server needs --opcua-cert, --opcua-key and --opcua-trusted "
            "(or --opcua-no-security)"
        )
    for option, path, is_dir in (
        ("--opcua-cert", certificate, False),
        ("--opcua-key", private_key, False),
        ("--opcua-trusted", trusted, True),
    ):
        if not (path.is_dir() if is_dir else path.is_file()):
            raise refuse(f"{option} {path}: no such {'folder' if is_dir else 'file'}")
    security = ServerSecurity(
        certificate=certificate,
        private_key=private_key,
        trusted_clients_dir=trusted,
        sign_only=False,
    )
    return OpcUaFaceSettings(endpoint=endpoint, security=security, verify_user=verify_user)
