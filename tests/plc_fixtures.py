"""Small pad definitions and simulated PLCs for plant I/O tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from padctl.definition import PadDefinition, load_pad_definition

MODBUS_TEST_PAD = """\
pad: modbus-test-pad
plcs:
  - id: TST
    area: test bench
    protocol: modbus
    host: 127.0.0.1
    port: 1
    unit_id: 3
    word_order: big
    poll_period_s: 0.02
    stale_after_s: 0.5
    timeout_s: 0.3
    reconnect_min_s: 0.05
    reconnect_max_s: 0.2
    heartbeat: {padctl_counter_tag: TST-HB-PADCTL, plc_counter_tag: TST-HB-PLC, period_s: 0.1, watchdog_s: 0.5}
tags:
  - {name: TST-PT-101, plc: TST, type: float32, unit: bar, range: [0, 10], address: "ir:0"}
  - {name: TST-PT-102, plc: TST, type: float32, unit: bar, range: [0, 10], address: "ir:2", word_order: little}
  - {name: TST-TT-101, plc: TST, type: int16, unit: K, range: [-300, 300], scale: 0.01, address: "ir:4"}
  - {name: TST-LT-101, plc: TST, type: uint16, unit: "%", range: [0, 100], address: "ir:5"}
  - {name: TST-FT-101, plc: TST, type: int32, unit: kg/s, range: [-100000, 100000], address: "ir:6"}
  - {name: TST-FT-102, plc: TST, type: uint32, unit: kg/s, range: [0, 4000000], address: "ir:8", word_order: little}
  - {name: TST-ET-101, plc: TST, type: float64, unit: V, range: [0, 1000], address: "ir:20"}
  - {name: TST-HB-PLC, plc: TST, type: uint16, unit: count, range: [0, 65535], address: "ir:30"}
  - {name: TST-FV-101-ZSO, plc: TST, type: bool, unit: "", address: "di:0"}
  - {name: TST-FV-101-ZSC, plc: TST, type: bool, unit: "", address: "di:1"}
  - {name: TST-FV-102-ZSO, plc: TST, type: bool, unit: "", address: "di:37"}
  - {name: TST-FV-101-CMD, plc: TST, type: bool, unit: "", address: "co:0", writable: true, safe: false}
  - {name: TST-VV-101-CMD, plc: TST, type: bool, unit: "", address: "co:21", writable: true, safe: true}
  - {name: TST-CV-101-SP, plc: TST, type: float32, unit: "%", range: [0, 100], address: "hr:0", writable: true, safe: 0}
  - {name: TST-CV-102-SP, plc: TST, type: int16, unit: bar, range: [0, 50], scale: 0.1, address: "hr:2", writable: true, safe: 5}
  - {name: TST-CV-103-SP, plc: TST, type: uint32, unit: rpm, range: [0, 100000], address: "hr:4", writable: true, safe: 0, word_order: little}
  - {name: TST-HB-PADCTL, plc: TST, type: uint16, unit: count, range: [0, 65535], address: "hr:10", writable: true, safe: 0}
  - {name: TST-ST-101, plc: TST, type: float32, unit: rpm, range: [0, 5000], address: "hr:12"}
"""


def write_definition(tmp_path: Path, text: str, name: str = "pad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def modbus_test_pad(tmp_path: Path) -> PadDefinition:
    return load_pad_definition(write_definition(tmp_path, MODBUS_TEST_PAD))
