"""Security of an OPC UA server padctl runs (its SCADA face, a simulated PLC): its certificate,
the clients and users it trusts."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.common.utils import ServiceError
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.internal_server import InternalServer
from asyncua.server.server import Server
from asyncua.server.user_managers import UserManager
from asyncua.ua.status_codes import StatusCodes
from cryptography import x509

from padctl.opcua_security._trust import (
    application_uri_of,
    is_trusted,
    load_certificate,
    load_trusted_certificates,
    read_private_key,
)


@dataclass(frozen=True)
class ServerSecurity:
    """Server certificate and key, trusted client certificates and users of a secured server.

    With it the server offers only Basic256Sha256 (SignAndEncrypt, and Sign), refuses client
    certificates that are not in (or directly issued by a CA in) `trusted_clients_dir`, and
    refuses anonymous users and wrong passwords.
    """

    certificate: Path
    private_key: Path
    trusted_clients_dir: Path
    users: Mapping[str, str] = field(default_factory=dict)
    sign_only: bool = True  # also offer Sign without encryption (SignAndEncrypt always)


class PasswordUsers(UserManager):
    """Lets in exactly the configured users with their passwords (or anyone, unsecured)."""

    def __init__(self, users: Mapping[str, str], *, anonymous: bool) -> None:
        self._users = {name: password.encode() for name, password in users.items()}
        self._anonymous = anonymous
        self.trusted: list[x509.Certificate] = []

    def client_trusted(self, certificate: Any) -> bool:
        """Whether the session's secure channel has a trusted client certificate: an unsecured
        channel has none (asyncua would let it in with the right password although only
        Basic256Sha256 is offered), and the channel's certificate counts, whatever
        CreateSession claimed."""
        if not certificate:
            return False
        return is_trusted(x509.load_der_x509_certificate(certificate), self.trusted)

    def get_user(
        self,
        iserver: InternalServer,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if self._anonymous:
            return User(role=UserRole.User, name=username)
        if not self.client_trusted(certificate):
            return None
        expected = self._users.get(username or "")
        if expected is None or password is None:
            return None
        if not hmac.compare_digest(expected, password.encode()):
            return None
        return User(role=UserRole.User, name=username)


RefusedClient = Callable[[str, str], None]  # told a refused client's subject and app URI


async def configure_security(
    server: Server, security: ServerSecurity | None, users: PasswordUsers, refused: RefusedClient
) -> None:
    """Offer only what `security` allows (no security at all when None); `refused` is told
    each client whose certificate is not trusted (the server names it in its own log)."""
    if security is None:
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        server.set_identity_tokens([ua.AnonymousIdentityToken])
        return
    certificate_bytes = security.certificate.read_bytes()
    certificate = load_certificate(certificate_bytes)
    await server.load_certificate(certificate_bytes, _format(certificate_bytes))
    key_bytes = read_private_key(security.private_key)
    await server.load_private_key(key_bytes, None, _format(key_bytes))
    uri = application_uri_of(certificate)
    if uri is not None:
        await server.set_application_uri(uri)
    policies = [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
    if security.sign_only:
        policies.append(ua.SecurityPolicyType.Basic256Sha256_Sign)
    server.set_security_policy(policies)
    server.set_identity_tokens([ua.UserNameIdentityToken])
    trusted = load_trusted_certificates(security.trusted_clients_dir)
    users.trusted = trusted

    async def validate_client(
        certificate: x509.Certificate, application: ua.ApplicationDescription
    ) -> None:
        if not is_trusted(certificate, trusted):
            refused(certificate.subject.rfc4514_string(), application.ApplicationUri)
            raise ServiceError(StatusCodes.BadCertificateUntrusted)

    server.set_certificate_validator(validate_client)


def _format(content: bytes) -> str:
    return "pem" if content.lstrip().startswith(b"-----BEGIN") else "der"
