"""Roles, per-subsystem authority, arm/confirm and the second-person rule, over the WebSocket."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.console_fixtures import ConsoleRig, ConsoleSocket, console_rig

pytestmark = pytest.mark.timeout(120)

ARM_TIMEOUT_WALL_S = 10.0
ROLES = ("viewer1", "op_power", "op_power2", "tc", "so", "admin1")
CREW = ("op_power", "op_power2", "tc", "so")
F = "forbidden"


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleRig]:
    folder: Path = tmp_path_factory.mktemp("console-authority")
    with console_rig(folder, arm_timeout_wall_s=ARM_TIMEOUT_WALL_S) as console:
        yield console


@pytest.fixture(scope="module")
def sockets(rig: ConsoleRig) -> Iterator[dict[str, ConsoleSocket]]:
    with ExitStack() as stack:
        yield {name: stack.enter_context(rig.connect(name)) for name in ROLES}


def expect(default: str, **by_user: str) -> dict[str, str]:
    return {name: by_user.get(name, default) for name in ROLES}


# (command, args, expected answer per user): "accepted", "armed", or a refusal code.
# op_power holds authority over ground_power (taken in the test); op_power2 may operate
# ground_power too but does not hold it. The count is idle throughout.
TABLE: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("count.hold", {"reason": "weather"}, expect(F, tc="countdown")),
    ("count.resume", {}, expect(F, tc="countdown")),
    ("count.recycle", {"point": "RP-1"}, expect(F, tc="countdown")),
    ("count.scrub", {"reason": "weather"}, expect(F, tc="armed")),
    ("count.abort", {"reason": "drill"}, expect(F, tc="armed", so="armed")),
    (
        "count.poll",
        {"position": "pad_systems", "go": True},
        expect(F, op_power="countdown", op_power2="countdown"),
    ),
    (
        "subsystem.command",
        {"subsystem": "ground_power", "name": "de_energize"},
        expect(F, op_power="subsystem", op_power2="no_authority"),
    ),
    (
        "subsystem.safe",
        {"subsystem": "ground_power", "reason": "drill"},
        expect(F, op_power="accepted", op_power2="no_authority", tc="accepted", so="accepted"),
    ),
    (
        "subsystem.mode",
        {"subsystem": "ground_power", "mode": "MANUAL"},
        expect(F, op_power="accepted", op_power2="no_authority"),
    ),
    (
        "subsystem.reset",
        {"subsystem": "ground_power"},
        expect(F, op_power="subsystem", op_power2="no_authority"),
    ),
    ("authority.take", {"subsystem": "water_deluge"}, expect(F, op_power="accepted")),
    (
        "authority.release",
        {"subsystem": "hold_downs"},
        expect(F, op_power="no_authority", op_power2="no_authority", admin1="no_authority"),
    ),
    (
        "alarm.acknowledge",
        {"alarm_id": "GROUND_POWER-FAULT"},
        expect(F, **dict.fromkeys(CREW, "alarm")),
    ),
    # Shelving: a safety officer, or the holder of the alarm's subsystem (op_power holds
    # ground_power, not water_deluge); and only an active alarm (this one is NORMAL).
    (
        "alarm.shelve",
        {"alarm_id": "WATER_DELUGE-FAULT", "duration_s": 600, "note": "sensor work"},
        expect(F, op_power="no_authority", op_power2="no_authority", so="alarm"),
    ),
    (
        "alarm.out_of_service",
        {"alarm_id": "WATER_DELUGE-FAULT", "note": "sensor work"},
        expect(F, admin1="accepted"),
    ),
    (
        "alarm.in_service",
        {"alarm_id": "GROUND_POWER-FAULT", "note": "sensor replaced"},
        expect(F, admin1="alarm"),
    ),
    (
        "alarm.unshelve",
        {"alarm_id": "GROUND_POWER-FAULT"},
        expect(F, **dict.fromkeys(CREW, "alarm")),
    ),
    ("journal.query", {"limit": 5}, expect("accepted")),
    ("ping", {}, expect("accepted")),
    ("arm.confirm", {"arm_id": "a-999"}, expect("arm")),
    ("arm.cancel", {"arm_id": "a-999"}, expect("arm")),
    ("sim.inject", {"fault": "clear"}, expect(F, admin1="accepted")),
]


def outcome(answer: dict[str, Any]) -> str:
    return str(answer["code"]) if answer["type"] == "refused" else str(answer["type"])


def undo(socket: ConsoleSocket, command: str, args: dict[str, Any], answer: dict[str, Any]) -> None:
    """Put back what an accepted or armed row changed, so the next user meets the same state."""
    if answer["type"] == "armed":
        assert socket.command("arm.cancel", arm_id=answer["arm_id"])["type"] == "accepted"
    elif answer["type"] == "accepted" and command == "authority.take":
        assert socket.command("authority.release", **args)["type"] == "accepted"
    elif answer["type"] == "accepted" and command == "alarm.shelve":
        unshelved = socket.command("alarm.unshelve", alarm_id=args["alarm_id"])
        assert unshelved["type"] == "accepted", unshelved
    elif answer["type"] == "accepted" and command == "alarm.out_of_service":
        back = socket.command("alarm.in_service", alarm_id=args["alarm_id"], note="undo")
        assert back["type"] == "accepted", back


def test_every_role_against_every_command_class(
    rig: ConsoleRig, sockets: dict[str, ConsoleSocket]
) -> None:
    assert sockets["op_power"].command("authority.take", subsystem="ground_power")["type"] == (
        "accepted"
    )
    seen: list[str] = []
    for command, args, expected in TABLE:
        for name in ROLES:
            socket = sockets[name]
            answer = socket.command(command, **args)
            seen.append(f"{command} by {name}: {outcome(answer)}")
            assert outcome(answer) == expected[name], (command, name, answer)
            if answer["type"] == "refused":
                assert answer["reason"], answer  # every refusal says why
            if outcome(answer) == F:
                assert name.rstrip("1") in answer["reason"] or name in answer["reason"]
            undo(socket, command, args, answer)
    assert len(seen) == len(TABLE) * len(ROLES)
    refused = rig.journal(["console_refused"], sockets["tc"])
    viewer_refusals = [row for row in refused if row["actor"] == "viewer1"]
    assert {row["payload"]["code"] for row in viewer_refusals} >= {"forbidden"}
    assert all(row["payload"]["reason"] for row in viewer_refusals)


def test_authority_is_one_holder_at_a_time_and_shown_everywhere(
    rig: ConsoleRig, sockets: dict[str, ConsoleSocket]
) -> None:
    op, op2, viewer = sockets["op_power"], sockets["op_power2"], sockets["viewer1"]
    assert op.command("authority.take", subsystem="hold_downs")["type"] == "accepted"
    shown = viewer.wait_update(
        lambda u: u.get("subsystems", {}).get("hold_downs", {}).get("authority") == "op_power"
    )
    assert shown["subsystems"]["hold_downs"]["authority"] == "op_power"
    taken = op2.command("authority.take", subsystem="hold_downs")
    assert taken["code"] == "no_authority" and "op_power holds authority" in taken["reason"]
    denied = op2.command("subsystem.command", subsystem="hold_downs", name="disarm")
    assert denied["code"] == "no_authority"
    released = sockets["admin1"].command("authority.release", subsystem="hold_downs")
    assert released["type"] == "accepted"
    viewer.wait_update(
        lambda u: (
            "hold_downs" in u.get("subsystems", {})
            and u["subsystems"]["hold_downs"]["authority"] is None
        )
    )
    assert op2.command("authority.take", subsystem="hold_downs")["type"] == "accepted"
    assert op2.command("authority.release", subsystem="hold_downs")["type"] == "accepted"
    rows = rig.journal(["authority_taken", "authority_released", "authority_forced"], viewer)
    forced = [row for row in rows if row["kind"] == "authority_forced"]
    assert forced and forced[0]["actor"] == "admin1"
    assert forced[0]["payload"] == {"subsystem": "hold_downs", "holder": "op_power"}


def test_hazardous_command_is_armed_then_confirmed_by_the_same_operator(
    rig: ConsoleRig, sockets: dict[str, ConsoleSocket]
) -> None:
    op, tc = sockets["op_power"], sockets["tc"]
    assert op.command("authority.take", subsystem="water_deluge")["type"] == "accepted"
    armed = op.command("subsystem.command", subsystem="water_deluge", name="start_flow")
    assert armed["type"] == "armed" and armed["second_person"] is False
    assert armed["summary"] == "water_deluge.start_flow"
    listed = tc.wait_update(
        lambda u: any(a["arm_id"] == armed["arm_id"] for a in u.get("arms", []))
    )
    assert [a["armed_by"] for a in listed["arms"]] == ["op_power"]
    other = tc.command("arm.confirm", arm_id=armed["arm_id"])
    assert other["code"] == "arm" and "only they confirm" in other["reason"]
    confirmed = op.command("arm.confirm", arm_id=armed["arm_id"])
    # Confirmation re-checks everything, then the subsystem itself decides: deluge flow
    # needs the deluge armed first, so the subsystem refuses, naming its rule.
    assert confirmed["type"] == "refused" and confirmed["code"] == "subsystem", confirmed
    assert "start_flow" in confirmed["reason"]
    again = op.command("arm.confirm", arm_id=armed["arm_id"])
    assert again["code"] == "arm" and "confirmed by op_power" in again["reason"]
    assert op.command("authority.release", subsystem="water_deluge")["type"] == "accepted"


def test_an_arm_expires_unconfirmed(rig: ConsoleRig, sockets: dict[str, ConsoleSocket]) -> None:
    tc, so = sockets["tc"], sockets["so"]
    armed = so.command("count.abort", reason="drill")
    assert armed["type"] == "armed"
    tc.wait_update(lambda u: any(a["arm_id"] == armed["arm_id"] for a in u.get("arms", [])))
    rig.wall.advance(ARM_TIMEOUT_WALL_S + 0.5)
    tc.wait_update(lambda u: "arms" in u and not u["arms"])
    late = so.command("arm.confirm", arm_id=armed["arm_id"])
    assert late["code"] == "arm" and "expired" in late["reason"], late
    rows = rig.journal(["console_disarmed"], tc)
    assert any(
        row["payload"].get("arm_id") == armed["arm_id"] and row["payload"]["reason"] == "expired"
        for row in rows
    )
    count = tc.wait_update(lambda u: True)["countdown"]
    assert count["state"] == "IDLE"  # nothing happened


def test_a_second_person_is_not_summoned_for_a_command_the_interlocks_refuse(
    rig: ConsoleRig, sockets: dict[str, ConsoleSocket]
) -> None:
    """Arming judges the subsystem's interlocks on fresh data, as the command will be judged:
    the hold-downs' release arming needs the terminal count, which is not running."""
    op = sockets["op_power"]
    assert op.command("authority.take", subsystem="hold_downs")["type"] == "accepted"
    try:
        refused = op.command("subsystem.command", subsystem="hold_downs", name="arm_release")
        assert refused["type"] == "refused" and refused["code"] == "subsystem", refused
        assert "interlock not met: terminal count running" in refused["reason"]
        assert rig.client.app.state.console.arms.describe() == []  # nobody is summoned
    finally:
        assert op.command("authority.release", subsystem="hold_downs")["type"] == "accepted"


