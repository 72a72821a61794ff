"""OPC UA hub against a simulated OPC UA PLC over real sockets on 127.0.0.1."""

from __future__ import annotations

import datetime
import socket
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog
from asyncua.client.client import Client
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from padctl.clock import ScaledClock
from padctl.definition import OpcUaPlc, OpcUaSecurity, PadDefinition, Tag, load_pad_definition
from padctl.opcua_security import is_trusted
from padctl.plant import CommError, Quality, TagTable, WriteFailed, WriteRefused
from padctl.plant._opcua_codec import decode_value, encode_value
from padctl.plant._opcua_hub import OpcUaHub
from simulators.link import LinkRelay, LinkState
from simulators.opcua_plc import OpcUaPlcServer, SimServerSecurity
from tests.opcua_pki import Pki, make_pki

PUBLISHING_INTERVAL_S = 0.02
MARGIN_S = 0.25  # scheduling slack on a loaded 2-core CI machine
REFUSAL_WALL_S = 30.0  # the bound on a refused connection attempt being reported
PASSWORD_ENV = "PADCTL_TEST_UAT_PASSWORD"

OPCUA_TEST_PAD = """\
pad: opcua-test-pad
plcs:
  - id: UAT
    area: test bench
    protocol: opcua
    endpoint: opc.tcp://127.0.0.1:1/padctl/UAT
    namespace: urn:padctl:test:UAT
    publishing_interval_ms: 20
    stale_after_s: 0.5
    timeout_s: 0.3
    reconnect_min_s: 0.05
    reconnect_max_s: 0.2
tags:
  - {name: UAT-PT-101, plc: UAT, type: float32, unit: bar, range: [0, 10], address: UAT.PT101}
  - {name: UAT-ET-101, plc: UAT, type: float64, unit: V, range: [0, 1000], address: UAT.ET101}
  - {name: UAT-TT-101, plc: UAT, type: int16, unit: K, range: [-300, 300], scale: 0.01, address: UAT.TT101}
  - {name: UAT-LT-101, plc: UAT, type: uint16, unit: "%", range: [0, 100], address: UAT.LT101}
  - {name: UAT-FT-101, plc: UAT, type: int32, unit: kg/s, range: [-100000, 100000], address: UAT.FT101}
  - {name: UAT-FT-102, plc: UAT, type: uint32, unit: kg/s, range: [0, 4000000], address: UAT.FT102}
  - {name: UAT-FV-101-ZSO, plc: UAT, type: bool, unit: "", address: UAT.FV101.ZSO}
  - {name: UAT-FV-101-CMD, plc: UAT, type: bool, unit: "", address: UAT.FV101.CMD, writable: true, safe: false}
  - {name: UAT-CV-101-SP, plc: UAT, type: float32, unit: "%", range: [0, 100], address: UAT.CV101.SP, writable: true, safe: 0}
  - {name: UAT-CV-102-SP, plc: UAT, type: float64, unit: bar, range: [0, 300], address: UAT.CV102.SP, writable: true, safe: 0}
  - {name: UAT-CV-103-SP, plc: UAT, type: int32, unit: rpm, range: [-5000, 5000], address: UAT.CV103.SP, writable: true, safe: 0}
  - {name: UAT-CV-104-SP, plc: UAT, type: uint16, unit: "%", range: [0, 100], address: UAT.CV104.SP, writable: true, safe: 0}
  - {name: UAT-CV-105-SP, plc: UAT, type: int16, unit: bar, range: [0, 50], scale: 0.1, address: UAT.CV105.SP, writable: true, safe: 5}
  - {name: UAT-CV-106-SP, plc: UAT, type: uint32, unit: rpm, range: [0, 100000], address: UAT.CV106.SP, writable: true, safe: 0}
"""

