"""Alarm handling rules over the WebSocket (ISA-18.2): who may shelve what and for how long,
out of service with a note, the moments of an alarm in wall time and T-time; the journal
view's severities, folded session rows and pages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.console_fixtures import RATE, ConsoleRig, ConsoleSocket, console_rig

pytestmark = pytest.mark.timeout(120)
USERS = ("viewer1", "op_power", "op_power2", "tc", "so", "admin1")
MAX_SHELVE_S = 2 * 3600.0  # the reference pad's (the default of alarms.max_shelve_s)


Desk = tuple[ConsoleRig, dict[str, ConsoleSocket]]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The console and one socket per user, for the whole module."""
    folder = tmp_path_factory.mktemp("console-alarm-rules")
    with console_rig(folder) as rig, rig.connect_all(USERS) as sockets:
        yield rig, sockets


async def _set_condition(console: Any, alarm_id: str, active: bool, detail: str) -> None:
    console.station.alarms.set_condition(alarm_id, active, detail=detail)


def _raise(rig: ConsoleRig, alarm_id: str, detail: str = "raised by the test") -> None:
    console = rig.client.app.state.console  # type: ignore[attr-defined]
    rig.client.portal.call(_set_condition, console, alarm_id, True, detail)  # type: ignore[union-attr]


def _alarm(socket: ConsoleSocket, alarm_id: str, state: str) -> dict[str, Any]:
    """The alarm as the next update that shows it in `state` carries it."""
    update = socket.wait_update(
        lambda u: any(a["id"] == alarm_id and a["state"] == state for a in u.get("alarms", []))
    )
    return next(a for a in update["alarms"] if a["id"] == alarm_id)


def _state_of(rig: ConsoleRig, alarm_id: str) -> str:
    console = rig.client.app.state.console  # type: ignore[attr-defined]
    return str(console.station.alarms.get(alarm_id).state.value)


def test_shelving_is_for_active_alarms_of_ones_own_subsystems_within_the_pads_limit(
    desk: Desk,
) -> None:
    rig, sockets = desk
    op, op2, tc, so = sockets["op_power"], sockets["op_power2"], sockets["tc"], sockets["so"]
    assert op.command("authority.take", subsystem="ground_power")["type"] == "accepted"
    assert so.command("ping")["type"] == "accepted"
    config = rig.client.app.state.console.station.definition.alarms  # type: ignore[attr-defined]
    assert config.max_shelve_s == MAX_SHELVE_S
    _raise(rig, "GROUND_POWER-UNCOMMANDED")
    _raise(rig, "WATER_DELUGE-FAULT")
    _alarm(tc, "WATER_DELUGE-FAULT", "UNACK")
    shelve = {"duration_s": 600, "note": "breaker work"}

    refusals = [
        (tc, "GROUND_POWER-UNCOMMANDED", shelve, "forbidden", "test_conductor"),
        (op2, "GROUND_POWER-UNCOMMANDED", shelve, "no_authority", "held by op_power"),
        (op, "WATER_DELUGE-FAULT", shelve, "no_authority", "authority over water_deluge"),
        (op, "GROUND_POWER-FAULT", shelve, "alarm", "it is NORMAL"),
        (op, "NO-SUCH-ALARM", shelve, "alarm", "no alarm 'NO-SUCH-ALARM'"),
        (
            op,
            "GROUND_POWER-UNCOMMANDED",
            {"duration_s": MAX_SHELVE_S + 1, "note": "long job"},
            "bad_request",
            "alarms.max_shelve_s",
        ),
    ]
    for socket, alarm_id, args, code, words in refusals:
        answer = socket.command("alarm.shelve", alarm_id=alarm_id, **args)
        assert (answer["type"], answer.get("code")) == ("refused", code), (alarm_id, answer)
        assert words in answer["reason"], answer
    # Refused, and nothing changed.
    assert _state_of(rig, "GROUND_POWER-UNCOMMANDED") == "UNACK"
    assert _state_of(rig, "GROUND_POWER-FAULT") == "NORMAL"
    assert _state_of(rig, "WATER_DELUGE-FAULT") == "UNACK"

    # The holder may shelve its subsystem's active alarm, up to the pad's limit ...
    accepted = op.command(
        "alarm.shelve", alarm_id="GROUND_POWER-UNCOMMANDED", duration_s=MAX_SHELVE_S, note="x"
    )
    assert accepted["type"] == "accepted", accepted
    shelved = _alarm(tc, "GROUND_POWER-UNCOMMANDED", "SHELVED")
    assert shelved["shelved_until"] - shelved["since"] == pytest.approx(MAX_SHELVE_S, abs=1)
    # ... and a safety officer any active alarm, held by someone or not.
    assert so.command("alarm.shelve", alarm_id="WATER_DELUGE-FAULT", **shelve)["type"] == (
        "accepted"
    )
    _alarm(tc, "WATER_DELUGE-FAULT", "SHELVED")
    for alarm_id in ("GROUND_POWER-UNCOMMANDED", "WATER_DELUGE-FAULT"):
        assert so.command("alarm.unshelve", alarm_id=alarm_id)["type"] == "accepted"
    assert op.command("authority.release", subsystem="ground_power")["type"] == "accepted"


