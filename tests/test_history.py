"""Tag history: a station on the simulated pad keeps every tag's changes in SQLite (a stalled
PLC's tags as STALE rows, analog drift no finer than the definition allows), `padctl history`
reads them back, and a writer that fails is an alarm."""

from __future__ import annotations

import csv
import io
import itertools
from collections import defaultdict
from pathlib import Path

import pytest

from padctl.cli._history import DEFAULT_HISTORY_FILE, history_path
from padctl.cli._serve import simulated_station
from padctl.definition import DefinitionError, load_pad_definition
from padctl.history import HISTORY_ALARM_ID, HistoryRow, HistoryStore, TagHistory
from tests.console_fixtures import reference_test_flight
from tests.e2e_fixtures import wait_until
from tests.processes import run_padctl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

STALLED_PLC = "MECH"


async def test_every_tag_is_kept_with_its_quality_and_read_back(tmp_path: Path) -> None:
    definition, sequence, criteria = reference_test_flight()
    path = tmp_path / "history.sqlite"
    async with simulated_station(
        definition, rate=1, sequence=sequence, lcc=criteria, journal_path=tmp_path / "j.sqlite"
    ) as handle:
        station = handle.station
        async with TagHistory(station, path) as history:

            async def all_kept() -> bool:
                return history.rows_kept >= len(definition.tags)

            await wait_until(all_kept, 10, "a first row of every tag")
            await handle.injector(f"stall {STALLED_PLC}")  # type: ignore[misc]

            async def stalled_seen() -> bool:
                tags = [t.name for t in definition.tags if t.plc == STALLED_PLC]
                return all(station.plant.read(name).quality.value == "STALE" for name in tags)

            await wait_until(stalled_seen, 10, "the stalled PLC's tags STALE")
            await handle.injector(f"restore {STALLED_PLC}")  # type: ignore[misc]
        assert not station.alarms.get(HISTORY_ALARM_ID).condition_active

    store = HistoryStore(path)
    try:
        names = [tag.name for tag in definition.tags]
        rows = store.query(names, from_wall_s=0, to_wall_s=4e9)
        units = store.units()
    finally:
        store.close()
    by_tag: dict[str, list[HistoryRow]] = defaultdict(list)
    for row in rows:
        by_tag[row.tag].append(row)
    assert set(by_tag) == set(names)
    assert units == {tag.name: tag.unit for tag in definition.tags}
    stalled = [t.name for t in definition.tags if t.plc == STALLED_PLC]
    assert all(any(r.quality == "STALE" for r in by_tag[name]) for name in stalled)
    min_interval_s = definition.history.min_interval_s
    for tag in definition.tags:
        kept = by_tag[tag.name]
        assert [r.t_wall_s for r in kept] == sorted(r.t_wall_s for r in kept)
        if tag.type.value == "bool":
            continue
        for before, after in itertools.pairwise(kept[:-1]):  # the last is the final flush
            if before.quality == after.quality == "GOOD":
                assert after.t_wall_s - before.t_wall_s >= min_interval_s - 0.05, tag.name

    tag = stalled[0]
    code, out, err = await run_padctl("history", tag, "--db", str(path), "--from", "-1h", "--csv")
    assert code == 0, err
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["quality"] for r in table] == [r.quality for r in by_tag[tag]]
    assert {r["tag"] for r in table} == {tag}

    code, _, err = await run_padctl("history", "NOPE-TAG", "--db", str(path))
    assert code == 2 and "no history of NOPE-TAG" in err
    code, _, err = await run_padctl("history", tag, "--db", str(path), "--from", "yesterday")
    assert code == 2 and "time 'yesterday'" in err
    code, _, err = await run_padctl("history", tag, "--db", str(tmp_path / "none.sqlite"))
    assert code == 2 and "no such file" in err


async def test_a_failing_writer_is_an_alarm(tmp_path: Path) -> None:
    definition, sequence, criteria = reference_test_flight()
    async with simulated_station(
        definition, rate=1, sequence=sequence, lcc=criteria, journal_path=tmp_path / "j.sqlite"
    ) as handle:
        alarms = handle.station.alarms
        async with TagHistory(handle.station, tmp_path / "history.sqlite") as history:
            # A row the store cannot keep (a tag it never registered) ends the writer.
            history.write_for_test([HistoryRow("NOT-A-TAG", 0.0, 0.0, 1.0, "GOOD")])

            async def alarmed() -> bool:
                return alarms.get(HISTORY_ALARM_ID).condition_active

            await wait_until(alarmed, 10, "the failed history writer is alarmed", poll_s=0.05)


def test_a_bad_history_section_is_refused_naming_the_field(tmp_path: Path) -> None:
    reference = (Path(__file__).parents[1] / "padctl/definition/reference_pad.yaml").read_text()
    for section, field in (
        ("{retention_days: 0}", "history.retention_days"),
        ("{min_interval_s: -1}", "history.min_interval_s"),
        ("{deadband_pct: 101}", "history.deadband_pct"),
        ("{keep: forever}", "history.keep"),
    ):
        path = tmp_path / "pad.yaml"
        path.write_text(reference + f"\nhistory: {section}\n")
        with pytest.raises(DefinitionError) as refused:
            load_pad_definition(path)
        assert any(field in problem for problem in refused.value.problems), refused.value.problems


def test_a_real_pad_keeps_history_by_default_a_simulated_one_when_asked(tmp_path: Path) -> None:
    given = tmp_path / "h.sqlite"
    assert history_path(None, off=False, simulated=False) == DEFAULT_HISTORY_FILE
    assert history_path(None, off=False, simulated=True) is None
    assert history_path(given, off=False, simulated=True) == given
    assert history_path(given, off=True, simulated=False) is None
