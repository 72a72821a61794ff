"""OPC UA certificate trust: loading certificates and judging them against a trust store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID

DER_ENCODING = Encoding.DER


def load_certificate(content: bytes) -> x509.Certificate:
    """A certificate from PEM or DER bytes."""
    if certificate_format(content) == "pem":
        return x509.load_pem_x509_certificate(content)
    return x509.load_der_x509_certificate(content)


def read_private_key(path: Path) -> bytes:
    """The bytes of a private key file (PEM or DER), read without a thread."""
    return path.read_bytes()


def load_trusted_certificates(directory: Path) -> list[x509.Certificate]:
    """The certificates (*.der, *.pem, *.crt) in a trust-store directory."""
    if not directory.is_dir():
        raise FileNotFoundError(f"trust store {directory} is not a directory")
    certificates = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() in (".der", ".pem", ".crt", ".cer"):
            certificates.append(load_certificate(path.read_bytes()))
    return certificates


def is_trusted(certificate: x509.Certificate, trusted: Sequence[x509.Certificate]) -> bool:
    """Whether `certificate` is in `trusted`, or directly issued by a CA in it, and valid now.

    Certificate validity is calendar time (UTC), not the plant clock.
    """
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        return False
    der = certificate.public_bytes(DER_ENCODING)
    for anchor in trusted:
        if anchor.public_bytes(DER_ENCODING) == der:
            return True
        if anchor.subject != certificate.issuer or not _is_ca(anchor):
            continue
        try:
            certificate.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


def application_uri_of(certificate: x509.Certificate) -> str | None:
    """The application URI in a certificate's subject alternative names, if any."""
    try:
        extension = certificate.extensions.get_extension_for_oid(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME
        )
    except x509.ExtensionNotFound:
        return None
    assert isinstance(extension.value, x509.SubjectAlternativeName)
    uris = extension.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca


def certificate_format(content: bytes) -> str:
    return "pem" if content.lstrip().startswith(b"-----BEGIN") else "der"


def to_der(content: bytes) -> bytes:
    return load_certificate(content).public_bytes(DER_ENCODING)


def first_certificate(der: bytes | None) -> bytes | None:
    """The first certificate of a DER chain (servers may send their chain); None if none."""
    if not der or len(der) < 2 or der[0] != 0x30:  # an ASN.1 SEQUENCE
        return None
    length = der[1]
    if length < 0x80:
        header, body = 2, length
    else:
        count = length & 0x7F
        header, body = 2 + count, int.from_bytes(der[2 : 2 + count], "big")
    return der[: header + body]
