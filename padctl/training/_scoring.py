"""Scoring a training run from its journal: each expected response, and what else was done.

Everything is read from the journal, the audit record of the run: the trainer's own rows
(`training_started`, `training_fault`, `training_jump`, ...), the countdown's state changes,
the subsystems' commands, safing and resets, the alarms, and every console command with
who gave it and whether it was refused. Times are clock seconds (a paused simulation adds
none). After a jump to a checkpoint, the last attempt is the one scored.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from padctl.journal import JournalEntry
from padctl.training._plan import TEAM_ONLY, ExpectedResponse, ResponseKind, TrainingPlan

K = ResponseKind
# Actors that are padctl itself, never a person at a console.
MACHINE_ACTORS = frozenset({"countdown", "padctl", "console", "trainer", "instructor"})
# Console commands that change the pad or the count (the others are routine: authority,
# alarms, polls, arming, queries).
ACTING_COMMANDS = {
    "count.hold": K.HOLD,
    "count.abort": K.CUTOFF,
    "count.recycle": K.RECYCLE,
    "count.resume": K.RESUME,
    "count.scrub": K.SCRUB,
    "subsystem.command": K.COMMAND,
    "subsystem.safe": K.SAFE,
    "subsystem.reset": K.RESET,
    "subsystem.mode": None,
}
_COMMAND_OF = {kind: command for command, kind in ACTING_COMMANDS.items() if kind is not None}
REQUEST_SLACK_S = 60.0  # clock seconds between a count's change and its command's row, at least
WRONG_AUTHORITY = frozenset({"no_authority", "forbidden"})


class Status(enum.StrEnum):
    DONE = "done"  # in time
    LATE = "late"  # done, after its time
    MISSED = "missed"  # not done, and its time is over
    PENDING = "pending"  # not done yet, its time not over (a run still going)
    NOT_REACHED = "not reached"  # its fault (or alarm) never came


@dataclass(frozen=True)
class ResponseScore:
    response: ExpectedResponse
    status: Status
    onset_s: float | None  # clock seconds after the run's start (fault, or alarm)
    took_s: float | None  # clock seconds from the onset to the response
    by: str = ""
    detail: str = ""

    @property
    def decided(self) -> bool:
        return self.status is not Status.PENDING


@dataclass(frozen=True)
class Note:
    """Something the team did (or left undone) that no expected response covers."""

    at_s: float  # clock seconds after the run's start
    actor: str
    text: str


@dataclass(frozen=True)
class RunScore:
    scenario: str
    start_clock_s: float
    end_clock_s: float
    responses: tuple[ResponseScore, ...]
    extra: tuple[Note, ...] = ()
    wrong_authority: tuple[Note, ...] = ()
    refused: tuple[Note, ...] = ()
    ignored_alarms: tuple[Note, ...] = ()
    attempts: int = 1
    team: tuple[str, ...] = ()
    onsets: dict[str, float] = field(default_factory=dict)  # fault id -> s after the start

    @property
    def done(self) -> int:
        return sum(1 for score in self.responses if score.status is Status.DONE)

    @property
    def all_done(self) -> bool:
        return all(score.status is Status.DONE for score in self.responses)

    @property
    def all_decided(self) -> bool:
        return all(score.decided for score in self.responses)

    @property
    def duration_s(self) -> float:
        return self.end_clock_s - self.start_clock_s


@dataclass(frozen=True)
class _Row:
    id: int
    t_s: float
    kind: str
    actor: str
    payload: dict[str, Any]


# The journal kinds scoring reads (a run journals many more: plant writes, transitions).
SCORED_KINDS = (
    "training_started",
    "training_fault",
    "training_jump",
    "training_ended",
    "countdown_state",
    "console_accepted",
    "console_refused",
    "console_armed",
    "alarm_activated",
    "alarm_acknowledged",
    "alarm_shelved",
    "safe_requested",
    "fault_reset",
    "command_accepted",
)


class ScoredRows:
    """The journal rows scoring reads, decoded once and kept as the journal grows."""

    def __init__(self) -> None:
        self.rows: list[_Row] = []

    @property
    def last_id(self) -> int:
        return self.rows[-1].id if self.rows else 0

    def extend(self, entries: Iterable[JournalEntry]) -> None:
        self.rows += [
            _Row(e.id, e.t_clock_s, e.kind, e.actor, e.payload)
            for e in entries
            if e.kind in SCORED_KINDS
        ]


def score_run(
    plan: TrainingPlan, entries: Iterable[JournalEntry], *, now_clock_s: float | None = None
) -> RunScore:
    """Score the run in `entries` (the journal); `now_clock_s` for a run still going."""
    kept = ScoredRows()
    kept.extend(entries)
    return score_rows(plan, kept, now_clock_s=now_clock_s)


def score_rows(
    plan: TrainingPlan, kept: ScoredRows, *, now_clock_s: float | None = None
) -> RunScore:
    """Score the run in `kept` (see `score_run`)."""
    rows = kept.rows
    starts = [row for row in rows if row.kind == "training_started"]
    if not starts:
        raise ValueError("the journal holds no training run (no training_started row)")
    start_s = starts[-1].t_s
    rows = [row for row in rows if row.id >= starts[-1].id]
    jumps = [row for row in rows if row.kind == "training_jump"]
    attempt = [row for row in rows if not jumps or row.id > jumps[-1].id]
    ended = [row for row in rows if row.kind == "training_ended"]
    end_s = ended[-1].t_s if ended else (now_clock_s if now_clock_s is not None else rows[-1].t_s)
    running = not ended
    instructors = {
        row.actor for row in rows if str(row.payload.get("command", "")).startswith("train.")
    }
    people = _people(rows, instructors)
    # A console command is journaled up to a second of wall time after it acted.
    slack_s = max(REQUEST_SLACK_S, 2.0 * plan.rate)
    onsets: dict[str, float] = {}
    for row in attempt:
        if row.kind == "training_fault":
            onsets.setdefault(str(row.payload.get("id")), row.t_s)
    scores = [
        _score(response, attempt, onsets, people, instructors, end_s, running, slack_s)
        for response in plan.expect
    ]
    extra, wrong, refused = _commands(plan, rows, people, start_s)
    return RunScore(
        scenario=plan.name,
        start_clock_s=start_s,
        end_clock_s=end_s,
        responses=tuple(
            ResponseScore(
                s.response,
                s.status,
                None if s.onset_s is None else s.onset_s - start_s,
                s.took_s,
                s.by,
                s.detail,
            )
            for s in scores
        ),
        extra=tuple(extra),
        wrong_authority=tuple(wrong),
        refused=tuple(refused),
        ignored_alarms=tuple(_ignored_alarms(rows, start_s, people)),
        attempts=len(jumps) + 1,
        team=tuple(sorted(people)),
        onsets={fault_id: t_s - start_s for fault_id, t_s in onsets.items()},
    )


def _people(rows: Sequence[_Row], instructors: set[str]) -> set[str]:
    """Who acted from a console (and is not the instructor)."""
    found = set()
    for row in rows:
        if row.kind.startswith("console_") and row.kind != "console_login_failed":
            for name in row.actor.split("+"):
                if name not in MACHINE_ACTORS and name not in instructors:
                    found.add(name)
    return found


def _is_person(actor: str, people: set[str]) -> bool:
    return any(name in people for name in actor.split("+"))


def _score(
    response: ExpectedResponse,
    rows: Sequence[_Row],
    onsets: dict[str, float],
    people: set[str],
    instructors: set[str],
    end_s: float,
    running: bool,
    slack_s: float,
) -> ResponseScore:
    onset_s = onsets.get(response.after)
    if onset_s is None:
        status = Status.PENDING if running else Status.NOT_REACHED
        return ResponseScore(
            response, status, None, None, detail=f"fault {response.after} never came"
        )
    after = [row for row in rows if row.t_s >= onset_s]
    if response.kind is K.ACKNOWLEDGE:
        raised = next(
            (
                r
                for r in after
                if r.kind == "alarm_activated" and r.payload.get("alarm") == response.target
            ),
            None,
        )
        if raised is None:
            # The window counts from the alarm, however long after the fault it came (a
            # feedback timeout and the polls that prove it come first): wait for it while
            # the run goes on.
            status = Status.PENDING if running else Status.NOT_REACHED
            return ResponseScore(response, status, onset_s, None, detail="the alarm never came")
        onset_s = raised.t_s
        after = [row for row in after if row.id > raised.id]
    found = _find(response, after, people, instructors, slack_s)
    if found is not None:
        took_s = found[0] - onset_s
        status = Status.DONE if took_s <= response.within_s else Status.LATE
        return ResponseScore(response, status, onset_s, took_s, found[1], found[2])
    over = end_s >= onset_s + response.within_s
    status = Status.MISSED if over or not running else Status.PENDING
    return ResponseScore(response, status, onset_s, None)


def _find(
    response: ExpectedResponse,
    rows: Sequence[_Row],
    people: set[str],
    instructors: set[str],
    slack_s: float,
) -> tuple[float, str, str] | None:
    """(clock s, who, what) of the first row that carries out `response`."""
    kind, target = response.kind, response.target.casefold()
    for row in rows:
        payload = row.payload
        if row.kind == "countdown_state" and kind not in TEAM_ONLY:
            trigger, reason = payload.get("trigger"), str(payload.get("reason", ""))
            if kind is K.RECYCLE:
                found = trigger == "hold" and reason.casefold().startswith(f"recycled to {target}")
            else:
                found = (
                    trigger == kind.value
                    and (kind is not K.HOLD or _counts_as_hold(reason, instructors))
                    and target in reason.casefold()
                )
            if found:
                who = _requested_by(rows, row, kind, reason, slack_s)
                if not response.by_team or _is_person(who, people):
                    return row.t_s, who, reason
        elif kind is K.ACKNOWLEDGE and row.kind in ("alarm_acknowledged", "alarm_shelved"):
            if payload.get("alarm") == response.target and _is_person(row.actor, people):
                return row.t_s, row.actor, row.kind.removeprefix("alarm_")
        elif kind is K.SAFE and row.kind == "safe_requested":
            if payload.get("subsystem") == response.target and _is_person(row.actor, people):
                return row.t_s, row.actor, str(payload.get("reason", ""))
        elif kind is K.RESET and row.kind == "fault_reset":
            if payload.get("subsystem") == response.target and _is_person(row.actor, people):
                return row.t_s, row.actor, str(payload.get("fault", ""))
        elif kind is K.COMMAND and row.kind == "command_accepted":
            given = f"{payload.get('subsystem')}.{payload.get('command')}"
            if given == response.target and _is_person(row.actor, people):
                return row.t_s, row.actor, given
    return None


def _counts_as_hold(reason: str, instructors: set[str]) -> bool:
    """A hold the team (or the countdown) made: not a recycle's, a cutoff's or the instructor's."""
    if reason.startswith(("recycled to", "recycle to", "cutoff:")):
        return False
    return not any(f"(by {name})" in reason for name in {"instructor", *instructors})


