"""The console's HTTP guard: only the host names it is served under, and headers that keep its
pages from being framed, sniffed or fed scripts from elsewhere."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")  # IPv6 as Host carries it: bracketed
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


# Over TLS: browsers that have seen the console once refuse it over plain HTTP for a year.
STRICT_TRANSPORT_SECURITY = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response (and HSTS when served over TLS)."""

    def __init__(self, app: ASGIApp, *, tls: bool = False) -> None:
        self.app = app
        self.headers = [*SECURITY_HEADERS, *([STRICT_TRANSPORT_SECURITY] if tls else [])]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def served_hosts(bind_host: str, names: Iterable[str] = ()) -> tuple[str, ...]:
    """The Host names to accept for a server bound to `bind_host`: the loopback names, the
    bound address itself (not a wildcard), and `names` (how consoles elsewhere reach it)."""
    hosts = [*LOOPBACK_HOSTS]
    if bind_host not in WILDCARD_HOSTS:
        hosts.append(f"[{bind_host}]" if ":" in bind_host else bind_host)
    hosts.extend(names)
    return tuple(dict.fromkeys(hosts))


def guard_middleware(allowed_hosts: Iterable[str], *, tls: bool = False) -> list[Middleware]:
    """A request (HTTP or WebSocket) whose Host header is none of `allowed_hosts` is refused
    (400): a page from another site that rebinds its name to this address reaches nothing.
    Every response carries the security headers (HSTS too with `tls`)."""
    return [
        Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
        Middleware(SecurityHeaders, tls=tls),
    ]


MAX_BODY_BYTES = 16 * 1024  # a login or an injected fault is a few hundred bytes


async def json_body(request: Request) -> dict[str, Any] | None:
    """The request's JSON object; None if it is not one, or is over MAX_BODY_BYTES (the
    rest is never read)."""
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > MAX_BODY_BYTES:
            return None
    try:
        body = json.loads(received)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
