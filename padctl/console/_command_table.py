"""Every console command, declared once (`padctl.console._catalogue`), with what carries it out.

The training run's instructor controls (`train.*`) are declared in `_instructor.py` and
joined here. docs/console-protocol.md's command table is generated from this one.
"""

from __future__ import annotations

from typing import Any

from padctl.console._alarm_commands import ALARM_COMMANDS
from padctl.console._catalogue import (
    CREW,
    Arming,
    Authority,
    Catalogue,
    ConsoleCommand,
    Desk,
    Fresh,
    Refusal,
    Refused,
    text,
)
from padctl.console._command_args import (
    ARM_ID,
    BEFORE_ID,
    FOLD_SESSIONS,
    GO,
    KINDS,
    LIMIT,
    MODE,
    SEVERITIES,
    STEP_CHOICE,
    SUBSYSTEM,
    reason,
)
from padctl.console._instructor import INSTRUCTOR_COMMANDS
from padctl.console._journal_query import JournalQuery, run_query
from padctl.console._users import Role, User
from padctl.subsystems import Mode

R = Role
EVERYONE = frozenset(Role)
CONDUCTOR = frozenset({R.TEST_CONDUCTOR})
OPERATOR = frozenset({R.SUBSYSTEM_OPERATOR})


# ---- executors ------------------------------------------------------------------------------
async def _count_start(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    await desk.station.countdown.start(actor=actor)
    return {}


async def _count_hold(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    await desk.station.countdown.hold(actor=actor, reason=args["reason"])
    return {}


async def _count_resume(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    countdown = desk.station.countdown
    await countdown.resume(actor=actor, step=args["step"], reason=args["reason"])
    return {}


async def _count_recycle(
    desk: Desk, user: User, actor: str, args: dict[str, Any]
) -> dict[str, Any]:
    await desk.station.countdown.recycle(actor=actor, point=args["point"])
    return {}


async def _count_scrub(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    await desk.station.countdown.scrub(actor=actor, reason=args["reason"])
    return {}


async def _count_abort(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    await desk.station.countdown.abort(actor=actor, reason=args["reason"])
    return {}


async def _count_poll(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    countdown = desk.station.countdown
    await countdown.answer_poll(position=args["position"], go=args["go"], actor=actor)
    return {}


async def _subsystem_command(
    desk: Desk, user: User, actor: str, args: dict[str, Any]
) -> dict[str, Any]:
    ticket = await desk.station.subsystems[args["subsystem"]].command(args["name"], actor=actor)
    return {"subsystem": ticket.subsystem, "command": ticket.command}


async def _subsystem_safe(
    desk: Desk, user: User, actor: str, args: dict[str, Any]
) -> dict[str, Any]:
    subsystem = desk.station.subsystems[args["subsystem"]]
    return {"proven": await subsystem.safe(actor=actor, reason=args["reason"])}


async def _subsystem_mode(
    desk: Desk, user: User, actor: str, args: dict[str, Any]
) -> dict[str, Any]:
    subsystem = desk.station.subsystems[args["subsystem"]]
    await subsystem.set_mode(Mode(args["mode"]), actor=actor)
    return {"mode": subsystem.mode.value}


async def _subsystem_reset(
    desk: Desk, user: User, actor: str, args: dict[str, Any]
) -> dict[str, Any]:
    subsystem = desk.station.subsystems[args["subsystem"]]
    await subsystem.reset(actor=actor)
    return {"state": subsystem.machine_state}


async def _authority_take(
    desk: Desk, user: User, actor: str, args: dict[str, Any]
) -> dict[str, Any]:
    subsystem = args["subsystem"]
    refusal = desk.authority.take(subsystem, user)
    if refusal is not None:
        raise Refused(refusal)
    await desk.station.journal.append("authority_taken", {"subsystem": subsystem}, actor=user.name)
    return {"subsystem": subsystem, "holder": user.name}


async def _authority_release(
    desk: Desk, user: User, actor: str, args: dict[str, Any]
) -> dict[str, Any]:
    subsystem = args["subsystem"]
    refusal, holder = desk.authority.release(subsystem, user)
    if refusal is not None:
        raise Refused(refusal)
    kind = "authority_released" if holder == user.name else "authority_forced"
    payload = {"subsystem": subsystem, "holder": holder}
    await desk.station.journal.append(kind, payload, actor=user.name)
    return {"subsystem": subsystem, "holder": None}


async def _journal_query(
    desk: Desk, user: User, actor: str, args: dict[str, Any]
) -> dict[str, Any]:
    station = desk.station
    query = JournalQuery(**args)
    return await run_query(station.journal, query, desk.offload, station.countdown.clocks.t_at)


async def _arm_step(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError("arm.confirm and arm.cancel are carried out by the desk itself")


async def _sim_inject(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    if desk.injector is None:
        raise Refused(
            Refusal(
                "unavailable", "fault injection needs a server on simulators (padctl serve --sim)"
            )
        )
    try:
        return {"fault": await desk.injector(args["fault"])}
    except ValueError as error:
        raise Refused(Refusal("bad_request", str(error))) from None


async def _ping(desk: Desk, user: User, actor: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"server_time": desk.station.clock.wall_now()}


FAULT_WORDS = (
    '`fault`: the words of `padctl sim` (`"stall MECH"`, `"bias LOX-PT-101 2.5"`, '
    '`"restore MECH"`, `"clear"`), or the `countdown --inject` order without the T-time '
    '(`"LOX-PT-101 bias 2.5"`, `"MECH stall"`)'
)

CONSOLE_COMMANDS = (
    ConsoleCommand("count.start", CONDUCTOR, _count_start, fresh=Fresh.ALL_PLCS),
    ConsoleCommand("count.hold", CONDUCTOR, _count_hold, (reason("count.hold"),)),
    ConsoleCommand(
        "count.resume",
        CONDUCTOR,
        _count_resume,
        (STEP_CHOICE, text("reason", "`reason` (required with `step`)")),
        fresh=Fresh.ALL_PLCS,
    ),
    ConsoleCommand(
        "count.recycle",
        CONDUCTOR,
        _count_recycle,
        (text("point", '`point` (e.g. `"RP-1"`)', required=True),),
        fresh=Fresh.ALL_PLCS,
    ),
    ConsoleCommand(
        "count.scrub",
        CONDUCTOR,
        _count_scrub,
        (reason("count.scrub"),),
        arming=Arming.SECOND_PERSON,
    ),
    ConsoleCommand(
        "count.abort",
        frozenset({R.TEST_CONDUCTOR, R.SAFETY_OFFICER}),
        _count_abort,
        (reason("count.abort"),),
        arming=Arming.TWO_STEP,
    ),
    ConsoleCommand(
        "count.poll",
        CREW,
        _count_poll,
        (text("position", "`position`", required=True), GO),
        who="subsystem_operator, test_conductor, safety_officer, for a `position` in their "
        "own `positions`",
        own_position=True,
    ),
    ConsoleCommand(
        "subsystem.command",
        OPERATOR,
        _subsystem_command,
        (SUBSYSTEM, text("name", "`name`", required=True)),
        authority=Authority.HOLDER,
        arming=Arming.SUBSYSTEM_SPEC,
        fresh=Fresh.SUBSYSTEM,
        who="subsystem_operator holding the subsystem's authority",
    ),
    ConsoleCommand(
        "subsystem.safe",
        CREW,
        _subsystem_safe,
        (SUBSYSTEM, reason("subsystem.safe")),
        authority=Authority.HOLDER_IF_OPERATOR,
        who="authority holder, test_conductor, safety_officer",
    ),
    ConsoleCommand(
        "subsystem.mode",
        OPERATOR,
        _subsystem_mode,
        (SUBSYSTEM, MODE),
        authority=Authority.HOLDER,
        who="authority holder",
    ),
    ConsoleCommand(
        "subsystem.reset",
        OPERATOR,
        _subsystem_reset,
        (SUBSYSTEM,),
        authority=Authority.HOLDER,
        fresh=Fresh.SUBSYSTEM,
        who="authority holder",
    ),
    ConsoleCommand(
        "authority.take",
        OPERATOR,
        _authority_take,
        (SUBSYSTEM,),
        who="subsystem_operator with the subsystem in their list, when nobody holds it",
    ),
    ConsoleCommand(
        "authority.release",
        frozenset({R.SUBSYSTEM_OPERATOR, R.ADMIN}),
        _authority_release,
        (SUBSYSTEM,),
        who="the holder; admin (force release)",
    ),
    *ALARM_COMMANDS,
    ConsoleCommand(
        "journal.query",
        EVERYONE,
        _journal_query,
        (
            KINDS,
            SEVERITIES,
            text("actor", "`actor`"),
            text("text", "`text`"),
            BEFORE_ID,
            LIMIT,
            FOLD_SESSIONS,
        ),
        journaled=False,
        who="everyone",
        answer='`result: {"rows": [JOURNAL_ROW...], "more": bool, "next_before_id": id}` '
        "newest first",
    ),
    ConsoleCommand(
        "arm.confirm",
        EVERYONE,
        _arm_step,
        (ARM_ID,),
        who="see the two-step rules",
        answer="answered for the armed command",
    ),
    ConsoleCommand("arm.cancel", EVERYONE, _arm_step, (ARM_ID,), who="the user who armed it"),
    ConsoleCommand(
        "sim.inject",
        frozenset({R.ADMIN}),
        _sim_inject,
        (text("fault", FAULT_WORDS, required=True),),
        who="admin, only on simulators",
    ),
    *INSTRUCTOR_COMMANDS,
    ConsoleCommand(
        "ping",
        EVERYONE,
        _ping,
        journaled=False,
        who="everyone",
        answer='`result: {"server_time": ...}`',
    ),
)
CATALOGUE = Catalogue(CONSOLE_COMMANDS)