def test_second_person_rule(rig: ConsoleRig, sockets: dict[str, ConsoleSocket]) -> None:
    """Draining the kerosene tank (its interlocks hold on the idle pad) needs a second person;
    the subsystem judges its interlocks again when the confirmed command runs."""
    so, op2, viewer, admin = (
        sockets["so"],
        sockets["op_power2"],
        sockets["viewer1"],
        sockets["admin1"],
    )
    with rig.connect("op_prop") as op:
        assert op.command("authority.take", subsystem="kerosene_loading")["type"] == "accepted"
        armed = op.command("subsystem.command", subsystem="kerosene_loading", name="start_drain")
        assert armed["type"] == "armed" and armed["second_person"] is True, armed
        own = op.command("arm.confirm", arm_id=armed["arm_id"])
        assert own["code"] == "arm" and "needs a second person" in own["reason"]
        for unqualified in (viewer, op2):  # op_power2 has no kerosene_loading
            answer = unqualified.command("arm.confirm", arm_id=armed["arm_id"])
            assert answer["code"] == "arm" and "not qualified" in answer["reason"], answer
        # The vent reads closed between the arming and the confirmation: the second person
        # gets past the arm, and the subsystem's own interlock decides now.
        assert admin.command("sim.inject", fault="override RG1-VV-101-ZSO 0")["type"] == "accepted"
        try:
            op.wait_update(
                lambda u: u.get("tags", {}).get("RG1-VV-101-ZSO", {}).get("value") is False
            )
            second = so.command("arm.confirm", arm_id=armed["arm_id"])
            assert second["code"] == "subsystem", second
            assert "vehicle RG-1 vent open" in second["reason"]
        finally:
            admin.command("sim.inject", fault="unoverride RG1-VV-101-ZSO")
        refused = rig.journal(["console_refused"], viewer)
        mine = [r for r in refused if r["payload"]["request_id"] == second["request_id"]]
        assert mine and mine[0]["actor"] == "op_prop+so"
        assert op.command("authority.release", subsystem="kerosene_loading")["type"] == "accepted"


