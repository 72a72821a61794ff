"""The devices a console draws for each subsystem: the pad definition's actuators it commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.console._devices import subsystem_devices
from padctl.definition import DefinitionError, load_pad_definition, reference_pad_path
from padctl.station import subsystem_tags_of
from padctl.subsystems import ALL_SPECS, compile_spec

DEFINITION = load_pad_definition(reference_pad_path())


def _devices() -> dict[str, list[dict[str, object]]]:
    return {
        spec.name: subsystem_devices(DEFINITION, subsystem_tags_of(compile_spec(spec, DEFINITION)))
        for spec in ALL_SPECS
    }


def test_lox_loading_lists_its_valves_and_pump_not_their_signals() -> None:
    lox = {device["name"]: device for device in _devices()["lox_loading"]}
    assert set(lox) == {
        "LOX-VV-001", "LOX-FV-001", "LOX-P-001", "LOX-FV-103", "LOX-FV-101", "LOX-FV-102",
        "LOX-DV-101", "LOX-VV-101",
    }  # fmt: skip
    assert lox["LOX-FV-101"] == {
        "name": "LOX-FV-101",
        "kind": "valve",
        "title": "LOX vehicle fill valve",
        "command": "LOX-FV-101-CMD",
        "on_feedback": "LOX-FV-101-ZSO",
        "off_feedback": "LOX-FV-101-ZSC",
        "timeout_s": 14.0,
        "on_word": "open",
        "off_word": "closed",
    }
    pump = lox["LOX-P-001"]
    assert (pump["kind"], pump["off_feedback"], pump["on_word"]) == ("motor", None, "running")


def test_each_commanded_actuator_is_a_device_of_the_subsystem_commanding_it() -> None:
    devices = _devices()
    drawn = [d["name"] for listed in devices.values() for d in listed if d["kind"] != "mechanism"]
    assert len(drawn) == len(set(drawn))  # one subsystem each
    # Every actuator but the pad bus breaker, which the mimic shows and no subsystem commands.
    assert set(drawn) == {actuator.name for actuator in DEFINITION.actuators} - {"PWR-CB-841"}
    erector = {device["name"] for device in devices["erector"]}
    assert "LOX-FV-101" not in erector  # read by its interlocks, commanded by LOX loading
    assert {"ERC-P-501", "ERC-LK-511", "ERC-LK-513"} <= erector


def test_mechanisms_are_devices_of_the_subsystem_reading_their_ends() -> None:
    devices = _devices()
    clamps = [d for d in devices["hold_downs"] if d["kind"] == "mechanism"]
    assert [d["name"] for d in clamps] == ["HDC-M-701", "HDC-M-702", "HDC-M-703", "HDC-M-704"]
    assert clamps[0]["positions"] == {
        "clamped": "HDC-M-701-CLAMPED",
        "released": "HDC-M-701-RELEASED",
    }
    assert clamps[0]["commands"] == {"clamped": "HDC-CLAMP-CMD", "released": "HDC-RELEASE-CMD"}
    assert [d["name"] for d in devices["cable_mast"]] == ["CBM-M-601"]
    assert "ERC-M-501" in {d["name"] for d in devices["erector"]}


def test_a_mechanism_naming_what_is_not_there_is_refused_by_name(tmp_path: Path) -> None:
    text = reference_pad_path().read_text()
    broken = text.replace(
        "positions: {connected: CBM-M-601-CONNECTED,", "positions: {connected: CBM-M-601-JOINED,"
    ).replace(
        "commands: {connected: CBM-M-601-CONNECT-CMD", "commands: {joined: CBM-M-601-CONNECT-CMD"
    )
    assert broken != text
    path = tmp_path / "pad.yaml"
    path.write_text(broken)
    with pytest.raises(DefinitionError) as refused:
        load_pad_definition(path)
    line = next(n for n, row in enumerate(broken.splitlines(), 1) if "CBM-M-601-JOINED" in row)
    assert refused.value.problems == [
        f"{path}:{line}: mechanisms[CBM-M-601].positions.connected: unknown tag 'CBM-M-601-JOINED'",
        f"{path}:{line}: mechanisms[CBM-M-601].commands.joined: no position 'joined' "
        "(positions: connected, retracted)",
    ]


@pytest.mark.parametrize(
    ("original", "broken", "problem"),
    [
        (
            "{name: LOX-FV-101, kind: valve, command: LOX-FV-101-CMD",
            "{name: LOX-FV-101, kind: valve, command: LOX-FV-101-ZSO",
            "actuators[LOX-FV-101].command: LOX-FV-101-ZSO is not writable: "
            "padctl cannot command it",
        ),
        (
            "{name: HDC-M-702, title: Hold-down clamp 2, positions: {clamped: HDC-M-702-CLAMPED",
            "{name: HDC-M-702, title: Hold-down clamp 2, positions: {clamped: HDC-CLAMP-CMD",
            "mechanisms[HDC-M-702].positions.clamped: HDC-CLAMP-CMD is a command, not feedback",
        ),
    ],
)
def test_actuator_and_mechanism_signals_are_checked_alike(
    tmp_path: Path, original: str, broken: str, problem: str
) -> None:
    text = reference_pad_path().read_text()
    assert original in text
    path = tmp_path / "pad.yaml"
    path.write_text(text.replace(original, broken))
    with pytest.raises(DefinitionError) as refused:
        load_pad_definition(path)
    assert [p.split(": ", 1)[1] for p in refused.value.problems] == [problem]