def test_an_admin_takes_an_alarm_out_of_service_and_back_with_a_note(desk: Desk) -> None:
    rig, sockets = desk
    admin, so, viewer = sockets["admin1"], sockets["so"], sockets["viewer1"]
    alarm_id = "HOLD_DOWNS-FAULT"
    assert so.command("alarm.out_of_service", alarm_id=alarm_id, note="x")["code"] == "forbidden"
    no_note = admin.command("alarm.out_of_service", alarm_id=alarm_id, note="  ")
    assert no_note["code"] == "bad_request" and "'note'" in no_note["reason"]
    unknown = admin.command("alarm.out_of_service", alarm_id="NOPE", note="sensor swap")
    assert unknown["code"] == "alarm" and "no alarm 'NOPE'" in unknown["reason"]
    assert _state_of(rig, alarm_id) == "NORMAL"

    out = admin.command("alarm.out_of_service", alarm_id=alarm_id, note="limit switch swap")
    assert out["type"] == "accepted", out
    shown = _alarm(viewer, alarm_id, "OUT_OF_SERVICE")
    assert (shown["out_of_service_by"], shown["out_of_service_note"]) == (
        "admin1",
        "limit switch swap",
    )
    _raise(rig, alarm_id, "a fault while out of service")  # remembered, not annunciated
    back_no_note = admin.command("alarm.in_service", alarm_id=alarm_id)
    assert back_no_note["code"] == "bad_request"
    back = admin.command("alarm.in_service", alarm_id=alarm_id, note="switch replaced")
    assert back["type"] == "accepted", back
    again = _alarm(viewer, alarm_id, "UNACK")  # its condition is still active
    assert (again["out_of_service_by"], again["out_of_service_note"]) == ("", "")

    rows = rig.journal(["alarm_out_of_service", "alarm_in_service", "console_accepted"], viewer)
    out_row = next(r for r in rows if r["kind"] == "alarm_out_of_service")
    in_row = next(r for r in rows if r["kind"] == "alarm_in_service")
    assert (out_row["actor"], out_row["payload"]["note"]) == ("admin1", "limit switch swap")
    assert (in_row["actor"], in_row["payload"]["note"]) == ("admin1", "switch replaced")
    commands = [r["payload"]["command"] for r in rows if r["kind"] == "console_accepted"]
    assert {"alarm.out_of_service", "alarm.in_service"} <= set(commands)
    assert out_row["severity"] == "warning"


