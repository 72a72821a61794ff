"""ISA-18.2 alarm states, shelving expiry, suppression by design, chatter suppression."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.alarms import (
    ALARM_TRANSITIONS,
    AlarmDefinition,
    AlarmError,
    AlarmKind,
    AlarmManager,
    AlarmPriority,
    AlarmState,
)
from padctl.clock import ManualClock
from padctl.journal import AsyncJournal
from padctl.plant import Quality, TagTable
from tests.plc_fixtures import modbus_test_pad

HIGH = AlarmDefinition(
    id="TST-PT-101-HI",
    message="Test pressure high",
    priority=AlarmPriority.HIGH,
    kind=AlarmKind.HIGH,
    tag="TST-PT-101",
    limit=5.0,
    deadband=0.5,
    on_delay_s=2.0,
    off_delay_s=1.0,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def table(tmp_path: Path, clock: ManualClock) -> TagTable:
    return TagTable(modbus_test_pad(tmp_path), clock)


def _set(table: TagTable, clock: ManualClock, value: float) -> None:
    table.update("TST-PT-101", value, t_source_s=clock.now(), t_received_s=clock.now())


def _step(
    manager: AlarmManager, table: TagTable, clock: ManualClock, value: float, seconds: float
) -> None:
    """Hold `value` for `seconds`, evaluating every 0.1 s as the manager's loop does."""
    for _ in range(round(seconds / 0.1)):
        clock.advance(0.1)
        _set(table, clock, value)
        manager.evaluate()


async def test_full_isa_cycle_with_journaled_acknowledge(
    tmp_path: Path, clock: ManualClock, table: TagTable
) -> None:
    async with AsyncJournal(tmp_path / "j.sqlite", clock=clock) as journal:
        manager = AlarmManager(clock=clock, journal=journal, table=table)
        manager.define(HIGH)
        _step(manager, table, clock, 4.0, 1.0)
        assert manager.get(HIGH.id).state is AlarmState.NORMAL
        _step(manager, table, clock, 6.0, 1.0)  # on-delay not yet elapsed
        assert manager.get(HIGH.id).state is AlarmState.NORMAL
        _step(manager, table, clock, 6.0, 1.5)
        assert manager.get(HIGH.id).state is AlarmState.UNACK
        assert [v.id for v in manager.annunciated()] == [HIGH.id]
        await manager.acknowledge(HIGH.id, actor="propellant-1", note="seen, venting")
        assert manager.get(HIGH.id).state is AlarmState.ACKED
        _step(manager, table, clock, 4.0, 1.5)
        assert manager.get(HIGH.id).state is AlarmState.NORMAL
        # Returned to normal before acknowledgement:
        _step(manager, table, clock, 6.0, 2.5)
        _step(manager, table, clock, 4.0, 1.5)
        assert manager.get(HIGH.id).state is AlarmState.RTN_UNACK
        _step(manager, table, clock, 6.0, 2.5)
        assert manager.get(HIGH.id).state is AlarmState.UNACK  # back again, unacked
        _step(manager, table, clock, 4.0, 1.5)
        await manager.acknowledge(HIGH.id, actor="propellant-1")
        assert manager.get(HIGH.id).state is AlarmState.NORMAL
        await manager.stop()
        entries = await journal.entries(kinds=["alarm_acknowledged"])
        assert entries[0].actor == "propellant-1"
        assert entries[0].payload["note"] == "seen, venting"
        kinds = [e.kind for e in await journal.entries()]
        assert kinds.count("alarm_activated") == 3 and kinds.count("alarm_cleared") >= 1


