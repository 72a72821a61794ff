"""Record a bench's tag stream and replay it into padctl at the desk, fault and all."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from hil.rig import load_rig
from padctl.clock import ScaledClock
from padctl.journal import AsyncJournal
from padctl.plant import (
    Plant,
    Quality,
    RecordedSample,
    RecordingError,
    RefuseAllWrites,
    ReplaySource,
    TagRecorder,
    WriteRefused,
    read_recording,
)
from simulators.pad import SimulatedPad
from simulators.pad_model import PadModel
from tests.processes import run_padctl

SIM_PROCESSES = Path(__file__).resolve().parents[1] / "hil" / "rigs" / "sim-processes.yaml"
BENCH_RATE = 5.0


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _stream(samples: tuple[RecordedSample, ...]) -> list[tuple[str, object, Quality]]:
    return [(s.tag, s.value, s.quality) for s in samples]


async def test_a_recorded_fault_replays_with_the_same_values_qualities_and_order(
    tmp_path: Path,
) -> None:
    rig = load_rig(SIM_PROCESSES)
    clock = ScaledClock(BENCH_RATE)
    definition = rig.definition
    model = PadModel(definition)
    sim = SimulatedPad(definition, clock, process=model, scan_wall_s=0.01)
    live = await sim.start()
    recorded_path = tmp_path / "bench.jsonl"
    try:
        plant = Plant(definition=live, clock=clock, journal=None, beat_heartbeats=False)
        async with plant:
            assert await plant.wait_connected(30.0)
            table = plant.table
            async with TagRecorder(table, recorded_path, header={"rig": rig.name}):

                async def scans(count: int) -> None:
                    start = int(table.get("PROP-HB-PLC").value or 0)
                    assert await table.wait_for(
                        lambda t: int(t.get("PROP-HB-PLC").value or 0) >= start + count,
                        timeout_s=10.0 * BENCH_RATE,
                    )

                await scans(50)  # the bench before the fault
                model.sensor_bias("LOX-PT-001", 2.5)
                assert await table.wait_for(
                    lambda t: float(t.get("LOX-PT-001").value or 0) > 2.4, timeout_s=5 * BENCH_RATE
                )
                model.sensor_override("LOX-TT-102", math.nan)
                assert await table.wait_for(
                    lambda t: t.get("LOX-TT-102").quality is Quality.BAD, timeout_s=5 * BENCH_RATE
                )
                await scans(50)  # and after it
    finally:
        await sim.stop()

    recording = read_recording(recorded_path)
    assert recording.header["rig"] == "sim-processes" and recording.header["clock_rate"] == 5.0
    pressures = [s for s in recording.samples if s.tag == "LOX-PT-001"]
    assert pressures[0].value is not None and float(pressures[0].value) < 1.0
    assert float(pressures[-1].value or 0) > 2.4  # the bias shows
    nan = next(s for s in recording.samples if s.tag == "LOX-TT-102" and s.quality is Quality.BAD)
    assert isinstance(nan.value, float) and math.isnan(nan.value) and "NaN" in nan.reason
    assert recorded_path.read_text().count('"value": "NaN"') >= 1  # strict JSON on disk

    # At the desk: the recording replayed at twice the bench's pace, into a plant with no PLC.
    desk_clock = ScaledClock(2 * BENCH_RATE)
    replayed_path = tmp_path / "desk.jsonl"
    async with AsyncJournal(tmp_path / "desk-journal.sqlite", clock=desk_clock) as journal:
        desk = Plant(
            definition=definition,
            clock=desk_clock,
            journal=journal,
            beat_heartbeats=False,
            write_guard=RefuseAllWrites("replay of bench.jsonl is read-only: no PLC behind it"),
        )
        source = ReplaySource(recording=recording, table=desk.table, clock=desk_clock)
        source.prime()
        async with TagRecorder(desk.table, replayed_path, header={"rig": rig.name}):
            applied = await source.run()
        with pytest.raises(WriteRefused, match="read-only: no PLC behind it"):
            await desk.write("LOX-FV-101-CMD", True, actor="desk")
        refused = await journal.entries(kinds={"write_refused"})
    assert applied == len(recording.samples)
    assert [entry.payload["tag"] for entry in refused] == ["LOX-FV-101-CMD"]
    replayed = read_recording(replayed_path)
    original, again = _stream(recording.samples), _stream(replayed.samples)
    assert len(again) == len(original)
    mismatches = [
        (n, a, b)
        for n, (a, b) in enumerate(zip(original, again, strict=True))
        if a[0] != b[0] or a[2] is not b[2] or not _same(a[1], b[1])
    ]
    assert not mismatches, mismatches[:5]
    # At the recorded pace (in pad seconds): never early, late by no more than 0.15 s of wall time.
    lateness_s = [b.t_s - a.t_s for a, b in zip(recording.samples, replayed.samples, strict=True)]
    assert min(lateness_s) > -0.1 and max(lateness_s) < 0.15 * desk_clock.rate, lateness_s
    assert recording.duration_s > 2.0  # long enough for the pace to show


def test_a_malformed_recording_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    header = {"format": "padctl-tag-recording", "version": 1}
    good = {"t_s": 1.0, "tag": "LOX-PT-001", "value": 1.5, "quality": "GOOD"}
    path.write_text(
        "\n".join([json.dumps(header), json.dumps(good), json.dumps({**good, "quality": "FINE"})]),
        encoding="utf-8",
    )
    with pytest.raises(RecordingError, match=rf"{path}:3: sample: 'FINE' is not a valid Quality"):
        read_recording(path)
    path.write_text(
        "\n".join([json.dumps(header), json.dumps(good), json.dumps({**good, "t_s": 0.5})]),
        encoding="utf-8",
    )
    with pytest.raises(RecordingError, match=rf"{path}:3: t_s: 0.5 goes back in time"):
        read_recording(path)
    path.write_text('{"format": "something else"}\n', encoding="utf-8")
    with pytest.raises(RecordingError, match=rf"{path}:1: header: not a padctl-tag-recording"):
        read_recording(path)


async def test_record_a_bench_fault_and_see_it_at_the_desk(tmp_path: Path) -> None:
    out = tmp_path / "anomaly.jsonl"
    code, _out, err = await run_padctl(
        "hil", "record", str(SIM_PROCESSES), "--out", str(out), "--seconds", "12",
        "--sim-fault", "4 bias LOX-PT-001 2.5", "--sim-fault", "6 nan LOX-TT-102",
        timeout_s=40,
    )  # fmt: skip
    assert code == 0, err
    recording = read_recording(out)
    pressures = [s for s in recording.samples if s.tag == "LOX-PT-001"]
    biased_at_s = next(s.t_s for s in pressures if float(s.value or 0) > 2.4)
    assert float(pressures[0].value or 0) < 1.0  # recorded before the fault, then the fault
    assert 4.0 <= biased_at_s < 6.0  # played 4 pad seconds into the recording

    code, stdout, err = await run_padctl(
        "hil", "replay", str(out), "--rate", "40", "--json", "--settle", "1", timeout_s=40
    )
    assert code == 0, err
    lines = [json.loads(line) for line in stdout.splitlines()]
    events, summary = lines[:-1], lines[-1]["summary"]
    assert summary["samples"] == len(recording.samples)
    assert summary["refused_writes"] == []  # nothing tried to write: nothing was in motion
    assert summary["subsystems"]["lox_loading"] == "SECURED"
    nan_event = next(e for e in events if e["kind"] == "quality" and e["subject"] == "LOX-TT-102")
    assert nan_event["state"] == "BAD" and "NaN" in nan_event["detail"]
    lcc = next(e for e in events if e["kind"] == "lcc" and e["subject"] == "LCC-LOX-002")
    assert lcc["state"] == "VIOLATED" and "LOX-PT-001 = 2.5" in lcc["detail"]
    assert lcc["t_s"] >= biased_at_s + 5.0 - 0.5  # the criterion's 5 s persistence, replayed
