"""The tag table's per-group staleness answer is the per-tag judgement, only cheaper."""

from __future__ import annotations

from padctl.clock import ManualClock
from padctl.definition import load_pad_definition
from padctl.plant import Quality, TagTable


def _judged_per_tag(table: TagTable, names: list[str]) -> tuple[float, tuple[str, ...]]:
    samples = table.snapshot(names).values()
    newest_s = max((s.t_received_wall_s for s in samples), default=float("-inf"))
    return newest_s, tuple(s.tag for s in samples if s.quality is Quality.STALE)


def test_staleness_by_group_matches_the_judgement_of_every_tag() -> None:
    definition = load_pad_definition()
    clock = ManualClock()
    table = TagTable(definition, clock)
    plc = definition.plcs[0]
    names = [tag.name for tag in definition.tags_of(plc.id)]
    assert len(names) >= 11
    block_a = table.group(names[0:3])
    block_b = table.group(names[3:6])
    bad_block = table.group(names[6:8])
    half_block = table.group(names[9:11])  # one member never received
    # Nothing received yet: no tag is STALE (they are BAD), and nothing is new.
    assert table.staleness(names) == _judged_per_tag(table, names) == (float("-inf"), ())

    table.update_group(block_a, [0.0, 0.0, 0.0], t_source_s=1.0, t_received_s=1.0)
    table.update_group(block_b, [None, 0.0, 0.0], t_source_s=1.0, t_received_s=1.0)  # type: ignore[list-item]
    table.mark_bad(bad_block, reason="refused", t_received_s=1.0)
    table.update(names[8], 1.0, t_source_s=1.0, t_received_s=1.0)
    table.update_group(half_block, [None, 0.0], t_source_s=1.0, t_received_s=1.0)  # type: ignore[list-item]
    assert table.staleness(names) == _judged_per_tag(table, names)
    assert table.staleness(names)[1] == ()

    clock.advance(plc.stale_after_s / 2)
    table.update_group(block_b, [0.0, 0.0, 0.0], t_source_s=2.0, t_received_s=2.0)
    assert table.staleness(names) == _judged_per_tag(table, names)

    clock.advance(plc.stale_after_s * 0.75)  # block A and the single tag are past the limit
    newest_s, stale = table.staleness(names)
    assert (newest_s, stale) == _judged_per_tag(table, names)
    assert set(stale) == {*names[0:3], names[8], names[10]}  # not BAD ones, not block B

    clock.advance(plc.stale_after_s)  # everything that ever held a value, but the BAD block
    newest_s, stale = table.staleness(names)
    assert (newest_s, stale) == _judged_per_tag(table, names)
    assert set(stale) == {*names[0:6], names[8], names[10]}
    assert list(stale) == [name for name in names if name in stale]  # in the order asked


def test_a_stall_of_padctls_own_loop_is_excused_at_most_once_over() -> None:
    """Found in a loaded suite run: padctl's loop stood still for 847 ms, and on waking every
    PLC's data was 1.07 s old, past its 1 s limit, before the poll had had a turn: five LINK
    alarms and two LCC sensor alarms blamed the wire for padctl's own stall. The age is judged
    less the time the loop stood still, at most the limit again."""
    definition = load_pad_definition()
    clock = ManualClock()
    table = TagTable(definition, clock)
    plc = definition.plcs[0]
    limit_s = plc.stale_after_s
    name = definition.tags_of(plc.id)[0].name
    stalled: dict[str, float] = {"wall_s": 0.0, "since_s": -1.0}

    def stalled_wall_s(since_s: float) -> float:
        stalled["since_s"] = since_s
        return stalled["wall_s"]

    table.update(name, 1.0, t_source_s=0.0, t_received_s=0.0)
    received_s = table.get(name).t_received_wall_s
    clock.advance(limit_s * 1.07)
    assert table.get(name).quality is Quality.STALE  # no stalls told: age alone
    table.excuse_stalls(stalled_wall_s)
    assert table.get(name).quality is Quality.STALE  # the loop did not stall: silence
    stalled["wall_s"] = limit_s * 0.85
    assert table.get(name).quality is Quality.GOOD
    assert table.staleness([name])[1] == () and table.sweep_staleness() == []
    assert stalled["since_s"] == received_s  # the stall since the sample came
    clock.advance(limit_s)  # silence after the stall counts
    sample = table.get(name)
    assert sample.quality is Quality.STALE and "limit" in sample.reason
    assert table.staleness([name])[1] == (name,) and table.sweep_staleness() == [name]
    stalled["wall_s"] = limit_s * 10  # excused at most once over: twice the limit is STALE
    assert table.get(name).quality is Quality.STALE