def test_deadband_and_on_delay_stop_chatter(clock: ManualClock, table: TagTable) -> None:
    manager = AlarmManager(clock=clock, journal=None, table=table)
    manager.define(HIGH)
    changes: list[AlarmState] = []
    manager.add_listener(lambda view: changes.append(view.state))
    # A noisy signal around the limit: short spikes never last the on-delay.
    for value in [5.2, 4.9, 5.3, 4.8, 5.1, 4.95] * 5:
        _step(manager, table, clock, value, 0.5)
    assert changes == []
    _step(manager, table, clock, 5.2, 2.5)  # a real excursion
    assert changes == [AlarmState.UNACK]
    # Noise inside the deadband (limit 5.0 - 0.5) does not clear it.
    for value in [4.7, 5.1, 4.6, 4.9] * 5:
        _step(manager, table, clock, value, 0.5)
    assert changes == [AlarmState.UNACK]
    _step(manager, table, clock, 4.2, 1.5)
    assert changes == [AlarmState.UNACK, AlarmState.RTN_UNACK]


async def test_shelving_needs_a_reason_and_expires(clock: ManualClock, table: TagTable) -> None:
    manager = AlarmManager(clock=clock, journal=None, table=table)
    manager.define(HIGH)
    _step(manager, table, clock, 6.0, 2.5)
    with pytest.raises(AlarmError, match="a reason is required"):
        await manager.shelve(HIGH.id, actor="op", duration_s=60, note=" ")
    with pytest.raises(AlarmError, match="duration must be above 0"):
        await manager.shelve(HIGH.id, actor="op", duration_s=0, note="known bad transducer")
    view = await manager.shelve(HIGH.id, actor="op", duration_s=60, note="known bad transducer")
    assert view.state is AlarmState.SHELVED and view.shelved_until_s == clock.now() + 60
    assert manager.annunciated() == []
    _step(manager, table, clock, 6.0, 59.0)
    assert manager.get(HIGH.id).state is AlarmState.SHELVED
    _step(manager, table, clock, 6.0, 1.5)
    assert manager.get(HIGH.id).state is AlarmState.UNACK  # still active: back, unacked


async def test_suppression_by_design_follows_the_phase(clock: ManualClock, table: TagTable) -> None:
    manager = AlarmManager(clock=clock, journal=None, table=table)
    manager.define(
        AlarmDefinition(
            id="DLG-FLOW-LO",
            message="Deluge flow low",
            priority=AlarmPriority.URGENT,
            suppressed_in=frozenset({"pre-terminal"}),
        )
    )
    manager.set_phase("pre-terminal")
    assert manager.get("DLG-FLOW-LO").state is AlarmState.SUPPRESSED
    manager.set_condition("DLG-FLOW-LO", True, detail="no flow, deluge not armed")
    assert manager.get("DLG-FLOW-LO").state is AlarmState.SUPPRESSED
    manager.set_phase("terminal-count")
    assert manager.get("DLG-FLOW-LO").state is AlarmState.UNACK


async def test_out_of_service_and_wrong_state_refusals(clock: ManualClock, table: TagTable) -> None:
    manager = AlarmManager(clock=clock, journal=None, table=table)
    manager.define(HIGH)
    with pytest.raises(AlarmError, match="cannot acknowledge alarm TST-PT-101-HI in state NORMAL"):
        await manager.acknowledge(HIGH.id, actor="op")
    with pytest.raises(AlarmError, match="no alarm 'NOPE'"):
        await manager.acknowledge("NOPE", actor="op")
    await manager.remove_from_service(HIGH.id, actor="maint", note="transducer replaced")
    _step(manager, table, clock, 6.0, 2.5)
    assert manager.get(HIGH.id).state is AlarmState.OUT_OF_SERVICE
    await manager.return_to_service(HIGH.id, actor="maint")
    assert manager.get(HIGH.id).state is AlarmState.UNACK


def test_bad_or_stale_data_neither_raises_nor_clears(clock: ManualClock, table: TagTable) -> None:
    manager = AlarmManager(clock=clock, journal=None, table=table)
    manager.define(HIGH)
    _step(manager, table, clock, 6.0, 2.5)
    assert manager.get(HIGH.id).state is AlarmState.UNACK
    clock.advance(5.0)  # no update: the transducer is STALE
    assert table.get("TST-PT-101").quality is Quality.STALE
    for _ in range(30):
        clock.advance(0.1)
        manager.evaluate()
    assert manager.get(HIGH.id).state is AlarmState.UNACK


