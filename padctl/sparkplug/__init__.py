"""Sparkplug B over MQTT: padctl as an edge node for remote consoles and historians."""

from padctl.feed import Reading
from padctl.sparkplug._edge_node import (
    QUALITY_CODES,
    REBIRTH,
    BrokerAddress,
    EdgeNode,
    MetricDef,
)
from padctl.sparkplug._face import (
    ALARMS_DEVICE,
    COUNTDOWN_DEVICE,
    LINK_ALARM_ID,
    SUBSYSTEMS_DEVICE,
    MqttUrlError,
    SparkplugFace,
    SparkplugSettings,
    device_metrics,
    parse_mqtt_url,
    published,
)
from padctl.sparkplug._remote import READ_ONLY_REASON, RemoteStation
from padctl.sparkplug._schema import DataType, Payload

__all__ = [
    "ALARMS_DEVICE",
    "COUNTDOWN_DEVICE",
    "LINK_ALARM_ID",
    "QUALITY_CODES",
    "READ_ONLY_REASON",
    "REBIRTH",
    "SUBSYSTEMS_DEVICE",
    "BrokerAddress",
    "DataType",
    "EdgeNode",
    "MetricDef",
    "MqttUrlError",
    "Payload",
    "Reading",
    "RemoteStation",
    "SparkplugFace",
    "SparkplugSettings",
    "device_metrics",
    "parse_mqtt_url",
    "published",
]
