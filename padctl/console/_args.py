"""Command messages from consoles: the envelope, checked against the command catalogue (each
command's arguments are checked by its catalogue entry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from padctl.console._catalogue import BadRequest, Catalogue

MAX_REQUEST_ID = 64


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


def parse_request(message: object, catalogue: Catalogue) -> Request:
    """The request in a console's message; BadRequest naming what is wrong."""
    if not isinstance(message, dict):
        raise BadRequest("a message must be a JSON object")
    request_id = message.get("request_id")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_REQUEST_ID:
        raise BadRequest(f"request_id must be a string of 1-{MAX_REQUEST_ID} characters")
    if message.get("type") != "command":
        raise RequestError(request_id, f"unknown message type {message.get('type')!r}")
    command = message.get("command")
    if not isinstance(command, str) or command not in catalogue:
        known = ", ".join(catalogue.names())
        raise RequestError(request_id, f"unknown command {command!r} (known: {known})")
    args = message.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise RequestError(request_id, "args must be a JSON object")
    return Request(request_id, command, args)
