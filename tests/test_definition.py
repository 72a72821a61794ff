"""Pad definition loading: every problem named with file, line and field; nothing half-loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from padctl.definition import DefinitionError, load_pad_definition
from tests.plc_fixtures import MODBUS_TEST_PAD, write_definition


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = write_definition(tmp_path, text)
    with pytest.raises(DefinitionError) as caught:
        load_pad_definition(path)
    assert all(problem.startswith(f"{path}:") for problem in caught.value.problems)
    return caught.value.problems


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_valid_test_pad_loads(tmp_path: Path) -> None:
    definition = load_pad_definition(write_definition(tmp_path, MODBUS_TEST_PAD))
    assert definition.plc("TST").protocol == "modbus"
    assert definition.tag("TST-TT-101").scale == 0.01
    assert [t.name for t in definition.tags_of("TST") if t.writable][:2] == [
        "TST-FV-101-CMD",
        "TST-VV-101-CMD",
    ]


@pytest.mark.parametrize(
    ("original", "broken", "expected"),
    [
        ('address: "ir:2", word_order', 'address: "ir:1", word_order', "overlaps tag TST-PT-101"),
        (
            'type: float32, unit: bar, range: [0, 10], address: "ir:0"',
            'type: float32, unit: bar, range: [10, 0], address: "ir:0"',
            "range low 10",
        ),
        ('address: "di:1"', 'address: "dx:1"', "not of the form TABLE:OFFSET"),
        (
            "{name: TST-LT-101, plc: TST, type: uint16",
            "{name: TST-LT-101, plc: NOPE, type: uint16",
            "unknown PLC 'NOPE'",
        ),
        (
            "{name: TST-ET-101, plc: TST, type: float64",
            "{name: TST-ET-101, plc: TST, type: float128",
            "Input should be",
        ),
        (
            'address: "co:21", writable: true, safe: true',
            'address: "co:21", writable: true',
            "needs a safe value",
        ),
        ('address: "ir:30"}', 'address: "ir:30", writable: true, safe: 0}', "read-only"),
        (
            'range: [0, 50], scale: 0.1, address: "hr:2", writable: true, safe: 5}',
            'range: [0, 50], scale: 0.1, address: "hr:2", writable: true, safe: 500}',
            "outside range",
        ),
        (
            "{name: TST-FV-101-ZSC, plc: TST, type: bool",
            "{name: TST-FV-101-ZSC, plc: TST, type: uint16",
            "holds bits",
        ),
        (
            '{name: TST-PT-102, plc: TST, type: float32, unit: bar, range: [0, 10], address: "ir:2"',
            '{name: TST-PT-101, plc: TST, type: float32, unit: bar, range: [0, 10], address: "ir:2"',
            "duplicate tag name",
        ),
        ("{name: TST-ST-101, plc: TST", "{name: tst st 101, plc: TST", "String should match"),
        (
            'type: int16, unit: K, range: [-300, 300], scale: 0.01, address: "ir:4"',
            'type: int16, unit: K, range: [-300, 400], scale: 0.01, address: "ir:4"',
            "beyond int16",
        ),
        (
            'address: "hr:0", writable: true, safe: 0}',
            'address: "hr:0", writable: true, safe: true}',
            "must be a number",
        ),
        (
            'type: float32, unit: rpm, range: [0, 5000], address: "hr:12"}',
            'type: float32, unit: rpm, range: [0, 5000], address: "hr:12", colour: red}',
            "Extra inputs are not permitted",
        ),
    ],
)
def test_each_tag_problem_names_its_line_and_field(
    tmp_path: Path, original: str, broken: str, expected: str
) -> None:
    assert original in MODBUS_TEST_PAD, original
    text = MODBUS_TEST_PAD.replace(original, broken, 1)
    problems = _problems(tmp_path, text)
    matching = [p for p in problems if expected in p]
    assert matching, problems
    line = _line_of(text, broken)
    assert any(f":{line}: tags[" in p for p in matching), (line, problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = MODBUS_TEST_PAD.replace('address: "ir:2"', 'address: "ir:1"').replace(
        'plc: TST, type: uint16, unit: "%"', 'plc: GHOST, type: uint16, unit: "%"'
    )
    problems = _problems(tmp_path, text)
    assert len(problems) >= 2
    assert any("overlaps" in p for p in problems) and any("GHOST" in p for p in problems)


def test_plc_field_problem_names_the_plc_line(tmp_path: Path) -> None:
    text = MODBUS_TEST_PAD.replace("    port: 1\n", "    port: 70000\n")
    problems = _problems(tmp_path, text)
    line = _line_of(text, "port: 70000")
    assert any(p.startswith(f"{tmp_path / 'pad.yaml'}:{line}: plcs[TST].port:") for p in problems)


def test_heartbeat_must_name_writable_counter(tmp_path: Path) -> None:
    text = MODBUS_TEST_PAD.replace(
        "padctl_counter_tag: TST-HB-PADCTL", "padctl_counter_tag: TST-HB-PLC"
    )
    problems = _problems(tmp_path, text)
    assert any("padctl must be allowed to write TST-HB-PLC" in p for p in problems), problems


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    text = MODBUS_TEST_PAD.replace("  - {name: TST-LT-101,", "  - {name: [TST-LT-101,")
    problems = _problems(tmp_path, text)
    assert len(problems) == 1 and ": yaml: " in problems[0]


def test_duplicate_keys_are_refused_with_their_line(tmp_path: Path) -> None:
    text = MODBUS_TEST_PAD.replace("    unit_id: 3\n", "    unit_id: 3\n    unit_id: 4\n")
    problems = _problems(tmp_path, text)
    line = _line_of(text, "unit_id: 4")
    assert problems == [
        f"{tmp_path / 'pad.yaml'}:{line}: yaml: duplicate key 'unit_id' (a later value would silently win)"
    ]


def test_missing_file_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="No such file"):
        load_pad_definition(tmp_path / "absent.yaml")


def test_endpoint_rewrite_keeps_everything_else(tmp_path: Path) -> None:
    definition = load_pad_definition(write_definition(tmp_path, MODBUS_TEST_PAD))
    assert definition.plc("TST").port == 1  # type: ignore[union-attr]  (fills the lookup cache)
    moved = definition.with_plc_endpoint("TST", host="127.0.0.1", port=40123)
    assert moved.plc("TST").port == 40123  # type: ignore[union-attr]
    assert moved.tags == definition.tags
    with pytest.raises(KeyError, match="NOPE"):
        definition.with_plc_endpoint("NOPE", host="127.0.0.1", port=1)


def test_alarm_shelving_limit_has_a_default_and_is_validated(tmp_path: Path) -> None:
    default = load_pad_definition(write_definition(tmp_path, MODBUS_TEST_PAD))
    assert default.alarms.max_shelve_s == 2 * 3600.0
    text = MODBUS_TEST_PAD.replace("\nplcs:", "\nalarms: {max_shelve_s: 900}\nplcs:", 1)
    assert load_pad_definition(write_definition(tmp_path, text)).alarms.max_shelve_s == 900
    broken = text.replace("max_shelve_s: 900", "max_shelve_s: -5")
    problems = _problems(tmp_path, broken)
    assert any("alarms.max_shelve_s" in p and "greater than 0" in p for p in problems), problems