def test_state_table_is_data() -> None:
    triggers = {t["trigger"] for t in ALARM_TRANSITIONS}
    assert triggers == {
        "activate",
        "clear",
        "acknowledge",
        "shelve",
        "unshelve",
        "suppress",
        "unsuppress",
        "remove_from_service",
        "return_to_service",
    }
    with pytest.raises(ValueError, match="needs a tag and a limit"):
        AlarmDefinition(id="X", message="x", priority=AlarmPriority.LOW, kind=AlarmKind.HIGH)


async def test_occurrence_and_acknowledgement_times_and_who_are_kept(
    clock: ManualClock, table: TagTable
) -> None:
    """ISA-18.2: the time of occurrence stays as it was when someone acknowledges (a console
    finding: acknowledging rewrote the one time an alarm had), and the acknowledgement keeps
    its own time and who gave it."""
    manager = AlarmManager(clock=clock, journal=None, table=table)
    manager.define(HIGH)
    _step(manager, table, clock, 6.0, 3.0)  # over the limit for longer than the on-delay
    raised = manager.get(HIGH.id)
    assert raised.state is AlarmState.UNACK
    assert raised.occurred_s is not None and raised.acknowledged_s is None
    assert raised.acknowledged_by == ""
    clock.advance(42.0)
    acknowledged_at_s = clock.now()
    acked = await manager.acknowledge(HIGH.id, actor="carol")
    assert acked.state is AlarmState.ACKED
    assert acked.occurred_s == raised.occurred_s  # not the time of the acknowledgement
    assert acked.acknowledged_s == acknowledged_at_s > raised.occurred_s + 42.0
    assert acked.acknowledged_by == "carol"
    _step(manager, table, clock, 1.0, 2.0)  # back to normal; then a new occurrence
    _step(manager, table, clock, 6.0, 3.0)
    again = manager.get(HIGH.id)
    assert again.state is AlarmState.UNACK and again.occurred_s > acked.acknowledged_s
    assert (again.acknowledged_s, again.acknowledged_by) == (None, "")


async def test_only_an_active_alarm_is_shelved_and_out_of_service_keeps_who_and_why(
    clock: ManualClock, table: TagTable
) -> None:
    """Shelving hides an alarm someone is looking at: one in NORMAL is refused and stays
    NORMAL. An alarm out of service says who took it out and why until it is back."""
    manager = AlarmManager(clock=clock, journal=None, table=table)
    manager.define(HIGH)
    with pytest.raises(AlarmError, match="only an active alarm may be shelved; it is NORMAL"):
        await manager.shelve(HIGH.id, actor="op", duration_s=60, note="known bad transducer")
    assert manager.get(HIGH.id).state is AlarmState.NORMAL
    assert manager.get(HIGH.id).shelved_until_s is None
    out = await manager.remove_from_service(HIGH.id, actor="maint", note="transducer swap")
    assert (out.out_of_service_by, out.out_of_service_note) == ("maint", "transducer swap")
    back = await manager.return_to_service(HIGH.id, actor="maint", note="swapped")
    assert (back.state, back.out_of_service_by, back.out_of_service_note) == (
        AlarmState.NORMAL,
        "",
        "",
    )


async def test_occurrence_and_acknowledgement_carry_their_wall_times(
    clock: ManualClock, table: TagTable
) -> None:
    """The pad clock may run faster than the wall: the moments are kept in wall time too."""
    manager = AlarmManager(clock=clock, journal=None, table=table)
    manager.define(HIGH)
    _step(manager, table, clock, 6.0, 3.0)
    raised = manager.get(HIGH.id)
    wall_offset_s = clock.wall_now() - clock.now()
    assert raised.occurred_s is not None and raised.acknowledged_wall_s is None
    assert raised.occurred_wall_s == raised.occurred_s + wall_offset_s
    clock.advance(10.0)
    acked = await manager.acknowledge(HIGH.id, actor="carol")
    assert acked.acknowledged_wall_s == clock.wall_now()
    assert acked.occurred_wall_s == raised.occurred_wall_s
