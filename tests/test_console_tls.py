"""The console over TLS: `padctl serve --tls-cert --tls-key`, and the refusal to serve plain
HTTP beyond loopback."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from padctl.cli import app
from padctl.console import SESSION_COOKIE
from tests.console_fixtures import write_users
from tests.e2e_fixtures import PASSWORD, make_users_file, padctl_serve

pytestmark = pytest.mark.timeout(120)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by its own key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "padctl console test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "console.crt", folder / "console.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_the_console_serves_https_with_a_secure_cookie_and_hsts(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    users = make_users_file(tmp_path / "users.yaml", ("conductor",))
    options = ("--sim", "--users", str(users), "--tls-cert", str(cert), "--tls-key", str(key))
    async with padctl_serve(tmp_path, *options) as server:
        assert server.url.startswith("https://127.0.0.1:"), server.url
        trusting = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(base_url=server.url, verify=trusting, timeout=10) as client:
            login = await client.post(
                "/api/login", json={"username": "conductor", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            cookie = login.headers["set-cookie"].lower()
            assert SESSION_COOKIE in cookie and "; secure" in cookie, cookie
            assert login.headers["strict-transport-security"].startswith("max-age=")
            session = await client.get("/api/session")
            assert session.status_code == 200 and session.json()["user"]["name"] == "conductor"
            page = await client.get("/")
            assert "max-age=" in page.headers["strict-transport-security"]
        plain_url = server.url.replace("https://", "http://")
        async with httpx.AsyncClient(timeout=10) as plain:
            with pytest.raises(httpx.HTTPError):  # no plain HTTP on the TLS port
                await plain.get(plain_url + "/api/health")


def test_plain_http_has_neither_hsts_nor_a_secure_cookie(tmp_path: Path) -> None:
    from tests.console_fixtures import PASSWORD as RIG_PASSWORD
    from tests.console_fixtures import console_rig

    with console_rig(tmp_path) as rig:
        login = rig.client.post("/api/login", json={"username": "tc", "password": RIG_PASSWORD})
        assert login.status_code == 200
        assert "secure" not in login.headers["set-cookie"].lower()
        assert "strict-transport-security" not in login.headers


def _beyond_loopback(tmp_path: Path, host: str) -> list[str]:
    """`padctl serve` options that pass every check before the TLS one, on `host`."""
    path = tmp_path / "users.yaml"
    write_users(path)
    return [
        "serve",
        "--sim",
        "--host",
        host,
        "--allowed-host",
        "console.site",
        "--users",
        str(path),
    ]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_serving_beyond_loopback_needs_tls(tmp_path: Path, host: str) -> None:
    result = CliRunner().invoke(app, _beyond_loopback(tmp_path, host))
    assert result.exit_code == 2, result.output
    assert "needs --tls-cert FILE --tls-key FILE" in result.output
    assert "--insecure-http" in result.output


def test_insecure_http_is_an_explicit_override(tmp_path: Path) -> None:
    """With --insecure-http the TLS check passes (with a warning); a bad --rate given with it
    is the next refusal, so nothing is bound."""
    options = [*_beyond_loopback(tmp_path, "0.0.0.0"), "--insecure-http", "--arm-timeout", "0"]
    result = CliRunner().invoke(app, options)
    assert result.exit_code == 2, result.output
    assert "plain HTTP" in result.output and "--insecure-http" in result.output
    assert "--arm-timeout and --update-period must be above 0" in result.output


def test_tls_files_are_checked_before_serving(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    runner = CliRunner()
    only_cert = runner.invoke(app, ["serve", "--sim", "--tls-cert", str(cert)])
    assert only_cert.exit_code == 2 and "--tls-cert and --tls-key go together" in only_cert.output
    missing = runner.invoke(
        app, ["serve", "--sim", "--tls-cert", str(tmp_path / "no.crt"), "--tls-key", str(key)]
    )
    assert missing.exit_code == 2 and "no.crt" in missing.output
    folder = runner.invoke(
        app, ["serve", "--sim", "--tls-cert", str(cert), "--tls-key", str(tmp_path)]
    )
    assert folder.exit_code == 2 and "--tls-key" in folder.output
    assert "a directory" in folder.output
    wrong = runner.invoke(app, ["serve", "--sim", "--tls-cert", str(key), "--tls-key", str(key)])
    assert wrong.exit_code == 2 and "cannot load" in wrong.output
    both = runner.invoke(
        app,
        ["serve", "--sim", "--tls-cert", str(cert), "--tls-key", str(key), "--insecure-http"],
    )
    assert both.exit_code == 2 and "--insecure-http" in both.output
