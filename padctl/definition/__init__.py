"""Pad definitions: PLCs, tags, limits and the writable allow-list."""

from padctl.definition._loader import (
    DefinitionError,
    load_pad_definition,
    reference_pad_path,
    validate_pad_document,
)
from padctl.definition._model import (
    Actuator,
    ActuatorKind,
    AlarmSettings,
    Heartbeat,
    HistorySettings,
    ModbusAddress,
    ModbusPlc,
    ModbusTable,
    OpcUaPlc,
    OpcUaSecurity,
    PadDefinition,
    Protocol,
    StationSettings,
    Tag,
    TagType,
    WordOrder,
)

__all__ = [
    "Actuator",
    "ActuatorKind",
    "AlarmSettings",
    "DefinitionError",
    "Heartbeat",
    "HistorySettings",
    "ModbusAddress",
    "ModbusPlc",
    "ModbusTable",
    "OpcUaPlc",
    "OpcUaSecurity",
    "PadDefinition",
    "Protocol",
    "StationSettings",
    "Tag",
    "TagType",
    "WordOrder",
    "load_pad_definition",
    "reference_pad_path",
    "validate_pad_document",
]