def test_the_journal_pages_filters_by_severity_and_folds_a_users_logins(desk: Desk) -> None:
    """Each test of this module stands alone (they may run in any order, or apart)."""
    rig, sockets = desk
    viewer, op = sockets["viewer1"], sockets["op_power"]

    def authority_taken_and_released() -> None:  # a row that marks a place in the journal
        for command in ("authority.take", "authority.release"):
            assert op.command(command, subsystem="water_deluge")["type"] == "accepted"

    assert viewer.command("count.hold", reason="not mine")["code"] == "forbidden"  # a warning
    authority_taken_and_released()
    for _ in range(4):
        rig.login("op_power2")
    rig.login("tc")
    rig.login("op_power2")
    authority_taken_and_released()
    _raise(rig, "CABLE_MAST-UNCOMMANDED")  # HIGH: critical
    _alarm(viewer, "CABLE_MAST-UNCOMMANDED", "UNACK")
    bad = viewer.command("journal.query", severities=["loud"])
    assert bad["code"] == "bad_request" and "severities" in bad["reason"]

    raw = viewer.command("journal.query", kinds=["console_login"], limit=500)["result"]["rows"]
    assert [r["actor"] for r in raw[:6]] == ["op_power2", "tc", *["op_power2"] * 4]
    folded = viewer.command("journal.query", kinds=["console_login"], fold_sessions=True)
    lines = folded["result"]["rows"]
    # Logins only: one run, one line per user, newest first (each also logged in once when
    # the module's sockets connected).
    assert [line["actor"] for line in lines[:2]] == ["op_power2", "tc"]
    assert (lines[0]["folded"], lines[1]["folded"]) == ({"console_login": 6}, {"console_login": 2})
    assert len(lines) == len(USERS)
    assert lines[0]["first_id"] < lines[1]["id"] < lines[0]["id"]

    # Pages never split a folded run: a page of 2 lines (the newer authority row, op_power2's
    # logins) grows to keep the run whole (tc's login is in it); the next page starts below
    # it, at the older authority row.
    kinds = ["console_login", "authority_taken"]
    first = viewer.command("journal.query", kinds=kinds, fold_sessions=True, limit=2)
    page = first["result"]
    assert [(r["kind"], r["actor"]) for r in page["rows"]] == [
        ("authority_taken", "op_power"),
        ("console_login", "op_power2"),
        ("console_login", "tc"),
    ], page
    assert page["rows"][1]["folded"] == {"console_login": 5} and page["more"]
    second = viewer.command(
        "journal.query", kinds=kinds, fold_sessions=True, limit=2, before_id=page["next_before_id"]
    )["result"]
    assert (second["rows"][0]["kind"], second["rows"][0]["actor"]) == (
        "authority_taken",
        "op_power",
    )
    assert second["rows"][0]["id"] < page["next_before_id"] <= page["rows"][2]["id"]

    warnings = viewer.command("journal.query", severities=["warning", "critical"], limit=500)
    kinds = {r["kind"] for r in warnings["result"]["rows"]}
    assert {"console_refused", "alarm_activated"} <= kinds
    assert "console_login" not in kinds and "console_accepted" not in kinds
    assert {r["severity"] for r in warnings["result"]["rows"]} <= {"warning", "critical"}
    critical = viewer.command("journal.query", severities=["critical"], limit=500)
    rows = critical["result"]["rows"]
    assert rows and {r["severity"] for r in rows} == {"critical"}
    raised = [r["payload"]["alarm"] for r in rows if r["kind"] == "alarm_activated"]
    assert "CABLE_MAST-UNCOMMANDED" in raised  # a HIGH alarm raised is critical


def test_alarm_moments_read_in_wall_time_and_t_time_at_any_rate(desk: Desk) -> None:
    """At rate 10 the pad clock runs ahead of the wall: the occurrence and acknowledgement
    carry the real wall time and the count's T at that moment (here the count runs)."""
    rig, sockets = desk
    tc, so = sockets["tc"], sockets["so"]
    assert tc.command("count.start")["type"] == "accepted"
    counting = tc.wait_update(lambda u: u["countdown"]["t_running"])
    alarm_id = "ERECTOR-FAULT"
    t_before_s = counting["countdown"]["t_s"]
    wall_before_s = time.time()
    _raise(rig, alarm_id)
    raised = _alarm(tc, alarm_id, "UNACK")
    assert wall_before_s - 0.5 <= raised["occurred_wall"] <= time.time() + 0.5
    assert raised["occurred_t_s"] >= t_before_s
    assert raised["occurred_t_text"].startswith("T-")
    later = tc.wait_update(lambda u: u["countdown"]["t_s"] > raised["occurred_t_s"] + 2 * RATE)
    acked = so.command("alarm.acknowledge", alarm_id=alarm_id)
    assert acked["type"] == "accepted", acked
    entry = _alarm(tc, alarm_id, "ACKED")
    t_apart_s = entry["acknowledged_t_s"] - entry["occurred_t_s"]
    wall_apart_s = entry["acknowledged_wall"] - entry["occurred_wall"]
    assert t_apart_s >= later["countdown"]["t_s"] - raised["occurred_t_s"]
    # T ran at the rate in effect: at most the requested RATE, at least real time (the rate
    # governor lowers it while the loop lags, never below 1 for a count asked to run faster).
    assert wall_apart_s - 0.05 <= t_apart_s <= wall_apart_s * RATE * 1.1 + 0.05
    assert entry["acknowledged"] - entry["occurred"] == pytest.approx(t_apart_s, abs=0.01)
    assert entry["acknowledged_by"] == "so"
    # Journal rows carry the count's T at their time as well.
    rows = [r for r in rig.journal(["alarm_acknowledged"], tc) if r["payload"]["alarm"] == alarm_id]
    assert rows[0]["t_s"] == pytest.approx(entry["acknowledged_t_s"], abs=1.0)
    assert rows[0]["t_text"].startswith("T-")