MEASUREMENTS: dict[str, float | int | bool] = {
    "UAT-PT-101": 3.25,
    "UAT-ET-101": 402.123456789,
    "UAT-TT-101": -183.27,
    "UAT-LT-101": 42,
    "UAT-FT-101": -12345,
    "UAT-FT-102": 3_000_001,
    "UAT-FV-101-ZSO": True,
}
COMMANDS: dict[str, float | int | bool] = {
    "UAT-FV-101-CMD": True,
    "UAT-CV-101-SP": 12.5,  # exact in float32
    "UAT-CV-102-SP": 7,  # a Python int to a Double node
    "UAT-CV-103-SP": -4321,
    "UAT-CV-104-SP": 99,
    "UAT-CV-105-SP": 12.3,  # raw 123 at scale 0.1
    "UAT-CV-106-SP": 65_537,
}


def _pad(tmp_path: Path) -> PadDefinition:
    path = tmp_path / "pad.yaml"
    path.write_text(textwrap.dedent(OPCUA_TEST_PAD), encoding="utf-8")
    return load_pad_definition(path)


def _uat(definition: PadDefinition) -> OpcUaPlc:
    # From the list: PadDefinition.plc() caches by id and survives model_copy (stale endpoint).
    plc = next(plc for plc in definition.plcs if plc.id == "UAT")
    assert isinstance(plc, OpcUaPlc)
    return plc


def _same(tag: Tag, got: object, want: float | int | bool) -> bool:
    """`got` is `want` as the tag's OPC UA type carries it (scaled integers, float32)."""
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    if not isinstance(got, int | float):
        return False
    if tag.type.value.startswith("float"):
        return abs(got - want) <= 1e-6 * max(1.0, abs(want))
    return abs(got - want) <= tag.scale / 2 + 1e-9


