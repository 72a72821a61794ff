"""Console users, logins, sessions and the `padctl users` / `padctl serve` commands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from padctl.cli import app
from padctl.console import SESSION_COOKIE, Role, UsersError, UsersFile
from tests.console_fixtures import (
    PASSWORD,
    TEST_HASHER,
    ConsoleRig,
    WebSocketDenialResponse,
    console_rig,
    write_users,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleRig]:
    with console_rig(tmp_path_factory.mktemp("console-auth")) as console:
        yield console


def test_login_sets_a_session_cookie_and_is_journaled(rig: ConsoleRig) -> None:
    response = rig.client.post("/api/login", json={"username": "tc", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["user"] == {
        "name": "tc",
        "role": "test_conductor",
        "subsystems": [],
        "positions": ["test_conductor"],
    }
    cookie = response.headers["set-cookie"].lower()
    assert SESSION_COOKIE in cookie and "httponly" in cookie and "samesite=strict" in cookie
    session = rig.client.get("/api/session")
    assert session.status_code == 200 and session.json()["user"]["name"] == "tc"
    rig.client.cookies.clear()
    assert rig.client.get("/api/session").status_code == 401
    with rig.connect("viewer1") as viewer:
        rows = rig.journal(["console_login"], viewer)
        assert {"tc", "viewer1"} <= {row["actor"] for row in rows}


def test_wrong_password_and_unknown_user_get_the_same_answer(rig: ConsoleRig) -> None:
    wrong = rig.client.post("/api/login", json={"username": "tc", "password": "guess1234"})
    nobody = rig.client.post("/api/login", json={"username": "zed", "password": "guess1234"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json() == {"error": "wrong user name or password"}
    assert SESSION_COOKIE not in wrong.cookies
    malformed = rig.client.post("/api/login", content=b"{not json")
    assert malformed.status_code == 400
    with rig.connect("viewer1") as viewer:
        failed = rig.journal(["console_login_failed"], viewer)
        assert {row["payload"]["username"] for row in failed} >= {"tc", "zed"}
        assert all(row["actor"] == "console" for row in failed)


def test_a_socket_without_a_session_is_refused(rig: ConsoleRig) -> None:
    with rig.client.websocket_connect("/ws") as ws:
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == "unauthenticated"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
    with rig.client.websocket_connect("/ws", headers={"cookie": f"{SESSION_COOKIE}=forged"}) as ws:
        assert ws.receive_json()["code"] == "unauthenticated"


def test_a_socket_from_another_origin_is_refused(rig: ConsoleRig) -> None:
    token = rig.login("tc")
    headers = {"cookie": f"{SESSION_COOKIE}={token}", "origin": "http://evil.example"}
    with rig.client.websocket_connect("/ws", headers=headers) as ws:
        assert ws.receive_json()["code"] == "forbidden"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403


def test_logout_closes_the_sockets_and_ends_authority(rig: ConsoleRig) -> None:
    token = rig.login("op_power")
    with rig.connect("viewer1") as viewer, rig.connect("op_power", token) as op:
        assert op.command("authority.take", subsystem="water_deluge")["type"] == "accepted"
        viewer.wait_update(
            lambda u: u.get("subsystems", {}).get("water_deluge", {}).get("authority") == "op_power"
        )
        response = rig.client.post("/api/logout", headers={"cookie": f"{SESSION_COOKIE}={token}"})
        assert response.status_code == 204
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                message = op.receive()
                if message["type"] == "session_expired":
                    assert message["reason"] == "logged out"
        assert closed.value.code == 4401
        viewer.wait_update(
            lambda u: (
                "water_deluge" in u.get("subsystems", {})
                and u["subsystems"]["water_deluge"]["authority"] is None
            )
        )
        kinds = [
            row["kind"] for row in rig.journal(["console_logout", "authority_released"], viewer)
        ]
        assert "console_logout" in kinds and "authority_released" in kinds
    response = rig.client.get("/api/session", headers={"cookie": f"{SESSION_COOKIE}={token}"})
    assert response.status_code == 401


def test_sessions_expire(rig: ConsoleRig) -> None:
    token = rig.login("so")
    with rig.connect("so", token) as so:
        assert so.command("ping")["type"] == "accepted"
        rig.wall.advance(3600.0 + 1.0)  # past the session lifetime of the rig
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                message = so.receive()
                if message["type"] == "session_expired":
                    assert "log in again" in message["reason"]
        assert closed.value.code == 4401
    assert (
        rig.client.get("/api/session", headers={"cookie": f"{SESSION_COOKIE}={token}"}).status_code
        == 401
    )
    with rig.connect("viewer1") as viewer:  # a new login works as before
        rows = rig.journal(["console_session_expired"], viewer)
        assert any(row["actor"] == "so" for row in rows)


def test_a_user_removed_from_the_file_is_logged_out(rig: ConsoleRig) -> None:
    with rig.connect("op_prop") as op:
        assert op.command("ping")["type"] == "accepted"
        users = UsersFile.load(rig.folder / "users.yaml", hasher=TEST_HASHER)
        users.remove("op_prop")
        users.save()
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                message = op.receive()
                if message["type"] == "session_expired":
                    assert "removed or changed" in message["reason"]
        assert closed.value.code == 4401
    refused = rig.client.post("/api/login", json={"username": "op_prop", "password": PASSWORD})
    assert refused.status_code == 401


def test_inject_over_http_is_for_admin_only(rig: ConsoleRig) -> None:
    tc = rig.login("tc")
    refused = rig.client.post(
        "/api/inject", json={"fault": "clear"}, headers={"cookie": f"{SESSION_COOKIE}={tc}"}
    )
    assert refused.status_code == 403 and "admin" in refused.json()["error"]
    admin = {"cookie": f"{SESSION_COOKIE}={rig.login('admin1')}"}
    bad = rig.client.post("/api/inject", json={"fault": "explode LOX"}, headers=admin)
    assert bad.status_code == 400 and "unknown fault" in bad.json()["error"]
    done = rig.client.post("/api/inject", json={"fault": "LOX-PT-101 bias 0.5"}, headers=admin)
    assert done.status_code == 200 and done.json()["fault"] == "bias LOX-PT-101 0.5"
    cleared = rig.client.post("/api/inject", json={"fault": "clear"}, headers=admin)
    assert cleared.status_code == 200


def test_repeated_failures_are_throttled(tmp_path: Path) -> None:
    """A console of its own: failed logins of other tests (on the module's console, in
    whatever order the workers ran them) count towards the same address's lockout."""
    with console_rig(tmp_path) as rig:
        _five_failures_lock_then_the_lock_expires(rig)


