"""Fault proxy commands, one per line (the CLI reads them on standard input).

latency MS [JITTER_MS]          both directions
latency to-server MS [JITTER]   one direction (or to-client)
jitter MS                       both directions
stall | resume                  freeze connections / let them flow
freeze                          freeze the open connections only
reset                           TCP reset of every open connection
refuse | accept                 reset new connections / accept them
corrupt FRACTION [KIND ...]     of Modbus replies; kinds: pdu function
                                count short data length tid tid0
corrupt off
duplicate MS [FRACTION]         replies sent again MS later
duplicate off
clear                           every fault off
status                          print the status line
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hil._proxy_faults import ALL_CORRUPTIONS, FaultSettingError
from hil._proxy_mbap import CorruptionKind

if TYPE_CHECKING:
    from hil.proxy import FaultProxy

COMMAND_HELP = __doc__ or ""


class ProxyCommandError(ValueError):
    """A proxy command that cannot be understood or applied; the message says why."""


@dataclass(frozen=True)
class ProxyCommand:
    """One parsed command: `apply` plays it on a running proxy."""

    text: str
    action: Callable[[FaultProxy], Awaitable[None]]

    async def apply(self, proxy: FaultProxy) -> None:
        try:
            await self.action(proxy)
        except FaultSettingError as error:
            raise ProxyCommandError(f"'{self.text}': {error}") from None


def _number(text: str, what: str, command: str, *, high: float = math.inf) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ProxyCommandError(f"'{command}': {what} {text!r} is not a number") from None
    if not math.isfinite(value) or not 0 <= value <= high:
        bound = f" and at most {high:g}" if math.isfinite(high) else ""
        raise ProxyCommandError(f"'{command}': {what} must be >= 0{bound}, got {text}")
    return value


def parse_command(text: str) -> ProxyCommand:
    """Parse one command line; ProxyCommandError naming what is wrong."""
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise ProxyCommandError(f"'{text}': {error}") from None
    if not words:
        raise ProxyCommandError("empty command")
    verb, args = words[0].lower(), words[1:]
    parser = _PARSERS.get(verb)
    if parser is None:
        raise ProxyCommandError(f"unknown command {words[0]!r} (known: {', '.join(_PARSERS)})")
    return ProxyCommand(text=text.strip(), action=parser(args, text.strip()))


Action = Callable[["FaultProxy"], Awaitable[None]]


def _settings(**changes: object) -> Action:
    async def action(proxy: FaultProxy) -> None:
        proxy.set_faults(**changes)

    return action


def _arity(args: list[str], command: str, low: int, high: int, usage: str) -> None:
    if not low <= len(args) <= high:
        raise ProxyCommandError(f"'{command}': expected '{usage}'")


def _latency(args: list[str], command: str) -> Action:
    usage = "latency [to-server|to-client] MS [JITTER_MS]"
    directions: tuple[str, ...] = ("to_server", "to_client")
    if args and args[0].lower() in ("to-server", "to-client"):
        directions = (args[0].lower().replace("-", "_"),)
        args = args[1:]
    _arity(args, command, 1, 2, usage)
    latency_ms = _number(args[0], "latency", command)
    changes: dict[str, object] = {f"latency_{d}_ms": latency_ms for d in directions}
    if len(args) == 2:
        jitter_ms = _number(args[1], "jitter", command)
        changes.update({f"jitter_{d}_ms": jitter_ms for d in directions})
    return _settings(**changes)


def _jitter(args: list[str], command: str) -> Action:
    _arity(args, command, 1, 1, "jitter MS")
    jitter_ms = _number(args[0], "jitter", command)
    return _settings(jitter_to_server_ms=jitter_ms, jitter_to_client_ms=jitter_ms)


def _flag(name: str, value: bool) -> Callable[[list[str], str], Action]:
    def parse(args: list[str], command: str) -> Action:
        _arity(args, command, 0, 0, command.split()[0])
        return _settings(**{name: value})

    return parse


def _reset(args: list[str], command: str) -> Action:
    _arity(args, command, 0, 0, "reset")

    async def action(proxy: FaultProxy) -> None:
        await proxy.reset()

    return action


def _corrupt(args: list[str], command: str) -> Action:
    _arity(args, command, 1, 1 + len(CorruptionKind), "corrupt FRACTION [KIND ...] | corrupt off")
    if args[0].lower() == "off":
        _arity(args, command, 1, 1, "corrupt off")
        return _settings(corrupt_fraction=0.0)
    fraction = _number(args[0], "fraction", command, high=1.0)
    try:
        kinds = tuple(CorruptionKind.parse(word) for word in args[1:]) or ALL_CORRUPTIONS
    except ValueError as error:
        raise ProxyCommandError(f"'{command}': {error}") from None
    return _settings(corrupt_fraction=fraction, corrupt_kinds=kinds)


def _duplicate(args: list[str], command: str) -> Action:
    _arity(args, command, 1, 2, "duplicate MS [FRACTION] | duplicate off")
    if args[0].lower() == "off":
        _arity(args, command, 1, 1, "duplicate off")
        return _settings(duplicate_after_ms=0.0)
    after_ms = _number(args[0], "delay", command)
    if after_ms == 0:
        raise ProxyCommandError(f"'{command}': a duplicate needs a delay above 0 ms (or 'off')")
    fraction = _number(args[1], "fraction", command, high=1.0) if len(args) == 2 else 1.0
    return _settings(duplicate_after_ms=after_ms, duplicate_fraction=fraction)


def _freeze(args: list[str], command: str) -> Action:
    _arity(args, command, 0, 0, "freeze")

    async def action(proxy: FaultProxy) -> None:
        proxy.freeze()

    return action


def _resume(args: list[str], command: str) -> Action:
    _arity(args, command, 0, 0, "resume")

    async def action(proxy: FaultProxy) -> None:
        proxy.resume()

    return action


def _clear(args: list[str], command: str) -> Action:
    _arity(args, command, 0, 0, "clear")

    async def action(proxy: FaultProxy) -> None:
        proxy.clear()

    return action


def _status(args: list[str], command: str) -> Action:
    _arity(args, command, 0, 0, "status")

    async def action(proxy: FaultProxy) -> None:
        return None

    return action


_PARSERS: dict[str, Callable[[list[str], str], Action]] = {
    "latency": _latency,
    "jitter": _jitter,
    "stall": _flag("stalled", True),
    "resume": _resume,
    "freeze": _freeze,
    "reset": _reset,
    "refuse": _flag("refusing", True),
    "accept": _flag("refusing", False),
    "corrupt": _corrupt,
    "duplicate": _duplicate,
    "clear": _clear,
    "status": _status,
}
