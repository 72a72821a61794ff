"""The OPC UA server face: a read-only address space of the pad for plant SCADA."""

from padctl.opcua_face._address_space import STATUS_OF_QUALITY, UNECE_UNITS_URI
from padctl.opcua_face._face import SERVER_ALARM_ID, OpcUaFace, OpcUaFaceSettings, served
from padctl.opcua_security import ServerSecurity

__all__ = [
    "SERVER_ALARM_ID",
    "STATUS_OF_QUALITY",
    "UNECE_UNITS_URI",
    "OpcUaFace",
    "OpcUaFaceSettings",
    "ServerSecurity",
    "served",
]