def _five_failures_lock_then_the_lock_expires(rig: ConsoleRig) -> None:
    for _ in range(5):
        answer = rig.client.post("/api/login", json={"username": "admin1", "password": "nope-nope"})
        assert answer.status_code == 401
    locked = rig.client.post("/api/login", json={"username": "admin1", "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["retry_after_s"] > 0
    rig.wall.advance(61.0)
    assert (
        rig.client.post("/api/login", json={"username": "admin1", "password": PASSWORD}).status_code
        == 200
    )
    with rig.connect("viewer1") as viewer:
        assert rig.journal(["console_login_throttled"], viewer)


# ---- the users file and the commands -------------------------------------------------------
def test_users_file_keeps_only_argon2_hashes(tmp_path: Path) -> None:
    users = UsersFile(path=tmp_path / "users.yaml", hasher=TEST_HASHER)
    users.add(
        "carol", role=Role.SUBSYSTEM_OPERATOR, password="s3cret-pass", subsystems=("lox_loading",)
    )
    users.save()
    text = (tmp_path / "users.yaml").read_text()
    assert "s3cret-pass" not in text and "$argon2id$" in text
    assert (tmp_path / "users.yaml").stat().st_mode & 0o077 == 0
    loaded = UsersFile.load(tmp_path / "users.yaml")
    carol = loaded.verify("carol", "s3cret-pass")
    assert carol is not None and carol.positions == ("propellants",)
    assert loaded.verify("carol", "wrong-pass") is None
    with pytest.raises(UsersError, match="needs --subsystems"):
        users.add("dave", role=Role.SUBSYSTEM_OPERATOR, password="long-enough")
    with pytest.raises(UsersError, match="at least 8"):
        users.add("dave", role=Role.VIEWER, password="short")
    (tmp_path / "bad.yaml").write_text(
        yaml.safe_dump({"users": {"eve": {"role": "pilot", "password": "x"}}})
    )
    with pytest.raises(UsersError, match=r"bad\.yaml: user eve: role 'pilot'"):
        UsersFile.load(tmp_path / "bad.yaml")


def test_serve_refuses_a_non_loopback_bind_without_users() -> None:
    result = CliRunner().invoke(app, ["serve", "--sim", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "needs --users FILE" in result.output
    real = CliRunner().invoke(app, ["serve"])
    assert real.exit_code == 2 and "needs --users FILE" in real.output


def test_a_request_naming_another_host_is_refused(rig: ConsoleRig) -> None:
    """DNS rebinding: a page from another site whose name now points at this server sends
    its own name in Host. Neither the login, the API, the pages nor the WebSocket answer it."""
    evil = {"host": "padctl.attacker.example"}
    login = rig.client.post(
        "/api/login", json={"username": "tc", "password": PASSWORD}, headers=evil
    )
    assert login.status_code == 400 and "cookie" not in {k.lower() for k in login.headers}
    assert rig.client.get("/api/health", headers=evil).status_code == 400
    assert rig.client.get("/", headers=evil).status_code == 400
    token = rig.login("tc")
    with pytest.raises(WebSocketDenialResponse) as denied:
        with rig.client.websocket_connect(
            "/ws", headers={**evil, "cookie": f"{SESSION_COOKIE}={token}"}
        ) as socket:
            socket.receive_json()
    assert denied.value.status_code == 400
    assert rig.client.get("/api/health").status_code == 200  # its own name still works


def test_every_response_forbids_framing_sniffing_and_foreign_scripts(rig: ConsoleRig) -> None:
    for path in ("/", "/login.html", "/api/health", "/js/main.js"):
        response = rig.client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path


def test_serve_on_every_address_needs_the_names_it_is_reached_by(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    write_users(users)
    result = CliRunner().invoke(app, ["serve", "--sim", "--host", "0.0.0.0", "--users", str(users)])
    assert result.exit_code == 2 and "needs --allowed-host NAME" in result.output


def test_logins_with_huge_names_cannot_flood_the_journal(rig: ConsoleRig) -> None:
    """A console finding: throttled logins were journaled with user names of any length (200
    requests with 100 KB names added 28.5 MB). A name longer than any user's is refused before
    it is counted or kept, and a body over the limit is not read."""
    huge = "x" * 100_000
    for _ in range(20):
        answer = rig.client.post("/api/login", json={"username": huge, "password": "nope-nope"})
        assert answer.status_code == 400
    long_name = "a" * 33
    answer = rig.client.post("/api/login", json={"username": long_name, "password": "nope-nope"})
    assert answer.status_code == 400 and "at most 32 characters" in answer.json()["error"]
    with rig.connect("viewer1") as viewer:
        kinds = ["console_login_failed", "console_login_throttled"]
        kept = [
            row
            for row in rig.journal(kinds, viewer)
            if row["payload"]["username"] in (huge, long_name)
        ]
    assert kept == []
