"""Plant I/O: tag table, PLC hubs (Modbus TCP, OPC UA), heartbeats and guarded writes."""

from padctl.plant._errors import CommError, PlantError, WriteFailed, WriteRefused
from padctl.plant._heartbeat import HeartbeatKeeper, WatchdogState
from padctl.plant._hub import Hub
from padctl.plant._modbus_codec import ReadBlock, plan_read_blocks
from padctl.plant._modbus_hub import ModbusHub
from padctl.plant._opcua_client_security import security_warnings
from padctl.plant._opcua_hub import OpcUaHub
from padctl.plant._plant import CommandJournal, Plant, record_soon
from padctl.plant._replay import (
    RecordedSample,
    Recording,
    RecordingError,
    ReplaySource,
    TagRecorder,
    read_recording,
)
from padctl.plant._sample import Quality, Sample, TagValue
from padctl.plant._tag_table import TagGroup, TagTable
from padctl.plant._write_guard import (
    Admission,
    BenchWriteGuard,
    RefuseAllWrites,
    WriteAllowance,
    WriteConfirmation,
    WriteGuard,
    is_safe_value,
)

__all__ = [
    "Admission",
    "BenchWriteGuard",
    "CommError",
    "CommandJournal",
    "HeartbeatKeeper",
    "Hub",
    "ModbusHub",
    "OpcUaHub",
    "Plant",
    "PlantError",
    "Quality",
    "ReadBlock",
    "RecordedSample",
    "Recording",
    "RecordingError",
    "RefuseAllWrites",
    "ReplaySource",
    "Sample",
    "TagGroup",
    "TagRecorder",
    "TagTable",
    "TagValue",
    "WatchdogState",
    "WriteAllowance",
    "WriteConfirmation",
    "WriteFailed",
    "WriteGuard",
    "WriteRefused",
    "is_safe_value",
    "plan_read_blocks",
    "read_recording",
    "record_soon",
    "security_warnings",
]
