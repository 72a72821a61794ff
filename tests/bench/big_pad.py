"""A large synthetic pad definition for benchmarks: 5,000 Modbus tags on 4 PLCs, 1,000 OPC UA."""

from __future__ import annotations

from pathlib import Path

MODBUS_PLCS = 4
MODBUS_TAGS_PER_PLC = 1250
OPCUA_TAGS = 1000
OPCUA_STAMP_TAGS = 100  # carry the simulator's wall time, to measure update latency
OPCUA_PUBLISHING_INTERVAL_MS = 50


def big_pad_yaml() -> str:
    lines = ["pad: bench-pad", "plcs:"]
    for index in range(MODBUS_PLCS):
        lines += [
            f"  - {{id: M{index}, area: bench, protocol: modbus, host: 127.0.0.1, "
            f"port: {16000 + index}, unit_id: 1, poll_period_s: 0.01, stale_after_s: 1.0, "
            "timeout_s: 1.0}",
        ]
    lines += [
        "  - {id: UA, area: bench, protocol: opcua, endpoint: 'opc.tcp://127.0.0.1:16100/bench',"
        f" namespace: 'urn:padctl:bench', publishing_interval_ms: {OPCUA_PUBLISHING_INTERVAL_MS},"
        " stale_after_s: 2.0, timeout_s: 2.0}",
        "tags:",
    ]
    for plc in range(MODBUS_PLCS):
        # Per PLC: 800 16-bit values (half scaled int16), 200 float32, 250 bits.
        register = 0
        for n in range(800):
            if n % 2:
                lines.append(
                    f"  - {{name: M{plc}-TT-{n:04d}, plc: M{plc}, type: int16, unit: K, "
                    f"range: [-300, 300], scale: 0.01, address: 'ir:{register}'}}"
                )
            else:
                lines.append(
                    f"  - {{name: M{plc}-LT-{n:04d}, plc: M{plc}, type: uint16, unit: '%', "
                    f"range: [0, 65535], address: 'ir:{register}'}}"
                )
            register += 1
        for n in range(200):
            lines.append(
                f"  - {{name: M{plc}-PT-{n:04d}, plc: M{plc}, type: float32, unit: bar, "
                f"range: [0, 1000], address: 'ir:{register}'}}"
            )
            register += 2
        for n in range(250):
            lines.append(
                f"  - {{name: M{plc}-ZS-{n:04d}, plc: M{plc}, type: bool, unit: '', "
                f"address: 'di:{n}'}}"
            )
    for n in range(OPCUA_TAGS):
        kind = "ST" if n < OPCUA_STAMP_TAGS else "PT"
        lines.append(
            f"  - {{name: UA-{kind}-{n:04d}, plc: UA, type: float64, unit: s, "
            f"range: [0, 1.0e12], address: 'UA-{kind}-{n:04d}'}}"
        )
    return "\n".join(lines) + "\n"


def write_big_pad(path: Path) -> Path:
    path.write_text(big_pad_yaml(), encoding="utf-8")
    return path
