"""Launch commit criteria: voting, persistence, windows, NO-GO on bad data, file errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.clock import ManualClock
from padctl.countdown import LccError, LccMonitor, format_t_time, load_lcc, parse_t_time
from padctl.definition import load_pad_definition
from padctl.plant import TagTable
from tests.plc_fixtures import write_definition

TABLE = """\
lcc:
  - {id: LCC-PROP-001, name: LOX ullage pressure, tags: [LOX-PT-101], low: 1.0, high: 3.5, persistence_s: 0.5, from: T-01:00:00, to: T-0}
  - {id: LCC-MECH-001, name: Erector hydraulics (2 of 2), tags: [ERC-PT-501, ERC-PT-502], vote: 2, low: 100, from: T-02:00:00, to: T-00:10:00}
  - {id: LCC-PWR-001, name: Main bus breaker closed, tags: [PWR-CB-841-CLOSED], equals: true}
"""


def test_t_times_round_trip() -> None:
    assert parse_t_time("T-06:00:00") == -21600
    assert parse_t_time("T+00:00:05") == 5
    assert parse_t_time("T-0") == 0
    assert format_t_time(-3723) == "T-01:02:03"
    with pytest.raises(ValueError, match="not a T-time"):
        parse_t_time("L-00:10:00")


def test_voting_persistence_windows_and_bad_data(tmp_path: Path) -> None:
    clock = ManualClock()
    definition = load_pad_definition()
    table = TagTable(definition, clock)
    criteria = load_lcc(write_definition(tmp_path, TABLE, "lcc.yaml"), definition)
    monitor = LccMonitor(criteria, table.get)

    def put(**values: float | bool) -> None:
        for name, value in values.items():
            table.update(
                name.replace("_", "-"), value, t_source_s=clock.now(), t_received_s=clock.now()
            )

    put(LOX_PT_101=2.0, ERC_PT_501=180.0, ERC_PT_502=180.0, PWR_CB_841_CLOSED=True)
    assert monitor.evaluate(t_s=-1800, now_s=clock.now()) == []
    put(LOX_PT_101=4.1)  # +2.5 bar bias on a 1.6 bar reading would read 4.1: violation
    assert monitor.evaluate(t_s=-1800, now_s=clock.now()) == []  # persistence not yet
    clock.advance(0.6)
    put(LOX_PT_101=4.1, ERC_PT_501=180.0, ERC_PT_502=180.0, PWR_CB_841_CLOSED=True)
    violations = monitor.evaluate(t_s=-1800, now_s=clock.now())
    assert [v.criterion.id for v in violations] == ["LCC-PROP-001"]
    assert "LOX-PT-101 = 4.1 > 3.5" in violations[0].reason
    assert monitor.evaluate(t_s=-7200, now_s=clock.now()) == []  # outside its window
    put(LOX_PT_101=2.0, ERC_PT_501=50.0)  # one of two hydraulic sensors low: vote 2 not met
    assert monitor.evaluate(t_s=-3000, now_s=clock.now()) == []
    put(ERC_PT_502=50.0)
    assert [v.criterion.id for v in monitor.evaluate(t_s=-3000, now_s=clock.now())] == [
        "LCC-MECH-001"
    ]
    put(ERC_PT_501=180.0, ERC_PT_502=180.0)
    clock.advance(5.0)  # nothing updated for 5 s: every sample STALE, every criterion NO-GO
    monitor.evaluate(t_s=-3000, now_s=clock.now())
    clock.advance(0.6)  # ... and persistence still applies to bad data
    stale = monitor.evaluate(t_s=-3000, now_s=clock.now())
    assert {v.criterion.id for v in stale} == {"LCC-PROP-001", "LCC-MECH-001", "LCC-PWR-001"}
    assert all("STALE" in v.reason for v in stale)


def test_malformed_lcc_tables_name_their_lines(tmp_path: Path) -> None:
    definition = load_pad_definition()
    broken = (
        TABLE.replace("tags: [LOX-PT-101]", "tags: [LOX-PT-999]")
        .replace("vote: 2", "vote: 3")
        .replace("equals: true", "low: 1")
    )
    path = write_definition(tmp_path, broken, "lcc.yaml")
    with pytest.raises(LccError) as caught:
        load_lcc(path, definition)
    problems = caught.value.problems
    assert any(p.startswith(f"{path}:") and "vote 3 of 2" in p for p in problems), problems
    swapped = TABLE.replace("from: T-01:00:00, to: T-0", "from: T-0, to: T-01:00:00")
    with pytest.raises(LccError, match=r":2: LCC-PROP-001: window from T-0 is after"):
        load_lcc(write_definition(tmp_path, swapped, "lcc2.yaml"), definition)
    unknown = TABLE.replace("tags: [LOX-PT-101]", "tags: [LOX-PT-999]")
    with pytest.raises(LccError, match=r":2: LCC-PROP-001: no tag 'LOX-PT-999'"):
        load_lcc(write_definition(tmp_path, unknown, "lcc3.yaml"), definition)
    kind = TABLE.replace("equals: true", "low: 1")
    with pytest.raises(LccError, match="PWR-CB-841-CLOSED is bool: use equals"):
        load_lcc(write_definition(tmp_path, kind, "lcc4.yaml"), definition)
