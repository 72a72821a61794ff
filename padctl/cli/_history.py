"""`padctl history TAG... --from --to [--csv]`: the tag history a station kept."""

from __future__ import annotations

import csv
import datetime as dt
import re
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from padctl.cli._app import app
from padctl.console import HistoryQuery, HistoryReading
from padctl.history import HistoryError, HistoryStore, traces_answer

DEFAULT_HISTORY_FILE = Path("padctl-history.sqlite")
_RELATIVE = re.compile(r"^-(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

HistoryOption = Annotated[
    Path | None,
    typer.Option(
        "--history",
        help="Keep every tag's changes in this SQLite file (default: padctl-history.sqlite "
        "for a real pad, none with --sim); see padctl history.",
    ),
]
NoHistoryOption = Annotated[bool, typer.Option("--no-history", help="Keep no tag history.")]


def history_path(given: Path | None, *, off: bool, simulated: bool) -> Path | None:
    """Where a station keeps its tag history: the given file; else, for a real pad, the
    default file (a simulated pad keeps none unless asked: its run leaves nothing behind);
    nowhere with --no-history."""
    if off:
        return None
    if given is not None:
        return given
    return None if simulated else DEFAULT_HISTORY_FILE


def parse_time(text: str, *, now_s: float) -> float:
    """Unix seconds from ISO 8601 (2026-12-06T05:40:00, UTC unless it says), `now`, or a
    time back from now (-90s, -15m, -2h, -1d)."""
    if text == "now":
        return now_s
    relative = _RELATIVE.match(text)
    if relative is not None:
        return now_s - float(relative.group(1)) * _UNIT_S[relative.group(2)]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise HistoryError(
            f"time {text!r}: give ISO 8601 (2026-12-06T05:40:00), now, or -90s/-15m/-2h/-1d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def history_reading(path: Path) -> HistoryReading:
    """The console's reading of the tag history kept in `path`."""

    def reading(query: HistoryQuery) -> dict[str, Any]:
        return traces_answer(
            path,
            query.tags,
            from_wall_s=query.from_wall_s,
            to_wall_s=query.to_wall_s,
            max_points=query.points,
        )

    return reading


@app.command("history")
def history_command(
    tags: Annotated[list[str], typer.Argument(help="Tag names.")],
    db: Annotated[
        Path, typer.Option("--db", help="The history file a station kept.")
    ] = DEFAULT_HISTORY_FILE,
    from_: Annotated[str, typer.Option("--from", help="Start: ISO 8601, now, or -15m.")] = "-1h",
    to: Annotated[str, typer.Option("--to", help="End: ISO 8601, now, or -5m.")] = "now",
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header line.")] = False,
) -> None:
    """Print the kept changes of TAGs between --from and --to (UTC)."""
    if not db.is_file():
        typer.echo(f"padctl history: {db}: no such file", err=True)
        raise typer.Exit(2)
    now_s = dt.datetime.now(dt.UTC).timestamp()
    try:
        store = HistoryStore(db)
    except sqlite3.DatabaseError as error:
        typer.echo(f"padctl history: {db}: not a history file ({error})", err=True)
        raise typer.Exit(2) from None
    try:
        rows = store.query(
            tags, from_wall_s=parse_time(from_, now_s=now_s), to_wall_s=parse_time(to, now_s=now_s)
        )
        units = store.units()
    except HistoryError as error:
        typer.echo(f"padctl history: {error}", err=True)
        raise typer.Exit(2) from None
    finally:
        store.close()
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["time_utc", "tag", "value", "unit", "quality", "t_clock_s"])
        for row in rows:
            writer.writerow(
                [_iso(row.t_wall_s), row.tag, row.value, units[row.tag], row.quality, row.t_clock_s]
            )
        return
    for row in rows:
        value = "-" if row.value is None else f"{row.value:g}"
        typer.echo(
            f"{_iso(row.t_wall_s)}  {row.tag:<22} {value:>12} {units[row.tag]:<6} {row.quality}"
        )
    typer.echo(f"{len(rows)} row(s)", err=True)


def _iso(t_wall_s: float) -> str:
    return dt.datetime.fromtimestamp(t_wall_s, dt.UTC).isoformat(timespec="milliseconds")
