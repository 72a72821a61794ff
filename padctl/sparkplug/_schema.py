"""The Sparkplug B payload schema (Eclipse Sparkplug 3.0, `sparkplug_b.proto`), built with
`protobuf` at import time: the message classes come from protobuf's own runtime, so nothing
here encodes a byte by hand.

Only the parts padctl publishes or reads are declared (payload, metric, property set and
value, metadata); a field padctl does not declare (a template, a data set) arrives as an
unknown field and is kept, never misread. The field numbers are the specification's.
"""

from __future__ import annotations

import enum
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "org.eclipse.tahu.protobuf"
_F = descriptor_pb2.FieldDescriptorProto

# (name, number, type, label, message type or None, in the `value` oneof)
_FieldSpec = tuple[str, int, int, int, str | None, bool]
_OPT, _REP = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED

_PROPERTY_VALUE: list[_FieldSpec] = [
    ("type", 1, _F.TYPE_UINT32, _OPT, None, False),
    ("is_null", 2, _F.TYPE_BOOL, _OPT, None, False),
    ("int_value", 3, _F.TYPE_UINT32, _OPT, None, True),
    ("long_value", 4, _F.TYPE_UINT64, _OPT, None, True),
    ("float_value", 5, _F.TYPE_FLOAT, _OPT, None, True),
    ("double_value", 6, _F.TYPE_DOUBLE, _OPT, None, True),
    ("boolean_value", 7, _F.TYPE_BOOL, _OPT, None, True),
    ("string_value", 8, _F.TYPE_STRING, _OPT, None, True),
    ("propertyset_value", 9, _F.TYPE_MESSAGE, _OPT, "PropertySet", True),
]
_PROPERTY_SET: list[_FieldSpec] = [
    ("keys", 1, _F.TYPE_STRING, _REP, None, False),
    ("values", 2, _F.TYPE_MESSAGE, _REP, "PropertyValue", False),
]
_METADATA: list[_FieldSpec] = [
    ("is_multi_part", 1, _F.TYPE_BOOL, _OPT, None, False),
    ("content_type", 2, _F.TYPE_STRING, _OPT, None, False),
    ("size", 3, _F.TYPE_UINT64, _OPT, None, False),
    ("seq", 4, _F.TYPE_UINT64, _OPT, None, False),
    ("file_name", 5, _F.TYPE_STRING, _OPT, None, False),
    ("file_type", 6, _F.TYPE_STRING, _OPT, None, False),
    ("md5", 7, _F.TYPE_STRING, _OPT, None, False),
    ("description", 8, _F.TYPE_STRING, _OPT, None, False),
]
_METRIC: list[_FieldSpec] = [
    ("name", 1, _F.TYPE_STRING, _OPT, None, False),
    ("alias", 2, _F.TYPE_UINT64, _OPT, None, False),
    ("timestamp", 3, _F.TYPE_UINT64, _OPT, None, False),
    ("datatype", 4, _F.TYPE_UINT32, _OPT, None, False),
    ("is_historical", 5, _F.TYPE_BOOL, _OPT, None, False),
    ("is_transient", 6, _F.TYPE_BOOL, _OPT, None, False),
    ("is_null", 7, _F.TYPE_BOOL, _OPT, None, False),
    ("metadata", 8, _F.TYPE_MESSAGE, _OPT, "MetaData", False),
    ("properties", 9, _F.TYPE_MESSAGE, _OPT, "PropertySet", False),
    ("int_value", 10, _F.TYPE_UINT32, _OPT, None, True),
    ("long_value", 11, _F.TYPE_UINT64, _OPT, None, True),
    ("float_value", 12, _F.TYPE_FLOAT, _OPT, None, True),
    ("double_value", 13, _F.TYPE_DOUBLE, _OPT, None, True),
    ("boolean_value", 14, _F.TYPE_BOOL, _OPT, None, True),
    ("string_value", 15, _F.TYPE_STRING, _OPT, None, True),
    ("bytes_value", 16, _F.TYPE_BYTES, _OPT, None, True),
]
_PAYLOAD: list[_FieldSpec] = [
    ("timestamp", 1, _F.TYPE_UINT64, _OPT, None, False),
    ("metrics", 2, _F.TYPE_MESSAGE, _REP, "Metric", False),
    ("seq", 3, _F.TYPE_UINT64, _OPT, None, False),
    ("uuid", 4, _F.TYPE_STRING, _OPT, None, False),
    ("body", 5, _F.TYPE_BYTES, _OPT, None, False),
]


class DataType(enum.IntEnum):
    """Sparkplug B metric and property datatypes (the specification's numbers)."""

    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12


def _message(name: str, fields: list[_FieldSpec]) -> descriptor_pb2.DescriptorProto:
    message = descriptor_pb2.DescriptorProto(name=name)
    if any(in_oneof for *_, in_oneof in fields):
        message.oneof_decl.add(name="value")
    for field_name, number, field_type, label, type_name, in_oneof in fields:
        field = message.field.add(name=field_name, number=number, type=field_type, label=label)
        if type_name is not None:
            field.type_name = f".{PACKAGE}.Payload.{type_name}"
        if in_oneof:
            field.oneof_index = 0
    return message


def _build() -> Any:
    file = descriptor_pb2.FileDescriptorProto(
        name="padctl_sparkplug_b.proto", package=PACKAGE, syntax="proto2"
    )
    payload = _message("Payload", _PAYLOAD)
    for name, fields in (
        ("PropertyValue", _PROPERTY_VALUE),
        ("PropertySet", _PROPERTY_SET),
        ("MetaData", _METADATA),
        ("Metric", _METRIC),
    ):
        payload.nested_type.append(_message(name, fields))
    payload.extension_range.add(start=6, end=536870912)
    file.message_type.append(payload)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.Payload"))


Payload: Any = _build()
