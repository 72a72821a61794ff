"""Certificates for OPC UA tests: self-signed application instance certificates."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from asyncua.crypto import cert_gen
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID


def opcua_identity(
    directory: Path, name: str, uri: str, usage: list[x509.ObjectIdentifier]
) -> tuple[Path, Path]:
    key = cert_gen.generate_private_key()
    hostname = socket.gethostname()
    certificate = cert_gen.generate_self_signed_app_certificate(
        key,
        name,
        {"organizationName": "padctl tests"},
        [
            x509.UniformResourceIdentifier(uri),
            x509.DNSName(hostname),
            x509.DNSName("localhost"),
        ],
        usage,
        days=2,
    )
    cert_path = directory / f"{name}.der"
    key_path = directory / f"{name}.key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    key_path.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return cert_path, key_path


@dataclass(frozen=True)
class Pki:
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_client_cert: Path
    rogue_client_key: Path
    rogue_server_cert: Path
    trusted_clients: Path  # what the server trusts
    trusted_servers: Path  # what the client trusts


def make_pki(root: Path) -> Pki:
    """A server, a client it trusts, a rogue client and a rogue server, in `root`."""
    server_auth = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    client_auth = [ExtendedKeyUsageOID.CLIENT_AUTH]
    server_cert, server_key = opcua_identity(root, "uat-plc", "urn:padctl:sim:UAT", server_auth)
    client_cert, client_key = opcua_identity(root, "padctl", "urn:padctl:client:test", client_auth)
    rogue_cert, rogue_key = opcua_identity(root, "rogue", "urn:rogue:client", client_auth)
    rogue_server_cert, _ = opcua_identity(root, "rogue-plc", "urn:rogue:plc", server_auth)
    trusted_clients = root / "trusted-clients"
    trusted_servers = root / "trusted-servers"
    trusted_clients.mkdir()
    trusted_servers.mkdir()
    (trusted_clients / client_cert.name).write_bytes(client_cert.read_bytes())
    (trusted_servers / server_cert.name).write_bytes(server_cert.read_bytes())
    return Pki(
        server_cert,
        server_key,
        client_cert,
        client_key,
        rogue_cert,
        rogue_key,
        rogue_server_cert,
        trusted_clients,
        trusted_servers,
    )
