"""`padctl serve --from-mqtt URL`: the remote console, fed only from the pad's Sparkplug B
edge node through a broker (no PLC connection, nothing commanded)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import typer

from padctl.console import ConsoleSource, ReadOnlyHandle
from padctl.countdown import CountdownSequence, Criterion
from padctl.definition import PadDefinition
from padctl.sparkplug import (
    READ_ONLY_REASON,
    BrokerAddress,
    MqttUrlError,
    RemoteStation,
    parse_mqtt_url,
)


def remote_broker_or_exit(
    url: str | None, *, station_options: dict[str, object]
) -> BrokerAddress | None:
    """The broker of `--from-mqtt URL` (None without it). Exit 2 if the URL is bad, or if an
    option that needs the pad's own station (named in `station_options` with its value; set
    when not None or False) comes with it."""
    if url is None:
        return None
    clashing = [name for name, value in station_options.items() if value not in (None, False)]
    if clashing:
        typer.echo(
            f"padctl serve: --from-mqtt serves a read-only console fed from Sparkplug, with no "
            f"station of its own: it does not take {', '.join(clashing)}",
            err=True,
        )
        raise typer.Exit(2)
    try:
        return parse_mqtt_url(url)
    except MqttUrlError as error:
        typer.echo(f"padctl serve: --from-mqtt: {error}", err=True)
        raise typer.Exit(2) from None


def remote_source(
    broker: BrokerAddress,
    *,
    definition: PadDefinition,
    sequence: CountdownSequence,
    lcc: tuple[Criterion, ...],
    journal_path: Path,
) -> ConsoleSource:
    """The pad as its edge node publishes it (group `padctl`, node the pad's name), for
    consoles that only watch."""

    @asynccontextmanager
    async def source() -> AsyncIterator[ReadOnlyHandle]:
        async with RemoteStation(
            definition=definition,
            sequence=sequence,
            lcc=lcc,
            broker=broker,
            journal_path=journal_path,
        ) as station:
            yield ReadOnlyHandle(station, READ_ONLY_REASON)

    return source
