"""The devices a console draws for each subsystem: the pad definition's actuators it commands."""

from __future__ import annotations

from padctl.console._devices import subsystem_devices
from padctl.definition import load_pad_definition, reference_pad_path
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
    drawn = [device["name"] for listed in devices.values() for device in listed]
    assert len(drawn) == len(set(drawn))  # one subsystem each
    # Every actuator but the pad bus breaker, which the mimic shows and no subsystem commands.
    assert set(drawn) == {actuator.name for actuator in DEFINITION.actuators} - {"PWR-CB-841"}
    erector = {device["name"] for device in devices["erector"]}
    assert "LOX-FV-101" not in erector  # read by its interlocks, commanded by LOX loading
    assert {"ERC-P-501", "ERC-LK-511", "ERC-LK-513"} <= erector
