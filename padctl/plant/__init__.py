"""Plant I/O: tag table, PLC hubs (Modbus TCP, OPC UA), heartbeats and guarded writes."""

from padctl.plant._errors import CommError, PlantError, WriteFailed, WriteRefused
from padctl.plant._hub import Hub
from padctl.plant._modbus_codec import ReadBlock, plan_read_blocks
from padctl.plant._modbus_hub import ModbusHub
from padctl.plant._opcua_hub import OpcUaHub
from padctl.plant._plant import CommandJournal, Plant, record_soon
from padctl.plant._sample import Quality, Sample, TagValue
from padctl.plant._tag_table import TagGroup, TagTable

__all__ = [
    "CommError",
    "CommandJournal",
    "Hub",
    "ModbusHub",
    "OpcUaHub",
    "Plant",
    "PlantError",
    "Quality",
    "ReadBlock",
    "Sample",
    "TagGroup",
    "TagTable",
    "TagValue",
    "WriteFailed",
    "WriteRefused",
    "plan_read_blocks",
    "record_soon",
]
