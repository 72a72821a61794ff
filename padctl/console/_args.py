"""Command messages from consoles: the envelope and each command's arguments, checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from padctl.console._authority import PERMISSIONS
from padctl.subsystems import Mode

MAX_REQUEST_ID = 64
MAX_TEXT = 500
MAX_SHELVE_S = 8 * 3600.0


class BadRequest(Exception):
    """A message or argument that cannot be used; the message says which and why."""


class RequestError(BadRequest):
    """A bad request whose request_id is known, so the answer can name it."""

    def __init__(self, request_id: str, reason: str) -> None:
        self.request_id = request_id
        super().__init__(reason)


@dataclass(frozen=True)
class Request:
    request_id: str | None
    command: str
    args: dict[str, Any]


def parse_request(message: object) -> Request:
    """The request in a console's message; BadRequest naming what is wrong."""
    if not isinstance(message, dict):
        raise BadRequest("a message must be a JSON object")
    request_id = message.get("request_id")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_REQUEST_ID:
        raise BadRequest(f"request_id must be a string of 1-{MAX_REQUEST_ID} characters")
    if message.get("type") != "command":
        raise RequestError(request_id, f"unknown message type {message.get('type')!r}")
    command = message.get("command")
    if not isinstance(command, str) or command not in PERMISSIONS:
        known = ", ".join(PERMISSIONS)
        raise RequestError(request_id, f"unknown command {command!r} (known: {known})")
    args = message.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise RequestError(request_id, "args must be a JSON object")
    return Request(request_id, command, args)


def _text(args: dict[str, Any], key: str, *, required: bool = False, default: str = "") -> str:
    value = args.get(key, None)
    if value is None:
        if required:
            raise BadRequest(f"argument {key!r} is required")
        return default
    if not isinstance(value, str):
        raise BadRequest(f"argument {key!r} must be a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise BadRequest(f"argument {key!r} is longer than {MAX_TEXT} characters")
    if required and not value.strip():
        raise BadRequest(f"argument {key!r} must not be empty")
    return value.strip()


def check_args(command: str, args: dict[str, Any], subsystems: tuple[str, ...]) -> dict[str, Any]:
    """The arguments of `command`, checked and normalised; BadRequest naming the bad one."""
    checked: dict[str, Any] = {}
    if command.startswith("subsystem.") or command.startswith("authority."):
        name = _text(args, "subsystem", required=True)
        if name not in subsystems:
            raise BadRequest(f"no subsystem {name!r} (known: {', '.join(subsystems)})")
        checked["subsystem"] = name
    if command in ("count.hold", "count.abort", "count.scrub", "subsystem.safe"):
        checked["reason"] = _text(args, "reason", default=f"{command} from a console")
    if command == "count.recycle":
        checked["point"] = _text(args, "point", required=True)
    elif command == "count.poll":
        checked["position"] = _text(args, "position", required=True)
        if not isinstance(args.get("go"), bool):
            raise BadRequest("argument 'go' must be true (GO) or false (NO-GO)")
        checked["go"] = args["go"]
    elif command == "subsystem.command":
        checked["name"] = _text(args, "name", required=True)
    elif command == "subsystem.mode":
        mode = _text(args, "mode", required=True).upper()
        if mode not in {m.value for m in Mode}:
            raise BadRequest(f"mode {mode!r} is not one of {', '.join(m.value for m in Mode)}")
        checked["mode"] = mode
    elif command.startswith("alarm."):
        checked["alarm_id"] = _text(args, "alarm_id", required=True)
        checked["note"] = _text(args, "note", required=command == "alarm.shelve")
        if command == "alarm.shelve":
            duration = args.get("duration_s")
            if isinstance(duration, bool) or not isinstance(duration, int | float):
                raise BadRequest("argument 'duration_s' must be a number of seconds")
            if not 0 < duration <= MAX_SHELVE_S:
                raise BadRequest(f"duration_s must be above 0 and at most {MAX_SHELVE_S:g} s")
            checked["duration_s"] = float(duration)
    elif command in ("arm.confirm", "arm.cancel"):
        checked["arm_id"] = _text(args, "arm_id", required=True)
    elif command == "sim.inject":
        checked["fault"] = _text(args, "fault", required=True)
    elif command == "journal.query":
        checked.update(_journal_args(args))
    return checked


def _journal_args(args: dict[str, Any]) -> dict[str, Any]:
    kinds = args.get("kinds") or []
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise BadRequest("argument 'kinds' must be a list of journal kinds")
    limit = args.get("limit", 100)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500:
        raise BadRequest("argument 'limit' must be a whole number from 1 to 500")
    before_id = args.get("before_id")
    if before_id is not None and (
        isinstance(before_id, bool) or not isinstance(before_id, int) or before_id < 1
    ):
        raise BadRequest("argument 'before_id' must be a row id (a whole number above 0)")
    return {
        "kinds": tuple(kinds),
        "actor": _text(args, "actor"),
        "text": _text(args, "text"),
        "before_id": before_id,
        "limit": limit,
    }
