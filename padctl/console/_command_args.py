"""The arguments of the console commands: each checked, with an error naming what was wrong."""

from __future__ import annotations

from typing import Any

from padctl.console._catalogue import Arg, BadRequest, text, text_value
from padctl.console._rows import SEVERITIES as SEVERITY_NAMES
from padctl.countdown import STEP_CHOICES
from padctl.subsystems import Mode


def _subsystem(args: dict[str, Any], subsystems: tuple[str, ...]) -> str:
    name = text_value(args, "subsystem", required=True)
    if name not in subsystems:
        raise BadRequest(f"no subsystem {name!r} (known: {', '.join(subsystems)})")
    return name


SUBSYSTEM = Arg("subsystem", _subsystem, "`subsystem`")


def reason(command: str) -> Arg:
    return text("reason", "`reason`", default=f"{command} from a console")


def _go(args: dict[str, Any], _subsystems: tuple[str, ...]) -> bool:
    if not isinstance(args.get("go"), bool):
        raise BadRequest("argument 'go' must be true (GO) or false (NO-GO)")
    return bool(args["go"])


def _mode(args: dict[str, Any], _subsystems: tuple[str, ...]) -> str:
    mode = text_value(args, "mode", required=True).upper()
    if mode not in {m.value for m in Mode}:
        raise BadRequest(f"mode {mode!r} is not one of {', '.join(m.value for m in Mode)}")
    return mode


def _kinds(args: dict[str, Any], _subsystems: tuple[str, ...]) -> tuple[str, ...]:
    kinds = args.get("kinds") or []
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise BadRequest("argument 'kinds' must be a list of journal kinds")
    return tuple(kinds)


def _severities(args: dict[str, Any], _subsystems: tuple[str, ...]) -> tuple[str, ...]:
    severities = args.get("severities") or []
    if not isinstance(severities, list) or not all(s in SEVERITY_NAMES for s in severities):
        raise BadRequest(f"argument 'severities' must be a list of {', '.join(SEVERITY_NAMES)}")
    return tuple(severities)


def _fold_sessions(args: dict[str, Any], _subsystems: tuple[str, ...]) -> bool:
    fold = args.get("fold_sessions", False)
    if not isinstance(fold, bool):
        raise BadRequest("argument 'fold_sessions' must be true or false")
    return fold


def _limit(args: dict[str, Any], _subsystems: tuple[str, ...]) -> int:
    limit = args.get("limit", 100)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500:
        raise BadRequest("argument 'limit' must be a whole number from 1 to 500")
    return limit


def _before_id(args: dict[str, Any], _subsystems: tuple[str, ...]) -> int | None:
    before_id = args.get("before_id")
    if before_id is not None and (
        isinstance(before_id, bool) or not isinstance(before_id, int) or before_id < 1
    ):
        raise BadRequest("argument 'before_id' must be a row id (a whole number above 0)")
    return before_id


ARM_ID = text("arm_id", "`arm_id`", required=True)


def _step_choice(args: dict[str, Any], _subsystems: tuple[str, ...]) -> str | None:
    choice = args.get("step")
    if choice is None:
        return None
    if choice not in STEP_CHOICES:
        raise BadRequest(
            f"argument 'step' must be one of {', '.join(STEP_CHOICES)}, not {choice!r}"
        )
    return str(choice)


STEP_CHOICE = Arg(
    "step",
    _step_choice,
    "`step` (`retry` or `skip`, after a faulted step; with `reason`)",
)


GO = Arg("go", _go, "`go` (bool)")
MODE = Arg("mode", _mode, "`mode` (`AUTO`, `MANUAL`, `OUT_OF_SERVICE`)")
KINDS = Arg("kinds", _kinds, "`kinds` (list)")
BEFORE_ID = Arg("before_id", _before_id, "`before_id`")
SEVERITIES = Arg("severities", _severities, "`severities` (list of `info`, `warning`, `critical`)")
LIMIT = Arg("limit", _limit, "`limit` (1-500, default 100)")
FOLD_SESSIONS = Arg("fold_sessions", _fold_sessions, "`fold_sessions` (bool) — all optional")
