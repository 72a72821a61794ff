"""The console WebSocket protocol: snapshot, updates, answers, alarms, the count, two consoles."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from padctl.console import SESSION_COOKIE, ConsoleConfig, ConsoleSettings, create_app
from tests.console_fixtures import (
    PASSWORD,
    RATE,
    ConsoleRig,
    ConsoleSocket,
    console_rig,
    reference_test_flight,
    station_source,
    write_users,
)

pytestmark = pytest.mark.timeout(120)
USERS = ("viewer1", "op_power", "op_prop", "tc", "so")


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleRig]:
    with console_rig(tmp_path_factory.mktemp("console-protocol")) as console:
        yield console


@pytest.fixture(scope="module")
def sockets(rig: ConsoleRig) -> Iterator[dict[str, ConsoleSocket]]:
    with ExitStack() as stack:
        yield {name: stack.enter_context(rig.connect(name)) for name in USERS}


def test_snapshot_carries_the_whole_state(sockets: dict[str, ConsoleSocket]) -> None:
    snapshot = sockets["op_power"].snapshot
    assert snapshot["protocol"] == 1
    assert snapshot["user"]["name"] == "op_power"
    assert snapshot["user"]["positions"] == ["pad_systems"]
    assert snapshot["config"]["permissions"]["count.abort"] == ["safety_officer", "test_conductor"]
    assert "hold_downs.arm_release" in snapshot["config"]["second_person"]
    assert set(snapshot["plcs"]) == {"PROP", "GAS", "MECH", "SAFE", "VEH"}
    pressure = snapshot["tags"]["LOX-PT-101"]
    assert pressure["unit"] == "bar" and pressure["quality"] == "GOOD" and pressure["plc"] == "PROP"
    assert isinstance(pressure["value"], float)
    lox = snapshot["subsystems"]["lox_loading"]
    assert lox["mode"] == "MANUAL" and lox["authority"] is None and lox["stale_tags"] == []
    assert "LOX-PT-101" in lox["tags"]
    drain = next(c for c in lox["commands"] if c["name"] == "start_drain")
    assert drain["hazardous"] is True and drain["second_person"] is True
    count = snapshot["countdown"]
    assert count["state"] == "IDLE" and count["t_text"] == "T-06:00:00"
    assert count["poll"] is None and count["requested_rate"] == RATE
    assert count["next_event"]["t_text"] == "T-06:00:00"
    assert count["recycle_points"][0]["id"] == "RP-1"
    # T-0 is projected with the built-in holds still ahead (BIH-1 and BIH-2 from T-6 h)
    _definition, sequence, _lcc = reference_test_flight()
    assert count["window"]["holds_ahead_s"] == sequence.planned_hold_s(count["t_s"]) > 0
    assert {"GROUND_POWER-FAULT", "LOX_LOADING-FAULT"} <= {a["id"] for a in snapshot["alarms"]}
    assert any(row["kind"] == "console_login" for row in snapshot["journal"])
    json.dumps(snapshot, allow_nan=False)  # strict JSON: a browser parses it


def test_updates_come_every_period_with_the_clock(sockets: dict[str, ConsoleSocket]) -> None:
    viewer = sockets["viewer1"]
    first = viewer.wait_update(lambda u: True)
    second = viewer.wait_update(lambda u: True)
    assert second["seq"] == first["seq"] + 1
    assert 0 < second["server_time"] - first["server_time"] < 1.0
    assert {"at", "t_s", "l_s", "t_running", "state"} <= set(second["countdown"])


def test_bad_requests_are_refused_with_reasons(sockets: dict[str, ConsoleSocket]) -> None:
    tc = sockets["tc"]
    # Messages that are not requests at all are named for what they are (a console finding:
    # text that is not JSON and a 10 MB message were both refused for their request_id, and
    # JSON nested 8,000 deep dropped the socket with no answer and no close frame).
    tc.session.send_text("not json")
    answer = tc.answer("None")
    assert answer["code"] == "bad_request" and answer["reason"].startswith("not JSON: "), answer
    tc.session.send_text("[" * 8000 + "]" * 8000)
    deep = tc.answer("None")
    assert deep["code"] == "bad_request" and "nested too deep" in deep["reason"], deep
    tc.session.send_text(json.dumps({"type": "command", "pad": "x" * 10_000_000}))
    huge = tc.answer("None")
    assert huge["code"] == "bad_request" and "over the limit of" in huge["reason"], huge
    assert tc.command("ping")["type"] == "accepted"  # the socket lives on
    tc.session.send_json({"type": "command", "request_id": "x1", "command": "count.launch"})
    unknown = tc.answer("x1")
    assert unknown["code"] == "bad_request" and "count.launch" in unknown["reason"]
    missing = tc.command("count.recycle")
    assert missing["code"] == "bad_request" and "'point'" in missing["reason"]
    wrong = tc.command("alarm.shelve", alarm_id="GROUND_POWER-FAULT", duration_s=-5, note="x")
    assert wrong["code"] == "bad_request" and "duration_s" in wrong["reason"]
    nameless = sockets["op_power"].command("subsystem.command", subsystem="rocket", name="go")
    assert nameless["code"] == "bad_request" and "no subsystem 'rocket'" in nameless["reason"]


def test_two_consoles_see_the_same_update(sockets: dict[str, ConsoleSocket]) -> None:
    op, tc, viewer = sockets["op_prop"], sockets["tc"], sockets["viewer1"]
    assert op.command("authority.take", subsystem="lox_loading")["type"] == "accepted"

    def shows_holder(update: dict[str, Any]) -> bool:
        return update.get("subsystems", {}).get("lox_loading", {}).get("authority") == "op_prop"

    seen_by_tc = tc.wait_update(shows_holder)
    seen_by_viewer = viewer.wait_update(shows_holder)
    assert seen_by_tc["seq"] == seen_by_viewer["seq"]
    assert seen_by_tc["subsystems"] == seen_by_viewer["subsystems"]
    assert op.command("authority.release", subsystem="lox_loading")["type"] == "accepted"


def test_acknowledge_and_shelve_are_journaled_with_who_and_note(
    rig: ConsoleRig, sockets: dict[str, ConsoleSocket]
) -> None:
    op, so, viewer = sockets["op_power"], sockets["so"], sockets["viewer1"]
    alarm_id = "GROUND_POWER-UNCOMMANDED"
    console = rig.client.app.state.console  # type: ignore[attr-defined]
    # Raised the way a subsystem raises it (an event alarm with a detail).
    rig.client.portal.call(  # type: ignore[union-attr]
        _raise_alarm, console, alarm_id, "PWR-CB-841 opened without a command"
    )
    raised = viewer.wait_update(
        lambda u: any(a["id"] == alarm_id and a["state"] == "UNACK" for a in u.get("alarms", []))
    )
    alarm = next(a for a in raised["alarms"] if a["id"] == alarm_id)
    assert alarm["priority"] == "HIGH" and "without a command" in alarm["detail"]
    refused = viewer.command("alarm.acknowledge", alarm_id=alarm_id)
    assert refused["code"] == "forbidden"
    acked = op.command("alarm.acknowledge", alarm_id=alarm_id, note="breaker checked")
    assert acked["type"] == "accepted", acked
    viewer.wait_update(
        lambda u: any(a["id"] == alarm_id and a["state"] == "ACKED" for a in u.get("alarms", []))
    )
    no_note = so.command("alarm.shelve", alarm_id=alarm_id, duration_s=300, note=" ")
    assert no_note["code"] == "bad_request" and "'note'" in no_note["reason"]
    shelved = so.command("alarm.shelve", alarm_id=alarm_id, duration_s=300, note="breaker work")
    assert shelved["type"] == "accepted", shelved
    update = viewer.wait_update(
        lambda u: any(a["id"] == alarm_id and a["state"] == "SHELVED" for a in u.get("alarms", []))
    )
    entry = next(a for a in update["alarms"] if a["id"] == alarm_id)
    assert entry["shelved_until"] - entry["since"] == pytest.approx(300, abs=1)
    rows = rig.journal(["alarm_acknowledged", "alarm_shelved"], viewer)
    ack = next(r for r in rows if r["kind"] == "alarm_acknowledged")
    shelve = next(r for r in rows if r["kind"] == "alarm_shelved")
    assert ack["actor"] == "op_power" and ack["payload"]["note"] == "breaker checked"
    assert shelve["actor"] == "so" and shelve["payload"]["note"] == "breaker work"
    assert shelve["payload"]["duration_s"] == 300
    found = viewer.command("journal.query", text="breaker work", limit=10)["result"]["rows"]
    assert [r["kind"] for r in found if r["kind"].startswith("alarm")] == ["alarm_shelved"]


async def _raise_alarm(console: Any, alarm_id: str, detail: str) -> None:
    console.station.alarms.set_condition(alarm_id, True, detail=detail)


def test_the_count_hold_poll_and_a_two_person_scrub(sockets: dict[str, ConsoleSocket]) -> None:
    tc, so, op, prop = sockets["tc"], sockets["so"], sockets["op_power"], sockets["op_prop"]
    assert tc.command("count.start")["type"] == "accepted"
    counting = tc.wait_update(lambda u: u["countdown"]["state"] == "COUNTING")
    first_update = len(tc.updates) - 1
    later = tc.wait_update(lambda u: u["countdown"]["at"] > counting["countdown"]["at"] + 0.2)
    # the journal's rows reach the console a little after they are written
    tc.wait_update(lambda u: u["countdown"]["at"] > later["countdown"]["at"] + 0.5)
    # T runs at `rate` clock seconds per wall second between the stamps `at`: the rate in
    # effect, which the pace may lower on a busy machine, for as short a time as a timing
    # window is open, and says so in the journal (`rate_in_effect`) and in each update.
    dt_wall = later["countdown"]["at"] - counting["countdown"]["at"]
    dt_count = later["countdown"]["t_s"] - counting["countdown"]["t_s"]
    seen = tc.updates[first_update:]
    rates = [u["countdown"]["rate"] for u in seen] + [
        row["payload"]["rate"]
        for u in seen
        for row in u.get("journal", [])
        if row["kind"] == "rate_in_effect"
    ]
    assert all(0 < rate <= RATE for rate in rates), rates
    assert min(rates) * dt_wall * 0.8 - 0.3 <= dt_count <= max(rates) * dt_wall * 1.2 + 0.3
    held = tc.command("count.hold", reason="range safety check")
    assert held["type"] == "accepted", held
    holding = op.wait_update(lambda u: u["countdown"]["state"] == "HOLDING")
    count = holding["countdown"]
    assert count["t_running"] is False and "range safety check" in count["hold_reason"]
    assert count["poll"]["answers"] == dict.fromkeys(count["poll"]["positions"])
    assert op.command("count.poll", position="propellants", go=True)["code"] == "forbidden"
    assert op.command("count.poll", position="pad_systems", go=True)["type"] == "accepted"
    assert prop.command("count.poll", position="propellants", go=False)["type"] == "accepted"
    board = tc.wait_update(
        lambda u: (u["countdown"]["poll"] or {}).get("answers", {}).get("propellants") is False
    )
    assert board["countdown"]["poll"]["answers"]["pad_systems"] is True
    resume = tc.command("count.resume")
    assert resume["code"] == "countdown", resume
    assert "propellants" in resume["reason"] and "test_conductor" in resume["reason"]
    armed = tc.command("count.scrub", reason="weather")
    assert armed["type"] == "armed" and armed["second_person"] is True
    own = tc.command("arm.confirm", arm_id=armed["arm_id"])
    assert own["code"] == "arm" and "second person" in own["reason"]
    confirmed = so.command("arm.confirm", arm_id=armed["arm_id"])
    assert confirmed["type"] == "accepted", confirmed
    assert confirmed["command"] == "count.scrub"
    scrubbed = tc.wait_update(lambda u: u["countdown"]["state"] in ("SCRUBBED", "SECURED"))
    assert "weather" in scrubbed["countdown"]["hold_reason"]


# ---- through real uvicorn, on an ephemeral port ---------------------------------------------
async def _serve(tmp_path: Path) -> tuple[uvicorn.Server, asyncio.Task[None], int, socket.socket]:
    ready = asyncio.Event()
    config = ConsoleConfig(
        users=write_users(tmp_path / "users.yaml"),
        settings=ConsoleSettings(update_period_wall_s=0.05, simulated=True),
    )
    app = create_app(config, station_source(tmp_path), on_ready=ready.set)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_level="warning", ws="websockets-sansio")
    )
    task = asyncio.create_task(server.serve(sockets=[listener]))
    await asyncio.wait_for(ready.wait(), 60)
    while not server.started:  # noqa: ASYNC110 (uvicorn has no event for it)
        await asyncio.sleep(0.01)
    return server, task, port, listener


async def _login(port: int, name: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        response = await client.post("/api/login", json={"username": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.cookies[SESSION_COOKIE]


async def _next(
    ws: Any, predicate: Any, timeout_s: float = 15.0, seen: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The first message (among `seen` ones first, then new ones) for which `predicate` holds."""
    for message in seen or []:
        if predicate(message):
            return message

    async def find() -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if seen is not None:
                seen.append(message)
            if predicate(message):
                return message

    return await asyncio.wait_for(find(), timeout_s)


