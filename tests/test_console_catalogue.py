"""Console commands are declared once, in the catalogue: a new command is one entry and its
executor, and the role check, the argument check, arming and dispatch all follow from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from padctl.console import CATALOGUE, Arming, ConsoleCommand, Role, User
from padctl.console._catalogue import Desk, text
from tests.console_fixtures import console_rig

REPO = Path(__file__).resolve().parents[1]


def test_the_protocol_document_shows_the_catalogue() -> None:
    page = (REPO / "docs" / "console-protocol.md").read_text(encoding="utf-8")
    assert CATALOGUE.markdown_table() in page, (
        "docs/console-protocol.md's command table differs from the catalogue: paste "
        "padctl.console.CATALOGUE.markdown_table() between its generated-table markers"
    )
    for command in CATALOGUE:
        assert f"| `{command.name}` |" in page, command.name


def test_a_command_added_to_the_catalogue_is_authorised_armed_and_dispatched(
    tmp_path: Path,
) -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = []

    async def echo(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
        calls.append((user.name, actor, args))
        return {"echo": args["word"], "pad": desk.station.definition.pad}

    fake = ConsoleCommand(
        "test.echo",
        frozenset({Role.TEST_CONDUCTOR}),
        echo,
        (text("word", "`word`", required=True),),
        arming=Arming.TWO_STEP,
    )
    with console_rig(tmp_path, catalogue=CATALOGUE.plus(fake)) as rig:
        with rig.connect("viewer1") as viewer, rig.connect("tc") as tc:
            assert tc.snapshot["config"]["permissions"]["test.echo"] == ["test_conductor"]
            assert "test.echo" in tc.snapshot["config"]["two_step"]

            refused = viewer.command("test.echo", word="hello")  # roles from the entry
            assert (refused["type"], refused["code"]) == ("refused", "forbidden")
            assert "test.echo is for test_conductor" in refused["reason"]
            missing = tc.command("test.echo")  # arguments from the entry
            assert (missing["type"], missing["code"]) == ("refused", "bad_request")
            assert "'word' is required" in missing["reason"]
            assert calls == []

            armed = tc.command("test.echo", word="hello")  # arming from the entry
            assert armed["type"] == "armed" and armed["second_person"] is False
            assert calls == []  # nothing runs before the confirmation
            done = tc.command("arm.confirm", arm_id=armed["arm_id"])
            assert done["type"] == "accepted", done
            assert done["result"]["echo"] == "hello"  # dispatched to the entry's executor
            assert calls == [("tc", "tc", {"word": "hello"})]

            rows = rig.journal(["console_armed", "console_accepted", "console_refused"], tc)
            echoed = [row for row in rows if row["payload"].get("command") == "test.echo"]
            assert sorted(row["kind"] for row in echoed) == [
                "console_accepted",
                "console_armed",
                "console_refused",
                "console_refused",
            ]


def test_a_name_is_declared_once() -> None:
    duplicate = CATALOGUE["ping"]
    try:
        CATALOGUE.plus(duplicate)
    except ValueError as error:
        assert "'ping' is declared twice" in str(error)
    else:
        raise AssertionError("a second 'ping' was accepted")
