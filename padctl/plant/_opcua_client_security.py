"""Security of padctl's OPC UA client: its identity, and the server it agrees to talk to."""

from __future__ import annotations

import os
from pathlib import Path

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.utils import ServiceError
from asyncua.crypto import uacrypto
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.ua.status_codes import StatusCodes
from cryptography import x509

from padctl.definition import OpcUaPlc
from padctl.opcua_security import (
    DER_ENCODING,
    application_uri_of,
    certificate_format,
    first_certificate,
    is_trusted,
    load_certificate,
    load_trusted_certificates,
    read_private_key,
    to_der,
)
from padctl.plant._errors import CommError


def check_security(plc: OpcUaPlc) -> None:
    """ValueError naming what is missing or contradictory in a PLC's security settings."""
    security = plc.security
    where = f"PLC {plc.id} security"
    if security.password_env is not None and security.username is None:
        raise ValueError(f"{where}: password_env without username")
    if security.policy == "None":
        if security.mode != "None":
            raise ValueError(f"{where}: mode {security.mode} needs a policy, not None")
        return
    if security.mode == "None":
        raise ValueError(f"{where}: policy {security.policy} needs mode Sign or SignAndEncrypt")
    if security.certificate is None or security.private_key is None:
        raise ValueError(f"{where}: policy {security.policy} needs certificate and private_key")
    if security.server_certificate is None and security.trust_store is None:
        raise ValueError(
            f"{where}: give server_certificate or trust_store, or the server is not verified"
        )


def security_warnings(plc: OpcUaPlc) -> list[str]:
    """What a PLC's OPC UA settings leave open (no security, an anonymous session), in words;
    empty when it is secured and logs in with an account."""
    warnings = []
    if plc.security.policy == "None":
        warnings.append(
            f"PLC {plc.id} talks OPC UA without security (policy None): anyone on its network "
            "can read and write it, and padctl cannot tell the PLC from an impostor"
        )
    if plc.security.username is None:
        warnings.append(f"PLC {plc.id} logs in anonymously (no username)")
    return warnings


async def configure_security(client: Client, plc: OpcUaPlc, base_dir: Path | None) -> None:
    """Give `client` the PLC's user and certificate, and accept only the server it trusts."""
    security = plc.security
    if security.username is not None:
        client.set_user(security.username)
    if security.password_env is not None:
        password = os.environ.get(security.password_env)
        if password is None:
            raise CommError(
                plc.id,
                f"environment variable {security.password_env} (the password) is not set",
            )
        client.set_password(password)
    if security.policy == "None":
        return
    assert security.certificate is not None and security.private_key is not None
    certificate_bytes = _path(base_dir, security.certificate).read_bytes()
    key_bytes = read_private_key(_path(base_dir, security.private_key))
    uri = application_uri_of(load_certificate(certificate_bytes))
    if uri is not None:
        client.application_uri = uri  # servers check it against the certificate
    mode = getattr(ua.MessageSecurityMode, security.mode)
    trusted = (
        load_trusted_certificates(_path(base_dir, security.trust_store))
        if security.trust_store is not None
        else None
    )
    if security.server_certificate is not None:
        server_der = to_der(_path(base_dir, security.server_certificate).read_bytes())
    else:
        # Ask the server for its certificate over the unsecured discovery channel and judge it
        # before opening a secure channel or sending any credentials.
        endpoints = await client.connect_and_get_server_endpoints()
        endpoint = Client.find_endpoint(endpoints, mode, SecurityPolicyBasic256Sha256.URI)
        first = first_certificate(endpoint.ServerCertificate)
        if first is None:
            raise CommError(plc.id, "server endpoint carries no certificate")
        server_der = first
    server_certificate = x509.load_der_x509_certificate(server_der)
    if trusted is not None and not is_trusted(server_certificate, trusted):
        raise CommError(
            plc.id,
            f"server certificate {server_certificate.subject.rfc4514_string()} "
            f"is not in trust store {security.trust_store}",
        )

    async def same_server(
        certificate: x509.Certificate, _application: ua.ApplicationDescription
    ) -> None:
        if certificate.public_bytes(DER_ENCODING) != server_der:
            raise ServiceError(StatusCodes.BadCertificateUntrusted)

    client.certificate_validator = same_server
    await client.set_security(
        SecurityPolicyBasic256Sha256,
        certificate=uacrypto.CertProperties(
            certificate_bytes, certificate_format(certificate_bytes)
        ),
        private_key=uacrypto.CertProperties(key_bytes, certificate_format(key_bytes)),
        server_certificate=uacrypto.CertProperties(server_der, "der"),
        mode=mode,
    )


def _path(base_dir: Path | None, name: str) -> Path:
    path = Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path