def test_stale_data_blocks_a_command(rig: ConsoleRig, sockets: dict[str, ConsoleSocket]) -> None:
    op, tc, admin = sockets["op_power"], sockets["tc"], sockets["admin1"]
    assert op.command("authority.take", subsystem="water_deluge")["type"] == "accepted"
    assert admin.command("sim.inject", fault="stall SAFE")["type"] == "accepted"
    try:
        update = op.wait_update(
            lambda u: bool(u.get("subsystems", {}).get("water_deluge", {}).get("stale_tags"))
        )
        stale = update["subsystems"]["water_deluge"]["stale_tags"]
        refused = op.command("subsystem.command", subsystem="water_deluge", name="arm")
        assert refused["code"] == "stale_data", refused
        assert any(tag in refused["reason"] for tag in stale)
        assert "STALE" in refused["reason"]
        start = tc.command("count.start")
        assert start["code"] == "stale_data" and "SAFE" in start["reason"], start
        # Safing is never held back by stale data.
        safe = op.command("subsystem.safe", subsystem="water_deluge", reason="link lost")
        assert safe["type"] == "accepted"
    finally:
        assert admin.command("sim.inject", fault="restore SAFE")["type"] == "accepted"
    # Fresh data again, and the PLC's watchdog cleared (it tripped while stalled).
    op.wait_update(
        lambda u: u["countdown"]["data_fresh"] and not u["countdown"]["start_blocked"],
        timeout_s=30,
    )
    assert op.command("authority.release", subsystem="water_deluge")["type"] == "accepted"