async def test_real_server_two_browsers_share_updates(tmp_path: Path) -> None:
    server, task, port, listener = await _serve(tmp_path)
    try:
        url = f"ws://127.0.0.1:{port}/ws"
        tc_cookie = await _login(port, "tc")
        op_cookie = await _login(port, "op_prop")
        async with (
            websockets.connect(
                url, additional_headers={"Cookie": f"{SESSION_COOKIE}={tc_cookie}"}
            ) as tc,
            websockets.connect(
                url, additional_headers={"Cookie": f"{SESSION_COOKIE}={op_cookie}"}
            ) as op,
        ):
            assert json.loads(await tc.recv())["type"] == "snapshot"
            assert json.loads(await op.recv())["type"] == "snapshot"
            await op.send(
                json.dumps(
                    {
                        "type": "command",
                        "request_id": "t1",
                        "command": "authority.take",
                        "args": {"subsystem": "kerosene_loading"},
                    }
                )
            )
            op_seen: list[dict[str, Any]] = []
            answer = await _next(op, lambda m: m.get("request_id") == "t1", seen=op_seen)
            assert answer["type"] == "accepted"

            def holder(m: dict[str, Any]) -> bool:
                return (
                    m.get("subsystems", {}).get("kerosene_loading", {}).get("authority")
                    == "op_prop"
                )

            seen_tc = await _next(tc, holder)
            seen_op = await _next(op, holder, seen=op_seen)
            assert seen_tc["seq"] == seen_op["seq"]
            await tc.send(json.dumps({"type": "command", "request_id": "p1", "command": "ping"}))
            pong = await _next(tc, lambda m: m.get("request_id") == "p1")
            assert pong["type"] == "accepted" and pong["result"]["server_time"] > 0
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        listener.close()


async def test_real_server_refuses_a_socket_without_a_session(tmp_path: Path) -> None:
    server, task, port, listener = await _serve(tmp_path)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = (await client.get("/api/health")).json()
            assert health["ok"] is True and health["simulated"] is True
            assert (await client.get("/api/session")).status_code == 401
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            error = json.loads(await ws.recv())
            assert error == {"type": "error", "code": "unauthenticated", "reason": error["reason"]}
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        listener.close()