def _requested_by(
    rows: Sequence[_Row], state: _Row, kind: ResponseKind, reason: str, slack_s: float
) -> str:
    """Who asked for a count state change: the console command's actor, or the countdown."""
    if reason.endswith(")") and "(by " in reason:
        return reason.rsplit("(by ", 1)[1].rstrip(")")
    if reason.startswith("abort by "):
        return reason.removeprefix("abort by ").split(":", 1)[0]
    command = _COMMAND_OF.get(kind)
    # A console command is journaled when armed, and once done (just after the change) or
    # after a second of wall time still `running` (a recycle: long before its hold).
    before_s = state.t_s if kind is K.RECYCLE else slack_s
    for row in rows:
        if (
            row.kind in ("console_accepted", "console_armed")
            and row.payload.get("command") == command
            and -before_s <= row.t_s - state.t_s <= slack_s
        ):
            return row.actor
    return "countdown"


def _commands(
    plan: TrainingPlan, rows: Sequence[_Row], people: set[str], start_s: float
) -> tuple[list[Note], list[Note], list[Note]]:
    expected = {(r.kind, r.target) for r in plan.expect}
    kinds = {r.kind for r in plan.expect}
    handled = {r.target.partition(".")[0] for r in plan.expect if r.kind in TEAM_ONLY}
    extra: list[Note] = []
    wrong: list[Note] = []
    refused: list[Note] = []
    for row in rows:
        if not _is_person(row.actor, people):
            continue
        payload = row.payload
        command = str(payload.get("command", ""))
        args = payload.get("args", {})
        at_s = row.t_s - start_s
        if row.kind == "console_refused":
            text = f"{command} refused ({payload.get('code')}): {payload.get('reason')}"
            note = Note(at_s, row.actor, text)
            (wrong if payload.get("code") in WRONG_AUTHORITY else refused).append(note)
            continue
        if row.kind != "console_accepted" or command not in ACTING_COMMANDS:
            continue
        kind = ACTING_COMMANDS[command]
        subsystem = str(args.get("subsystem", ""))
        if kind is None:
            if subsystem not in handled:
                extra.append(Note(at_s, row.actor, f"{command} {subsystem} {args.get('mode')}"))
            continue
        target = {
            K.RECYCLE: str(args.get("point", "")),
            K.COMMAND: f"{subsystem}.{args.get('name')}",
            K.SAFE: subsystem,
            K.RESET: subsystem,
        }.get(kind, "")
        if (kind, target) in expected or (not target and kind in kinds):
            continue
        detail = target or str(args.get("reason", ""))
        extra.append(Note(at_s, row.actor, f"{command} {detail}".strip()))
    return extra, wrong, refused


def _ignored_alarms(rows: Sequence[_Row], start_s: float, people: set[str]) -> list[Note]:
    ignored = []
    for index, row in enumerate(rows):
        if row.kind != "alarm_activated":
            continue
        alarm = row.payload.get("alarm")
        answered = any(
            later.kind in ("alarm_acknowledged", "alarm_shelved")
            and later.payload.get("alarm") == alarm
            and _is_person(later.actor, people)
            for later in rows[index + 1 :]
        )
        if not answered:
            text = f"{alarm} ({row.payload.get('priority')}) never acknowledged"
            ignored.append(Note(row.t_s - start_s, "", text))
    return ignored