def test_only_the_test_conductor_starts_the_count(sockets: dict[str, ConsoleSocket]) -> None:
    for name in ROLES:
        if name != "tc":
            answer = sockets[name].command("count.start")
            assert answer["code"] == "forbidden", answer
    started = sockets["tc"].command("count.start")
    assert started["type"] == "accepted", started
    update = sockets["viewer1"].wait_update(lambda u: u["countdown"]["state"] == "COUNTING")
    assert update["countdown"]["t_running"] is True


def test_a_flood_of_refused_commands_cannot_flood_the_journal(
    rig: ConsoleRig, sockets: dict[str, ConsoleSocket]
) -> None:
    """A console finding: a viewer sending 5,000 refused commands wrote 3,654 journal rows in
    52 s. Each refusal is still answered; only 20 per user per 10 s are journaled, and the
    count of the others goes into the user's next journaled refusal."""
    viewer, tc = sockets["viewer1"], sockets["tc"]
    rig.wall.advance(11.0)  # a fresh window for this test
    ids = [viewer.send("count.start") for _ in range(200)]
    answers = [viewer.answer(request_id) for request_id in ids]
    assert all(a["type"] == "refused" and a["code"] == "forbidden" for a in answers)
    journaled = [
        row
        for row in rig.journal(["console_refused"], tc)
        if row["payload"]["request_id"] in set(ids)
    ]
    assert len(journaled) == 20
    rig.wall.advance(11.0)
    last = viewer.command("count.start")
    assert last["type"] == "refused"
    rows = rig.journal(["console_refused"], tc)
    row = next(r for r in rows if r["payload"]["request_id"] == last["request_id"])
    assert row["payload"]["not_journaled_before"] == 180
