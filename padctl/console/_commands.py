"""The command desk: every console command checked again here, then carried out or refused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from padctl.alarms import AlarmError
from padctl.console._args import Request, RequestError, parse_request
from padctl.console._arming import ArmBoard, action_name
from padctl.console._authority import AuthorityBoard, authorize
from padctl.console._catalogue import (
    Arming,
    BadRequest,
    Catalogue,
    ConsoleCommand,
    Refusal,
    Refused,
)
from padctl.console._command_table import CATALOGUE
from padctl.console._gates import fresh_data_refusal, interlock_refusal
from padctl.console._users import User
from padctl.countdown import CountdownRefused
from padctl.journal import AsyncJournal
from padctl.off_loop import OffLoopWorker
from padctl.station import Station
from padctl.subsystems import CommandRefused

log = structlog.get_logger()

# A command still running after this long (an abort's safing, a scrub) is answered
# `accepted` with `running: true`; its progress shows in the countdown and subsystem states.
ANSWER_WITHIN_WALL_S = 1.0
Injector = Callable[[str], Awaitable[str]]


class CommandDesk:
    """Carries out console commands for the server; the console only asks. What each command
    is (roles, authority, arguments, arming, fresh data, executor) the catalogue says."""

    def __init__(
        self,
        *,
        station: Station,
        authority: AuthorityBoard,
        arms: ArmBoard,
        injector: Injector | None = None,
        offload: OffLoopWorker | None = None,
        catalogue: Catalogue = CATALOGUE,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self._station = station
        self._offload = offload or OffLoopWorker("padctl-console-offload")
        self._authority = authority
        self._arms = arms
        self._injector = injector
        self.catalogue = catalogue
        self._subsystems = tuple(station.subsystems)
        self._background: set[asyncio.Task[Any]] = set()
        self._refusals = RefusalBudget(wall)

    # ---- what an executor may use (padctl.console._catalogue.Desk) ---------------------------
    @property
    def station(self) -> Station:
        return self._station

    @property
    def authority(self) -> AuthorityBoard:
        return self._authority

    @property
    def injector(self) -> Injector | None:
        return self._injector

    @property
    def offload(self) -> OffLoopWorker:
        return self._offload

    @property
    def background(self) -> set[asyncio.Task[Any]]:
        return self._background

    async def handle(self, user: User, message: object) -> dict[str, Any]:
        """One console message in, exactly one answer out (accepted, refused or armed)."""
        try:
            request = parse_request(message, self.catalogue)
            args = self.catalogue[request.command].check_args(request.args, self._subsystems)
        except RequestError as error:
            return await self._refused(user, error.request_id, "?", {}, "bad_request", str(error))
        except BadRequest as error:
            request_id = message.get("request_id") if isinstance(message, dict) else None
            command = message.get("command") if isinstance(message, dict) else None
            return await self._refused(
                user,
                request_id if isinstance(request_id, str) else None,
                command if isinstance(command, str) else "?",
                {},
                "bad_request",
                str(error),
            )
        return await self._dispatch(user, Request(request.request_id, request.command, args))

    async def refuse_malformed(self, user: User, reason: str) -> dict[str, Any]:
        """The answer to a message that is not a request at all (not JSON, too large)."""
        return await self._refused(user, None, "?", {}, "bad_request", reason)

    async def _dispatch(self, user: User, request: Request) -> dict[str, Any]:
        command, args = request.command, request.args
        entry = self.catalogue[command]
        refusal = authorize(user, entry, args, self._authority)
        if refusal is not None:
            return await self._refused(user, request.request_id, command, args, *_pair(refusal))
        if command == "arm.confirm":
            return await self._confirm(user, request)
        if command == "arm.cancel":
            arm, refusal = self._arms.cancel(args["arm_id"], user)
            if refusal is not None:
                return await self._refused(user, request.request_id, command, args, *_pair(refusal))
            assert arm is not None
            await self._journal("console_disarmed", user.name, request, reason="cancelled")
            return _accepted(request, {"arm_id": arm.arm_id})
        two_step, second_person = self._arming(entry, args)
        if two_step:
            refusal = fresh_data_refusal(self._station, entry, args)
            if refusal is None and second_person and entry.arming is Arming.SUBSYSTEM_SPEC:
                refusal = await interlock_refusal(self._station, args)
            if refusal is not None:
                return await self._refused(user, request.request_id, command, args, *_pair(refusal))
            summary = action_name(command, args)
            if args.get("reason") and command.startswith("count."):
                summary += f": {args['reason']}"
            arm = self._arms.arm(command, args, user, summary, second_person=second_person)
            await self._journal("console_armed", user.name, request, arm_id=arm.arm_id)
            return {
                "type": "armed",
                "request_id": request.request_id,
                "command": command,
                "arm_id": arm.arm_id,
                "expires_at": arm.expires_at,
                "timeout_wall_s": self._arms.timeout_wall_s,
                "second_person": arm.second_person,
                "summary": summary,
            }
        return await self._execute(user, user.name, request)

    def _arming(self, entry: ConsoleCommand, args: dict[str, Any]) -> tuple[bool, bool]:
        """Whether the command is armed first, and whether a second person confirms it."""
        if entry.arming is Arming.SUBSYSTEM_SPEC:
            spec = self._station.subsystems[args["subsystem"]].spec
            try:
                command = spec.command(args["name"])
            except KeyError:
                return False, False  # unknown: the subsystem refuses it, naming the known ones
            return command.hazardous, command.second_person
        return (
            entry.arming in (Arming.TWO_STEP, Arming.SECOND_PERSON),
            entry.arming is Arming.SECOND_PERSON,
        )

    async def _confirm(self, user: User, request: Request) -> dict[str, Any]:
        arm, refusal = self._arms.take_for_confirmation(request.args["arm_id"], user)
        if refusal is not None:
            return await self._refused(
                user, request.request_id, "arm.confirm", request.args, *_pair(refusal)
            )
        assert arm is not None
        armer = arm.armed_by
        # Checked again for the user who armed it, as if given now.
        refusal = authorize(armer, self.catalogue[arm.command], arm.args, self._authority)
        if refusal is not None:
            return await self._refused(
                user, request.request_id, arm.command, arm.args, *_pair(refusal)
            )
        actor = armer.name if armer.name == user.name else f"{armer.name}+{user.name}"
        confirmed = Request(request.request_id, arm.command, arm.args)
        return await self._execute(armer, actor, confirmed, confirmed_by=user.name)

    # ---- carrying out ------------------------------------------------------------------------
    async def _execute(
        self, user: User, actor: str, request: Request, *, confirmed_by: str = ""
    ) -> dict[str, Any]:
        command, args = request.command, request.args
        entry = self.catalogue[command]
        refusal = fresh_data_refusal(self._station, entry, args)
        if refusal is not None:
            return await self._refused(user, request.request_id, command, args, *_pair(refusal))
        extra = {"confirmed_by": confirmed_by} if confirmed_by else {}
        task = asyncio.create_task(
            entry.execute(self, user, actor, args), name=f"console-{command}"
        )
        # Kept from the start: a command goes on (and is stopped with the server) even if the
        # console that asked for it goes away while it runs.
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        done, _ = await asyncio.wait({task}, timeout=ANSWER_WITHIN_WALL_S)
        if not done:
            task.add_done_callback(self._finished_later)
            await self._journal("console_accepted", actor, request, running=True, **extra)
            return _accepted(request, {"running": True})
        try:
            result = task.result()
        except CountdownRefused as refused:
            return await self._refused(
                user, request.request_id, command, args, "countdown", str(refused), actor=actor
            )
        except CommandRefused as refused:
            return await self._refused(
                user, request.request_id, command, args, "subsystem", str(refused), actor=actor
            )
        except AlarmError as refused:
            return await self._refused(
                user, request.request_id, command, args, "alarm", str(refused), actor=actor
            )
        except Refused as refused:
            return await self._refused(
                user, request.request_id, command, args, *_pair(refused.refusal), actor=actor
            )
        except Exception as error:  # the server's own failure: say so, never pretend success
            log.exception("console_command_failed", command=command)
            return await self._refused(
                user, request.request_id, command, args, "internal", repr(error), actor=actor
            )
        if entry.journaled:
            await self._journal("console_accepted", actor, request, **extra)
        return _accepted(request, result)

    def _finished_later(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "console_command_failed_later", task=task.get_name(), error=str(task.exception())
            )

    async def stop(self) -> None:
        """Wait a little for commands still running, then cancel them."""
        if self._background:
            await asyncio.wait(self._background, timeout=2.0)
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # ---- answers and the journal --------------------------------------------------------------
    async def _refused(
        self,
        user: User,
        request_id: str | None,
        command: str,
        args: dict[str, Any],
        code: str,
        reason: str,
        *,
        actor: str = "",
    ) -> dict[str, Any]:
        return await refusal(
            self._station.journal,
            self._refusals,
            user=user,
            actor=actor or user.name,
            request_id=request_id,
            command=command,
            args=args,
            code=code,
            reason=reason,
        )

    async def _journal(self, kind: str, actor: str, request: Request, **extra: object) -> None:
        payload = {
            "request_id": request.request_id,
            "command": request.command,
            "args": _jsonable(request.args),
            **extra,
        }
        await self._station.journal.append(kind, payload, actor=actor)


@dataclass
class _RefusalWindow:
    start_wall_s: float
    journaled: int = 0
    not_journaled: int = 0


class RefusalBudget:
    """How many refusals of one user are journaled: at most `per_window` in each window of
    `window_wall_s`; the ones over it are counted and the count goes into the user's next
    journaled refusal (`not_journaled_before`). A console sending thousands of refused
    commands cannot flood the journal, and no refusal goes unaccounted for."""

    def __init__(
        self, wall: Callable[[], float], *, per_window: int = 20, window_wall_s: float = 10.0
    ) -> None:
        self._wall = wall
        self._per_window = per_window
        self._window_wall_s = window_wall_s
        self._windows: dict[str, _RefusalWindow] = {}

    def count(self, user: str) -> int | None:
        """None if this refusal is over the budget; else how many were not journaled before."""
        now_s = self._wall()
        window = self._windows.setdefault(user, _RefusalWindow(now_s))
        if now_s - window.start_wall_s >= self._window_wall_s:
            window.start_wall_s, window.journaled = now_s, 0
        if window.journaled >= self._per_window:
            window.not_journaled += 1
            return None
        window.journaled += 1
        skipped, window.not_journaled = window.not_journaled, 0
        return skipped


async def refusal(
    journal: AsyncJournal,
    budget: RefusalBudget,
    *,
    user: User,
    actor: str,
    request_id: str | None,
    command: str,
    args: dict[str, Any],
    code: str,
    reason: str,
) -> dict[str, Any]:
    """A refusal's answer, journaled as `console_refused` within the user's budget."""
    log.info("console_refused", user=user.name, command=command, code=code, reason=reason)
    suppressed = budget.count(user.name)
    if suppressed is not None:  # else counted, and said in the user's next row
        payload: dict[str, Any] = {
            "request_id": request_id,
            "command": command,
            "args": _jsonable(args),
            "code": code,
            "reason": reason,
        }
        if suppressed:
            payload["not_journaled_before"] = suppressed
        await journal.append("console_refused", payload, actor=actor)
    return {
        "type": "refused",
        "request_id": request_id,
        "command": command,
        "code": code,
        "reason": reason,
    }


def _pair(refusal: Refusal) -> tuple[str, str]:
    return refusal.code, refusal.reason


def _accepted(request: Request, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "accepted",
        "request_id": request.request_id,
        "command": request.command,
        "result": result,
    }


def _jsonable(args: dict[str, Any]) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in args.items()}
