"""The alarm commands (ISA-18.2): acknowledge, shelve within the pad's limit and one's own
authority, unshelve, and take out of service and back (admin, with a note).

Shelving hides an alarm from everyone: it is for an active alarm of a subsystem the user holds
authority over (a safety officer may shelve any), for at most the pad definition's
`alarms.max_shelve_s`. Anything else is refused, saying why, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from padctl.console._catalogue import (
    CREW,
    Arg,
    BadRequest,
    ConsoleCommand,
    Desk,
    Refusal,
    Refused,
    text,
)
from padctl.console._users import Role, User
from padctl.subsystems import subsystem_of_alarm

R = Role
SHELVERS = frozenset({R.SUBSYSTEM_OPERATOR, R.SAFETY_OFFICER})
ADMIN = frozenset({R.ADMIN})
LONGEST_SHELVE_S = 24 * 3600.0  # what any pad definition may allow (its alarms.max_shelve_s)

ALARM_ID = text("alarm_id", "`alarm_id`", required=True)
NOTE = text("note")
REQUIRED_NOTE = text("note", "`note` (required)", required=True)


def _duration(args: dict[str, Any], _subsystems: tuple[str, ...]) -> float:
    duration = args.get("duration_s")
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise BadRequest("argument 'duration_s' must be a number of seconds")
    if not 0 < duration <= LONGEST_SHELVE_S:
        raise BadRequest(f"duration_s must be above 0 and at most {LONGEST_SHELVE_S:g} s")
    return float(duration)


def _may_shelve(desk: Desk, user: User, alarm_id: str) -> None:
    """Refused unless the user is a safety officer or holds the alarm's subsystem."""
    if user.role is Role.SAFETY_OFFICER:
        return
    subsystem = subsystem_of_alarm(alarm_id, list(desk.station.subsystems))
    if subsystem is None:
        raise Refused(
            Refusal(
                "no_authority",
                f"{alarm_id} is no subsystem's alarm: only a safety officer may shelve it",
            )
        )
    holder = desk.authority.holder(subsystem)
    if holder != user.name:
        raise Refused(
            Refusal(
                "no_authority",
                f"shelving {alarm_id} needs authority over {subsystem}, "
                f"held by {holder or 'nobody'}",
            )
        )


async def _acknowledge(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    await desk.station.alarms.acknowledge(args["alarm_id"], actor=actor, note=args["note"])
    return {}


async def _shelve(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    alarms, alarm_id = desk.station.alarms, args["alarm_id"]
    alarms.get(alarm_id)  # an unknown alarm is refused as such first
    _may_shelve(desk, user, alarm_id)
    longest_s = desk.station.definition.alarms.max_shelve_s
    if args["duration_s"] > longest_s:
        raise Refused(
            Refusal(
                "bad_request",
                f"shelve {alarm_id} for {args['duration_s']:g} s: this pad allows at most "
                f"{longest_s:g} s (alarms.max_shelve_s)",
            )
        )
    await alarms.shelve(alarm_id, actor=actor, duration_s=args["duration_s"], note=args["note"])
    return {}


async def _unshelve(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    await desk.station.alarms.unshelve(args["alarm_id"], actor=actor, note=args["note"])
    return {}


async def _out_of_service(
    desk: Desk, user: User, actor: str, args: dict[str, Any]
) -> dict[str, Any]:
    alarms = desk.station.alarms
    await alarms.remove_from_service(args["alarm_id"], actor=actor, note=args["note"])
    return {}


async def _in_service(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    await desk.station.alarms.return_to_service(args["alarm_id"], actor=actor, note=args["note"])
    return {}


ALARM_COMMANDS = (
    ConsoleCommand("alarm.acknowledge", CREW, _acknowledge, (ALARM_ID, NOTE)),
    ConsoleCommand(
        "alarm.shelve",
        SHELVERS,
        _shelve,
        (
            ALARM_ID,
            Arg(
                "duration_s",
                _duration,
                "`duration_s` (pad clock s, > 0, at most the pad definition's "
                "`alarms.max_shelve_s`, default 2 h)",
            ),
            REQUIRED_NOTE,
        ),
        who="safety_officer; subsystem_operator holding the alarm's subsystem; only an "
        "active alarm (not NORMAL)",
    ),
    ConsoleCommand("alarm.unshelve", CREW, _unshelve, (ALARM_ID, NOTE)),
    ConsoleCommand(
        "alarm.out_of_service",
        ADMIN,
        _out_of_service,
        (ALARM_ID, REQUIRED_NOTE),
        who="admin",
    ),
    ConsoleCommand("alarm.in_service", ADMIN, _in_service, (ALARM_ID, REQUIRED_NOTE), who="admin"),
)
