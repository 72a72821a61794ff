"""The autopilot: a competent team that plays a scenario's expected responses itself.

It works the console like a team would, as four people (test conductor, safety officer,
propellants and pad systems operators): every command goes through the console's command
desk with its role, authority, two-step and second-person rules, and is journaled under
that person's name. It answers the built-in holds' GO/NO-GO polls GO, starts a count that
is idle, and takes the expected responses in their order: a response only the team can give
(an acknowledgement, a command, a recycle, a resume, anything marked `by: team`) after its
reaction time; one the countdown gives by itself (a hold, a cutoff, a scrub) only if the
countdown has not, shortly before its time runs out. `padctl train --autopilot` is thereby
each scenario's own acceptance test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from padctl.clock import wall_pause
from padctl.countdown import CountState
from padctl.subsystems import FAULT, Mode, subsystem_of_alarm
from padctl.training._plan import TEAM_ONLY, ExpectedResponse, ResponseKind
from padctl.training._scoring import ResponseScore, Status
from padctl.training._trainer import Trainer

log = structlog.get_logger()

K = ResponseKind
LOOK_WALL_S = 0.1
# Kinds the countdown never does by itself: the team must, so the autopilot does not wait.
ONLY_BY_PEOPLE = frozenset({*TEAM_ONLY, K.RECYCLE, K.RESUME})

Send = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class TeamMember:
    name: str
    role: str  # test_conductor, safety_officer, subsystem_operator
    positions: tuple[str, ...] = ()
    subsystems: tuple[str, ...] = ()


class Autopilot:
    """Plays the plan's expected responses (but those in `skip`, by index) through `send`."""

    def __init__(
        self,
        *,
        trainer: Trainer,
        send: Send,
        team: tuple[TeamMember, ...],
        skip: frozenset[int] = frozenset(),
    ) -> None:
        self._trainer = trainer
        self._send = send
        self._team = team
        self._skip = skip
        self._conductor = self._member("test_conductor")
        self._safety = self._member("safety_officer")

    def _member(self, role: str) -> TeamMember:
        return next(member for member in self._team if member.role == role)

    def _operator(self, subsystem: str) -> TeamMember:
        return next((m for m in self._team if subsystem in m.subsystems), self._conductor)

    async def run(self) -> None:
        """Until the run ends."""
        trainer = self._trainer
        countdown = trainer.station.countdown
        plan = trainer.plan
        index, previous_done_s = 0, trainer.started_clock_s
        next_try_s = 0.0
        started = False
        while not trainer.ended.is_set():
            await wall_pause(LOOK_WALL_S)  # wall time: the autopilot's eyes, not the pad's
            if trainer.clock.rate == 0:
                continue
            if countdown.state is CountState.IDLE and not started:
                started = await self._do(self._conductor, "count.start", {})
            await self._answer_built_in_poll()
            await self._acknowledge_alarms()
            if index >= len(plan.expect):
                continue
            if index in self._skip:
                index += 1
                continue
            score = (await trainer.score()).responses[index]
            if score.status is not Status.PENDING:
                if score.took_s is not None and score.onset_s is not None:
                    done_s = trainer.started_clock_s + score.onset_s + score.took_s
                    previous_done_s = max(previous_done_s, done_s)
                index += 1
                next_try_s = 0.0
                continue
            now_s = trainer.clock.now()
            act_s = self._act_at(plan.expect[index], score, previous_done_s)
            if act_s is None or now_s < max(act_s, next_try_s):
                continue
            if not self._ready(plan.expect[index]):
                continue  # as a team would: not before it can be done
            accepted = await self._respond(plan.expect[index])
            retry_s = max(1.0, plan.reaction_s)
            next_try_s = now_s + (plan.expect[index].within_s if accepted else retry_s)

    def _act_at(
        self, response: ExpectedResponse, score: ResponseScore, previous_done_s: float
    ) -> float | None:
        """The clock time to act on `response` (None: not yet known)."""
        trainer = self._trainer
        if score.onset_s is None:
            return None
        onset_s = trainer.started_clock_s + score.onset_s
        reaction_s = trainer.plan.reaction_s
        if response.kind is K.ACKNOWLEDGE and not self._alarm_raised(response.target):
            return None
        if response.by_team or response.kind in ONLY_BY_PEOPLE:
            return max(onset_s, previous_done_s) + reaction_s
        return onset_s + max(0.0, response.within_s - reaction_s)

    def _ready(self, response: ExpectedResponse) -> bool:
        """Whether `response` can be given now (the console would refuse it otherwise)."""
        station = self._trainer.station
        state = station.countdown.state
        if response.kind is K.RESUME:
            return (
                state is CountState.HOLDING
                and station.countdown.status.resumable
                and not (station.stale_plcs())
            )
        if response.kind is K.RECYCLE:
            return state is CountState.HOLDING
        if response.kind is K.SCRUB:
            return state in (CountState.COUNTING, CountState.HOLDING)
        subsystem_name, _, command = response.target.partition(".")
        subsystem = station.subsystems.get(subsystem_name)
        if subsystem is None or subsystem.busy:
            return subsystem is None
        if response.kind is K.RESET:
            return subsystem.machine_state == FAULT
        if response.kind is K.COMMAND:
            return subsystem.accepts_from_state(command)
        return True

    def _alarm_raised(self, alarm_id: str) -> bool:
        view = self._trainer.station.alarms.get(alarm_id)
        return view.state.value in ("UNACK", "RTN_UNACK")

    async def _acknowledge_alarms(self) -> None:
        """Every alarm waiting for acknowledgement, after the reaction time (but those whose
        acknowledgement is an expected response left out with `skip`)."""
        trainer = self._trainer
        skipped = {
            trainer.plan.expect[i].target
            for i in self._skip
            if trainer.plan.expect[i].kind is K.ACKNOWLEDGE
        }
        now_s = trainer.clock.now()
        for view in trainer.station.alarms.annunciated():
            waiting = view.state.value in ("UNACK", "RTN_UNACK")
            if (
                waiting
                and view.id not in skipped
                and now_s >= view.since_s + trainer.plan.reaction_s
            ):
                subsystem = view.id.split("-", 1)[0].lower()
                await self._do(
                    self._operator(subsystem), "alarm.acknowledge", {"alarm_id": view.id}
                )

    async def _answer_built_in_poll(self) -> None:
        countdown = self._trainer.station.countdown
        poll = countdown.status.poll
        if (
            countdown.state is not CountState.HOLDING
            or countdown.status.hold_id is None
            or poll is None
        ):
            return
        await self._poll_go()

    async def _poll_go(self) -> None:
        poll = self._trainer.station.countdown.status.poll
        if poll is None:
            return
        for position in poll.missing:
            member = next((m for m in self._team if position in m.positions), None)
            if member is not None:
                await self._do(member, "count.poll", {"position": position, "go": True})

    # ---- the responses ----------------------------------------------------------------------
    async def _respond(self, response: ExpectedResponse) -> bool:
        kind, target = response.kind, response.target
        reason = f"autopilot: answering {response.after}"
        conductor = self._conductor
        if kind is K.HOLD:
            return await self._do(conductor, "count.hold", {"reason": reason})
        if kind is K.CUTOFF:
            return await self._do(conductor, "count.abort", {"reason": reason})
        if kind is K.SCRUB:
            return await self._do(conductor, "count.scrub", {"reason": reason})
        if kind is K.RECYCLE:
            return await self._do(conductor, "count.recycle", {"point": target})
        if kind is K.RESUME:
            await self._poll_go()
            # A faulted step is a decision, never a silent skip: the autopilot retries it.
            faulted = self._trainer.station.countdown.faulted_steps
            decision = {"step": "retry", "reason": reason} if faulted else {}
            return await self._do(conductor, "count.resume", decision)
        if kind is K.ACKNOWLEDGE:
            subsystem = subsystem_of_alarm(target, list(self._trainer.station.subsystems)) or ""
            member = self._operator(subsystem)
            return await self._do(member, "alarm.acknowledge", {"alarm_id": target, "note": reason})
        subsystem, _, name = target.partition(".")
        member = self._operator(subsystem)
        if member.role == "subsystem_operator":
            await self._do(member, "authority.take", {"subsystem": subsystem})
        if kind is K.SAFE:
            return await self._do(
                member, "subsystem.safe", {"subsystem": subsystem, "reason": reason}
            )
        if kind is K.RESET:
            if not self._trainer.station.subsystems[subsystem].safed:  # prove it safe first
                await self._do(member, "subsystem.safe", {"subsystem": subsystem, "reason": reason})
            return await self._do(member, "subsystem.reset", {"subsystem": subsystem})
        if self._trainer.station.subsystems[subsystem].mode is Mode.AUTO:
            await self._do(member, "subsystem.mode", {"subsystem": subsystem, "mode": "MANUAL"})
        return await self._do(member, "subsystem.command", {"subsystem": subsystem, "name": name})

    async def _do(self, member: TeamMember, command: str, args: dict[str, Any]) -> bool:
        """One command as `member` gives it (arm and confirm when asked); whether accepted."""
        answer = await self._send(member.name, command, args)
        if answer.get("type") == "armed":
            confirmer = self._safety if answer.get("second_person") else member
            if confirmer.name == member.name and answer.get("second_person"):
                confirmer = self._conductor
            answer = await self._send(confirmer.name, "arm.confirm", {"arm_id": answer["arm_id"]})
        accepted = answer.get("type") == "accepted"
        if not accepted:
            log.info("autopilot_refused", member=member.name, command=command, answer=answer)
        return accepted
