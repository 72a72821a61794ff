"""The gates a command passes before it is armed or carried out: fresh data, and for a command
that summons a second person, the subsystem's own interlocks."""

from __future__ import annotations

from typing import Any

from padctl.console._catalogue import ConsoleCommand, Fresh, Refusal
from padctl.plant import Quality
from padctl.station import Station
from padctl.subsystems import CommandRefused

_NAMED_AT_MOST = 6


def fresh_data_refusal(
    station: Station, entry: ConsoleCommand, args: dict[str, Any]
) -> Refusal | None:
    """Data freshness, the last gate before the subsystem or countdown checks its own."""
    if entry.fresh is Fresh.SUBSYSTEM:
        name = args["subsystem"]
        samples = station.plant.table.snapshot(station.subsystem_tags(name))
        stale = [s for s in samples.values() if s.quality is Quality.STALE]
        if stale:
            named = "; ".join(f"{s.tag} STALE ({s.reason})" for s in stale[:_NAMED_AT_MOST])
            more = f" and {len(stale) - _NAMED_AT_MOST} more" if len(stale) > _NAMED_AT_MOST else ""
            return Refusal("stale_data", f"{name}: data not fresh: {named}{more}")
    if entry.fresh is Fresh.ALL_PLCS:
        stale_plcs = station.stale_plcs()
        if stale_plcs:
            details = []
            for plc_id in stale_plcs:
                state = station.plc_freshness(plc_id)
                tags = ", ".join(state.stale_tags[:3]) or "no tag"
                details.append(f"PLC {plc_id} last heard {state.age_s:.1f} s ago ({tags} STALE)")
            return Refusal("stale_data", "data not fresh: " + "; ".join(details))
    return None


async def interlock_refusal(station: Station, args: dict[str, Any]) -> Refusal | None:
    """Whether the subsystem would refuse the command now (its mode, state and interlocks,
    judged on fresh data as it judges them when the command runs): a second person is not
    summoned for a command it will refuse."""
    try:
        await station.subsystems[args["subsystem"]].check_on_fresh_data(args["name"])
    except CommandRefused as refused:
        return Refusal("subsystem", str(refused))
    return None