@dataclass
class Bench:
    """One simulated PLC (optionally behind a link relay), a tag table and a hub on it."""

    definition: PadDefinition
    plc: OpcUaPlc
    clock: ScaledClock
    server: OpcUaPlcServer
    table: TagTable
    hub: OpcUaHub
    relay: LinkRelay | None = None

    def tag(self, name: str) -> Tag:
        return self.definition.tag(name)

    async def wait_for(self, predicate: Callable[[TagTable], bool], timeout_s: float) -> bool:
        return await self.table.wait_for(predicate, timeout_s=timeout_s)

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Bounded polling of a condition that no tag table update signals."""
        deadline_s = self.clock.now() + timeout_s
        while not condition():
            if self.clock.now() >= deadline_s:
                return False
            await self.clock.sleep(0.01)
        return True


@asynccontextmanager
async def bench(
    tmp_path: Path,
    *,
    security: SimServerSecurity | None = None,
    client_security: OpcUaSecurity | None = None,
    relay: bool = False,
    connect: bool = True,
    rate: float = 1.0,
) -> AsyncIterator[Bench]:
    definition = _pad(tmp_path)
    clock = ScaledClock(rate)
    plc_tags = definition.tags_of("UAT")
    base_plc = definition.plc("UAT")
    assert isinstance(base_plc, OpcUaPlc)
    async with AsyncExitStack() as stack:
        server = OpcUaPlcServer(plc=base_plc, tags=plc_tags, security=security)
        port = await server.start()
        stack.push_async_callback(server.stop)
        link: LinkRelay | None = None
        if relay:
            link = LinkRelay(name="UAT", target_host="127.0.0.1", target_port=port)
            port = await link.start()
            stack.push_async_callback(link.stop)
        definition = definition.with_plc_endpoint("UAT", host="127.0.0.1", port=port)
        plc = _uat(definition)
        if client_security is not None:
            plc = plc.model_copy(update={"security": client_security})
        table = TagTable(definition, clock)
        hub = OpcUaHub(plc=plc, tags=plc_tags, table=table, clock=clock, base_dir=tmp_path)
        await hub.start()
        stack.push_async_callback(hub.stop)
        if connect:
            assert await hub.wait_connected(5.0), "hub did not connect"
        yield Bench(definition, plc, clock, server, table, hub, link)


async def test_the_session_timeout_is_wall_seconds_at_any_clock_rate(tmp_path: Path) -> None:
    """At clock rate 100 the session padctl opens lasts as long in wall time as at rate 1:
    a session abandoned by a stalled link is not kept on the PLC 100 times longer."""
    async with bench(tmp_path, rate=100.0) as b:
        granted_s = b.server.session_timeouts_s()
        assert granted_s == [pytest.approx(max(10.0, b.plc.timeout_s * 10))], granted_s
        assert b.clock.rate == 100.0


# -- certificates ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _server_security(pki: Pki) -> SimServerSecurity:
    return SimServerSecurity(
        certificate=pki.server_cert,
        private_key=pki.server_key,
        trusted_clients_dir=pki.trusted_clients,
        users={"padctl": "s3cret-pad"},
    )


def _client_security(pki: Pki, **changes: Any) -> OpcUaSecurity:
    fields: dict[str, Any] = {
        "policy": "Basic256Sha256",
        "mode": "SignAndEncrypt",
        "certificate": str(pki.client_cert),
        "private_key": str(pki.client_key),
        "trust_store": str(pki.trusted_servers),
        "username": "padctl",
        "password_env": PASSWORD_ENV,
    }
    fields.update(changes)
    return OpcUaSecurity(**fields)


@contextmanager
def captured_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    with structlog.testing.capture_logs() as logs:
        yield logs


def _lost_errors(logs: list[MutableMapping[str, Any]]) -> list[str]:
    return [entry["error"] for entry in logs if entry["event"] == "plc_connection_lost"]


# -- value coding (no server) ---------------------------------------------------------------


def test_values_encode_to_their_opcua_types(tmp_path: Path) -> None:
    pad = _pad(tmp_path)
    assert encode_value(pad.tag("UAT-CV-102-SP"), 7) == 7.0
    assert isinstance(encode_value(pad.tag("UAT-CV-102-SP"), 7), float)
    assert encode_value(pad.tag("UAT-CV-105-SP"), 12.3) == 123
    assert decode_value(pad.tag("UAT-CV-105-SP"), 123) == pytest.approx(12.3)
    assert decode_value(pad.tag("UAT-CV-104-SP"), 99) == 99
    with pytest.raises(WriteRefused):
        encode_value(pad.tag("UAT-FV-101-CMD"), 1)
    with pytest.raises(WriteRefused):
        encode_value(pad.tag("UAT-CV-101-SP"), True)
    with pytest.raises(WriteRefused):
        encode_value(pad.tag("UAT-CV-104-SP"), 70_000)
    with pytest.raises(WriteRefused):
        encode_value(pad.tag("UAT-CV-101-SP"), float("nan"))
    with pytest.raises(ValueError, match="not a bool"):
        decode_value(pad.tag("UAT-FV-101-CMD"), 1)


def test_trust_is_by_certificate_or_direct_issuer(pki: Pki) -> None:
    server = x509.load_der_x509_certificate(pki.server_cert.read_bytes())
    rogue = x509.load_der_x509_certificate(pki.rogue_server_cert.read_bytes())
    assert is_trusted(server, [server])
    assert not is_trusted(rogue, [server])
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "pad CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "plc")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(2)
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    assert is_trusted(leaf, [ca])
    assert not is_trusted(leaf, [server])


async def test_write_without_connection_is_a_comm_error(tmp_path: Path) -> None:
    definition = _pad(tmp_path)
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    definition = definition.with_plc_endpoint("UAT", host="127.0.0.1", port=port)
    plc = _uat(definition)
    clock = ScaledClock(1.0)
    table = TagTable(definition, clock)
    hub = OpcUaHub(plc=plc, tags=definition.tags_of("UAT"), table=table, clock=clock)
    with captured_logs() as logs:
        await hub.start()
        try:
            with pytest.raises(CommError, match="not connected"):
                await hub.write(definition.tag("UAT-CV-101-SP"), 1.0)
            assert not await hub.wait_connected(0.3)
        finally:
            await hub.stop()
    assert len(_lost_errors(logs)) == 1, "an outage is logged once at ERROR, then quietly"
    assert table.get("UAT-PT-101").quality is Quality.BAD


# -- against a simulated PLC ----------------------------------------------------------------


async def test_subscription_updates_reach_the_tag_table(tmp_path: Path) -> None:
    async with bench(tmp_path) as b:
        initial = b.table.snapshot(list(MEASUREMENTS))
        assert all(sample.quality is Quality.GOOD for sample in initial.values())
        assert b.table.get("UAT-CV-105-SP").value == pytest.approx(5.0)  # safe value, scaled
        started_s = b.clock.now()
        await b.server.set_values(MEASUREMENTS)

        def arrived(table: TagTable) -> bool:
            return all(
                _same(b.tag(name), table.get(name).value, want)
                for name, want in MEASUREMENTS.items()
            )

        assert await b.wait_for(arrived, timeout_s=2 * PUBLISHING_INTERVAL_S + MARGIN_S)
        latency_s = b.clock.now() - started_s
        assert latency_s < 2 * PUBLISHING_INTERVAL_S + MARGIN_S
        for name in MEASUREMENTS:
            sample = b.table.get(name)
            assert sample.quality is Quality.GOOD, sample
            assert sample.t_source_s <= sample.t_received_s
            assert sample.t_received_s >= started_s
        assert isinstance(b.table.get("UAT-LT-101").value, int)
        assert isinstance(b.table.get("UAT-TT-101").value, float)  # scaled integer
        assert b.table.get("UAT-FV-101-ZSO").value is True


async def test_a_steady_value_stays_good_while_the_subscription_lives(tmp_path: Path) -> None:
    """Report-by-exception sends nothing for an unchanged value: keep-alives keep it fresh.

    A keep-alive comes every quarter of the stale limit and is looked for as often, and the
    value counts from the keep-alive's arrival: about half the limit spare (once a keep-alive
    came every half limit and was looked for as often, so one a little late on a busy machine
    made steady data STALE in a whole count)."""
    async with bench(tmp_path) as b:
        await b.server.set_values(MEASUREMENTS)
        assert await b.wait_for(lambda t: t.get("UAT-FV-101-ZSO").value is True, timeout_s=2)
        stale_after_s = b.plc.stale_after_s
        until_s = b.clock.now() + 8 * stale_after_s
        oldest_s = 0.0
        while b.clock.now() < until_s:  # eight stale periods with no change at the server
            sample = b.table.get("UAT-FV-101-ZSO")
            assert sample.quality is Quality.GOOD
            oldest_s = max(oldest_s, b.clock.now() - sample.t_received_s)
            await b.clock.sleep(0.01)
        assert b.table.get("UAT-FV-101-ZSO").quality is Quality.GOOD
        assert 0 < oldest_s < stale_after_s, oldest_s


async def test_a_pulse_shorter_than_the_publishing_interval_is_not_lost(tmp_path: Path) -> None:
    async with bench(tmp_path) as b:
        seen: list[object] = []
        remove = b.table.add_listener(
            lambda names: seen.extend(
                b.table.get(name).value for name in names if name == "UAT-FV-101-ZSO"
            )
        )
        try:
            await b.server.set_values({"UAT-FV-101-ZSO": True})
            await b.server.set_values({"UAT-FV-101-ZSO": False})  # within one interval
            assert await b.wait_until(lambda: len(seen) >= 2, timeout_s=1.0), seen
        finally:
            remove()
        assert seen == [True, False]


async def test_plc_status_maps_to_quality(tmp_path: Path) -> None:
    async with bench(tmp_path) as b:
        await b.server.set_quality({"UAT-PT-101": Quality.UNCERTAIN, "UAT-ET-101": Quality.BAD})
        assert await b.wait_for(
            lambda t: (
                t.get("UAT-PT-101").quality is Quality.UNCERTAIN
                and t.get("UAT-ET-101").quality is Quality.BAD
            ),
            timeout_s=2 * PUBLISHING_INTERVAL_S + MARGIN_S,
        )
        assert "Uncertain" in b.table.get("UAT-PT-101").reason
        await b.server.set_quality({"UAT-PT-101": Quality.GOOD, "UAT-ET-101": Quality.GOOD})
        assert await b.wait_for(
            lambda t: all(s.is_good for s in t.snapshot(["UAT-PT-101", "UAT-ET-101"]).values()),
            timeout_s=2 * PUBLISHING_INTERVAL_S + MARGIN_S,
        )


async def test_every_type_round_trips_on_write(tmp_path: Path) -> None:
    async with bench(tmp_path) as b:
        for name, value in COMMANDS.items():
            await b.hub.write(b.tag(name), value)
        commands = b.server.commands()
        for name, value in COMMANDS.items():
            assert _same(b.tag(name), commands[name], value), (name, commands[name], value)
        assert commands["UAT-CV-106-SP"] == 65_537
        assert commands["UAT-FV-101-CMD"] is True

        def echoed(table: TagTable) -> bool:
            return all(_same(b.tag(n), table.get(n).value, v) for n, v in COMMANDS.items())

        assert await b.wait_for(echoed, timeout_s=2 * PUBLISHING_INTERVAL_S + MARGIN_S)
        with pytest.raises(WriteRefused):
            await b.hub.write(b.tag("UAT-CV-104-SP"), 1e6)  # does not fit uint16


async def test_write_to_read_only_node_fails(tmp_path: Path) -> None:
    async with bench(tmp_path) as b:
        before = b.server.value("UAT-PT-101")
        with pytest.raises(WriteFailed, match="Bad"):
            await b.hub.write(b.tag("UAT-PT-101"), 5.0)
        assert b.server.value("UAT-PT-101") == before
        await b.hub.write(b.tag("UAT-CV-101-SP"), 50.0)  # the connection is still fine


async def test_secured_endpoint_through_a_relay(
    tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-pad")
    async with bench(
        tmp_path,
        security=_server_security(pki),
        client_security=_client_security(pki),
        relay=True,  # the server advertises its private port; the client dials the relay
    ) as b:
        await b.server.set_values({"UAT-PT-101": 9.5})
        assert await b.wait_for(
            lambda t: t.get("UAT-PT-101").value == 9.5,
            timeout_s=2 * PUBLISHING_INTERVAL_S + MARGIN_S,
        )
        await b.hub.write(b.tag("UAT-CV-103-SP"), 77)
        assert b.server.commands()["UAT-CV-103-SP"] == 77


async def test_secured_with_pinned_server_certificate_and_sign_only(
    tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-pad")
    security = _client_security(
        pki,
        mode="Sign",
        trust_store=None,
        server_certificate=pki.server_cert.name,  # relative to base_dir
        certificate=pki.client_cert.name,
        private_key=pki.client_key.name,
    )
    for path in (pki.server_cert, pki.client_cert, pki.client_key):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    async with bench(tmp_path, security=_server_security(pki), client_security=security) as b:
        await b.hub.write(b.tag("UAT-FV-101-CMD"), True)
        assert b.server.commands()["UAT-FV-101-CMD"] is True


async def _refused(b: Bench, logs: list[MutableMapping[str, Any]]) -> str:
    # A refused secure connection costs the client and the server (one loop, one process)
    # their RSA work: on a loaded 2-core machine that has taken over 5 s.
    assert await b.wait_until(lambda: bool(_lost_errors(logs)), timeout_s=REFUSAL_WALL_S)
    assert not b.hub.connected
    assert b.hub.connection_count == 0
    with pytest.raises(CommError):
        await b.hub.write(b.tag("UAT-CV-101-SP"), 1.0)
    return _lost_errors(logs)[0]


async def test_wrong_password_is_refused(
    tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "guess")
    with captured_logs() as logs:
        async with bench(
            tmp_path,
            security=_server_security(pki),
            client_security=_client_security(pki),
            connect=False,
        ) as b:
            error = await _refused(b, logs)
    assert "BadUserAccessDenied" in error


async def test_untrusted_client_certificate_is_refused(
    tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-pad")
    rogue = _client_security(
        pki, certificate=str(pki.rogue_client_cert), private_key=str(pki.rogue_client_key)
    )
    with captured_logs() as logs:
        async with bench(
            tmp_path, security=_server_security(pki), client_security=rogue, connect=False
        ) as b:
            error = await _refused(b, logs)
    assert "BadCertificateUntrusted" in error
    assert any(entry["event"] == "sim_client_certificate_refused" for entry in logs)


async def test_server_certificate_not_in_trust_store_is_refused(
    tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-pad")
    other_store = tmp_path / "other-servers"
    other_store.mkdir()
    (other_store / "rogue-plc.der").write_bytes(pki.rogue_server_cert.read_bytes())
    with captured_logs() as logs:
        async with bench(
            tmp_path,
            security=_server_security(pki),
            client_security=_client_security(pki, trust_store=str(other_store)),
            connect=False,
        ) as b:
            error = await _refused(b, logs)
    assert "not in trust store" in error


async def test_unsecured_client_is_refused_by_a_secured_server(
    tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-pad")
    plain = OpcUaSecurity(username="padctl", password_env=PASSWORD_ENV)
    with captured_logs() as logs:
        async with bench(
            tmp_path, security=_server_security(pki), client_security=plain, connect=False
        ) as b:
            assert "No matching endpoints" in await _refused(b, logs)  # padctl's own refusal
            # A client that goes on anyway over the unsecured channel (asyncua's server would
            # let it in with the right password) is refused by the server at activation.
            client = Client(f"opc.tcp://127.0.0.1:{b.server.port}/padctl/UAT", timeout=2)
            await client.connect_socket()
            try:
                await client.send_hello()
                await client.open_secure_channel()
                with pytest.raises(UaError, match="No matching endpoints"):
                    await client.create_session()  # the server offers no unsecured endpoint
                with pytest.raises(UaStatusCodeError, match="BadUserAccessDenied"):
                    await client.activate_session(username="padctl", password="s3cret-pad")
            finally:
                client.disconnect_socket()


async def test_stall_goes_stale_then_reconnects(tmp_path: Path) -> None:
    async with bench(tmp_path, relay=True) as b:
        assert b.relay is not None
        await b.server.set_values({"UAT-PT-101": 1.5})
        assert await b.wait_for(lambda t: t.get("UAT-PT-101").value == 1.5, timeout_s=1.0)
        with captured_logs() as logs:
            await b.relay.set_state(LinkState.STALLED)
            await b.server.set_values({"UAT-PT-101": 2.5})  # swallowed by the stalled link
            stale_after_s = b.plc.stale_after_s
            assert await b.wait_until(
                lambda: b.table.get("UAT-PT-101").quality is Quality.STALE,
                timeout_s=stale_after_s + MARGIN_S,
            )
            assert b.table.get("UAT-PT-101").value == 1.5
            assert await b.wait_until(lambda: not b.hub.connected, timeout_s=2.0)
            await b.relay.set_state(LinkState.UP)
            assert await b.wait_for(
                lambda t: t.get("UAT-PT-101").value == 2.5 and t.get("UAT-PT-101").is_good,
                timeout_s=3.0,
            )
            assert await b.wait_until(lambda: b.hub.connected, timeout_s=1.0)
        assert b.hub.connection_count == 2
        events = [entry["event"] for entry in logs if entry["event"].startswith("plc_")]
        assert events.count("plc_connection_lost") == 1
        assert events.count("plc_connection_restored") == 1
        await b.hub.write(b.tag("UAT-CV-101-SP"), 25.0)
        assert b.server.commands()["UAT-CV-101-SP"] == 25.0


async def test_server_restart_on_same_port_reconnects(tmp_path: Path) -> None:
    async with bench(tmp_path) as b:
        port = b.server.port
        await b.server.stop()
        assert await b.wait_until(lambda: not b.hub.connected, timeout_s=2.0)
        await b.server.set_values({"UAT-LT-101": 77})  # retained until the restart
        assert await b.server.start(port=port) == port
        assert await b.wait_for(
            lambda t: t.get("UAT-LT-101").value == 77 and t.get("UAT-LT-101").is_good,
            timeout_s=3.0,
        )
        assert await b.wait_until(lambda: b.hub.connected, timeout_s=1.0)
        assert b.hub.connection_count == 2
        await b.hub.write(b.tag("UAT-CV-104-SP"), 55)
        assert b.server.commands()["UAT-CV-104-SP"] == 55
