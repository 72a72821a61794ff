"""padctl's OPC UA server face, read by a plant SCADA through another client stack
(python-opcua, in a process of its own: tests/opcua_scada_client.py): the Pad / PLC / Tag
layout with EngineeringUnits and EURange, the countdown and subsystems, quality as status
codes (STALE as UncertainLastUsableValue), Basic256Sha256 SignAndEncrypt only, trusted
clients and padctl's user accounts only, nothing writable."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from padctl.cli._opcua_face_options import opcua_face_settings_or_exit
from padctl.cli._serve import simulated_station
from padctl.console import Role, StationHandle, UsersFile
from padctl.definition import load_pad_definition
from padctl.opcua_face import (
    SERVER_ALARM_ID,
    UNECE_UNITS_URI,
    OpcUaFace,
    OpcUaFaceSettings,
    ServerSecurity,
)
from tests.console_fixtures import reference_test_flight
from tests.e2e_fixtures import wait_until
from tests.opcua_pki import Pki, make_pki
from tests.processes import PADCTL

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

CLIENT = Path(__file__).with_name("opcua_scada_client.py")
USER, PASSWORD = "scada", "plant-reader-7"
STALLED_PLC = "MECH"
ANALOG_ITEM_TYPE = 2368  # ObjectIds.AnalogItemType
BASIC256SHA256 = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("scada-pki"))


@dataclass
class Rig:
    handle: StationHandle
    face: OpcUaFace

    @property
    def pad(self) -> str:
        return self.handle.station.definition.pad

    def node(self, group: str, name: str) -> str:
        return f"ns={self.face.namespace_index};s={group}/{name}"


@asynccontextmanager
async def scada_rig(folder: Path, pki: Pki) -> AsyncIterator[Rig]:
    definition, sequence, criteria = reference_test_flight()
    security = ServerSecurity(
        certificate=pki.server_cert,
        private_key=pki.server_key,
        trusted_clients_dir=pki.trusted_clients,
        sign_only=False,
    )
    settings = OpcUaFaceSettings(
        endpoint="opc.tcp://127.0.0.1:0/padctl",
        security=security,
        verify_user=lambda name, password: (name, password) == (USER, PASSWORD),
    )
    async with (
        simulated_station(
            definition, rate=1, sequence=sequence, lcc=criteria, journal_path=folder / "j.sqlite"
        ) as handle,
        OpcUaFace(handle.station, settings) as face,
    ):
        yield Rig(handle, face)


async def scada_client(rig: Rig, *args: str, pki: Pki | None, rogue: bool = False) -> Any:
    """Run the other-stack client against the face; its JSON result."""
    return await scada_client_at(rig.face.endpoint, rig.pad, *args, pki=pki, rogue=rogue)


async def scada_client_at(
    endpoint: str, pad: str, *args: str, pki: Pki | None, rogue: bool = False
) -> Any:
    """Run the other-stack client against the face at `endpoint`; its JSON result."""
    command = [sys.executable, str(CLIENT), endpoint, "--pad", pad, *args]
    if pki is not None:
        cert, key = (
            (pki.rogue_client_cert, pki.rogue_client_key)
            if rogue
            else (pki.client_cert, pki.client_key)
        )
        command += ["--cert", str(cert), "--key", str(key)]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60.0)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()[-3000:]
    return json.loads(out.decode().strip().splitlines()[-1])


async def test_a_scada_of_another_stack_browses_units_and_ranges_and_reads_status_codes(
    tmp_path: Path, pki: Pki
) -> None:
    async with scada_rig(tmp_path, pki) as rig:
        definition = rig.handle.station.definition
        analog = definition.tag("LOX-LT-001")  # storage tank level: still before loading
        switch = next(t for t in definition.tags if t.plc == STALLED_PLC and t.type.value == "bool")
        watched = [rig.node("PROP", analog.name), rig.node(STALLED_PLC, switch.name)]
        state = rig.node("Countdown", "State")
        seen = await scada_client(
            rig,
            "--user", USER, "--password", PASSWORD,
            *[arg for node in [*watched, state] for arg in ("--watch", node)],
            "--write", watched[0],
            pki=pki,
        )  # fmt: skip
        assert seen["connected"] and seen["policy"] == BASIC256SHA256
        groups = {entry["browse_name"]: entry for entry in seen["tree"].values()}
        assert {plc.id for plc in definition.plcs} | {"Countdown", "Subsystems", "Alarms"} == set(
            groups
        )
        tag = groups["PROP"]["children"][watched[0]]
        assert tag["browse_name"] == analog.name and tag["type"] == ANALOG_ITEM_TYPE
        assert seen["detail"][watched[0]] == {
            "unit": analog.unit,
            "unit_namespace": UNECE_UNITS_URI,
            "range": list(analog.range or ()),
        }
        assert seen["detail"][watched[1]] == {}  # a switch: no unit, no range
        names = {e["browse_name"] for e in groups[STALLED_PLC]["children"].values()}
        assert names == {t.name for t in definition.tags if t.plc == STALLED_PLC}
        subsystems = {e["browse_name"]: e for e in groups["Subsystems"]["children"].values()}
        assert set(rig.handle.station.subsystems) == set(subsystems)
        parts = {e["browse_name"] for e in subsystems["lox_loading"]["children"].values()}
        assert parts == {"State", "Mode", "Fault"}
        assert seen["write"] == "refused"  # read-only: padctl takes no command over OPC UA
        by_node = {change["node"]: change for change in seen["changes"]}
        assert by_node[watched[0]]["status"] == "Good"
        sample = rig.handle.station.plant.read(analog.name)
        assert by_node[watched[0]]["value"] == pytest.approx(float(sample.value), abs=0.5)  # type: ignore[arg-type]
        assert by_node[state]["value"] == rig.handle.station.countdown.state.name

        # A stalled PLC's tags go STALE by age: the SCADA reads UncertainLastUsableValue.
        await rig.handle.injector(f"stall {STALLED_PLC}")  # type: ignore[misc]
        stale = await scada_client(
            rig,
            "--user", USER, "--password", PASSWORD,
            "--watch", watched[1],
            "--until-status", f"{watched[1]}=UncertainLastUsableValue",
            pki=pki,
        )  # fmt: skip
        assert stale["changes"][-1]["status"] == "UncertainLastUsableValue", stale["changes"]
        await rig.handle.injector(f"restore {STALLED_PLC}")  # type: ignore[misc]


async def test_only_a_trusted_client_with_a_padctl_account_gets_in(
    tmp_path: Path, pki: Pki
) -> None:
    async with scada_rig(tmp_path, pki) as rig:
        anonymous = await scada_client(rig, pki=None)
        assert not anonymous["connected"]
        rogue = await scada_client(rig, "--user", USER, "--password", PASSWORD, pki=pki, rogue=True)
        assert not rogue["connected"]
        wrong = await scada_client(rig, "--user", USER, "--password", "guess", pki=pki)
        assert not wrong["connected"]
        nobody = await scada_client(rig, pki=pki)
        assert not nobody["connected"]
        right = await scada_client(rig, "--user", USER, "--password", PASSWORD, pki=pki)
        assert right["connected"]


async def test_a_face_whose_server_ends_is_an_alarm(tmp_path: Path, pki: Pki) -> None:
    async with scada_rig(tmp_path, pki) as rig:
        alarms = rig.handle.station.alarms
        assert not alarms.get(SERVER_ALARM_ID).condition_active
        rig.face.end_server_for_test()

        async def alarmed() -> bool:
            return alarms.get(SERVER_ALARM_ID).condition_active

        await wait_until(alarmed, 10, "the ended OPC UA server is alarmed", poll_s=0.05)


async def test_padctl_serve_with_the_face_serves_a_scada_and_ends_with_the_process(
    tmp_path: Path, pki: Pki
) -> None:
    """`padctl serve --sim --opcua-server ...` as a site starts it: a SCADA of another stack
    logs in with a padctl account from --users and reads the pad; a SIGTERM ends the process
    and its face with it."""
    users_path = tmp_path / "users.yaml"
    users = UsersFile.load(users_path)
    users.add(USER, role=Role.VIEWER, password=PASSWORD)
    users.save()
    server = await asyncio.create_subprocess_exec(
        *[PADCTL, "serve", "--sim", "--port", "0", "--users", str(users_path)],
        *["--opcua-server", "opc.tcp://127.0.0.1:0/padctl", "--opcua-cert", str(pki.server_cert)],
        *["--opcua-key", str(pki.server_key), "--opcua-trusted", str(pki.trusted_clients)],
        *["--log-level", "info", "--log-file", str(tmp_path / "serve.log")],
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        endpoints: list[str] = []

        async def listening() -> bool:
            assert server.returncode is None, "padctl serve ended before its face listened"
            endpoints.extend(_listening_endpoints(tmp_path / "serve.log"))
            return bool(endpoints)

        await wait_until(listening, 90, "padctl serve's OPC UA face listens", poll_s=0.2)
        endpoint = endpoints[0]
        pad = load_pad_definition().pad
        login = ("--user", USER, "--password", PASSWORD)
        browsed = await scada_client_at(endpoint, pad, *login, pki=pki)
        assert browsed["connected"] and browsed["policy"] == BASIC256SHA256
        groups = {entry["browse_name"]: (node, entry) for node, entry in browsed["tree"].items()}
        state = next(
            node
            for node, entry in groups["Countdown"][1]["children"].items()
            if entry["browse_name"] == "State"
        )
        level = next(
            node
            for node, entry in groups["PROP"][1]["children"].items()
            if entry["browse_name"] == "LOX-LT-001"
        )
        seen = await scada_client_at(
            endpoint, pad, *login, "--watch", state, "--watch", level, pki=pki
        )
        by_node = {change["node"]: change for change in seen["changes"]}
        assert by_node[state] == {"node": state, "value": "IDLE", "status": "Good"}
        assert by_node[level]["status"] == "Good" and 0 <= by_node[level]["value"] <= 100
        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), 60) is not None
        port = int(endpoint.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        with pytest.raises(ConnectionRefusedError):  # the face ended with its process
            await asyncio.open_connection("127.0.0.1", port)
    finally:
        if server.returncode is None:
            os.killpg(server.pid, signal.SIGKILL)
            await server.wait()


def _listening_endpoints(log_file: Path) -> list[str]:
    """The face's endpoint, from padctl's own log line saying it listens (JSON lines)."""
    if not log_file.exists():
        return []
    endpoints = []
    for line in log_file.read_text(encoding="utf-8").splitlines():
        if "opcua_face_listening" in line and line.endswith("}"):  # a whole line written
            endpoints.append(json.loads(line)["endpoint"])
    return endpoints


def test_the_face_options_name_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def settings(endpoint: str | None, **given: Any) -> OpcUaFaceSettings | None:
        options: dict[str, Any] = {
            "certificate": None,
            "private_key": None,
            "trusted": None,
            "no_security": False,
        }
        options.update(given)
        return opcua_face_settings_or_exit(
            endpoint, verify_user=lambda _n, _p: False, command="serve", **options
        )

    assert settings(None) is None
    cases = [
        (("http://x:4840",), {}, "must be opc.tcp://HOST:PORT/PATH"),
        (("opc.tcp://x:4840",), {}, "needs --opcua-cert, --opcua-key and --opcua-trusted"),
        ((None,), {"certificate": tmp_path}, "--opcua-cert needs --opcua-server"),
        (
            ("opc.tcp://x:4840",),
            {"certificate": tmp_path / "no.der", "private_key": tmp_path, "trusted": tmp_path},
            "--opcua-cert",
        ),
        (("opc.tcp://x:4840",), {"no_security": True, "trusted": tmp_path}, "choose one"),
    ]
    for args, given, problem in cases:
        with pytest.raises(typer.Exit) as exit_info:
            settings(*args, **given)
        assert exit_info.value.exit_code == 2
        assert problem in capsys.readouterr().err
    open_face = settings("opc.tcp://x:4840", no_security=True)
    assert open_face is not None and open_face.security is None
