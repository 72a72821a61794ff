"""The OPC UA face's address space: Objects / <pad> / <group> / <point>, read-only.

Each PLC is an object holding its tags; a tag with a unit or a range is an AnalogItemType
variable with the `EngineeringUnits` and `EURange` properties (OPC UA Part 8). The groups
Countdown, Subsystems (an object per subsystem: State, Mode, Fault) and Alarms follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asyncua import ua
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes

from padctl.feed import SUBSYSTEMS_GROUP, Point, PointKind, Reading

UNECE_UNITS_URI = "http://www.opcfoundation.org/UA/units/un/cefact"

_DATA_TYPES = {
    PointKind.BOOL: (ObjectIds.Boolean, ua.VariantType.Boolean),
    PointKind.FLOAT: (ObjectIds.Double, ua.VariantType.Double),
    PointKind.COUNT: (ObjectIds.UInt64, ua.VariantType.UInt64),
    PointKind.TEXT: (ObjectIds.String, ua.VariantType.String),
}

# padctl's qualities as OPC UA status codes. STALE is UncertainLastUsableValue: the value was
# GOOD when it last came and is shown as it was, marked as not fresh; the PLC's link being
# down is what STALE means to padctl, and BadNoCommunication would hide the last value that
# a SCADA operator reads to judge what happened.
STATUS_OF_QUALITY = {
    "GOOD": StatusCodes.Good,
    "UNCERTAIN": StatusCodes.Uncertain,
    "STALE": StatusCodes.UncertainLastUsableValue,
    "BAD": StatusCodes.Bad,
}
NO_VALUE_YET = StatusCodes.BadWaitingForInitialData


@dataclass(frozen=True)
class PointNode:
    id: ua.NodeId
    variant_type: ua.VariantType


def make_node_id(identifier: int | str, namespace_index: int = 0) -> ua.NodeId:
    """A numeric or string NodeId (asyncua's constructor is typed for its own int types)."""
    if isinstance(identifier, int):
        return ua.NodeId(ua.Int32(identifier), ua.Int16(namespace_index))
    return ua.NodeId(ua.String(identifier), ua.Int16(namespace_index))


def _status(code: int) -> ua.StatusCode:
    return ua.StatusCode(ua.UInt32(code))


def point_node_id(group: str, name: str, namespace_index: int) -> ua.NodeId:
    """A point's NodeId: ns=<the face's>;s=<group>/<name> (a tag: PROP/LOX-PT-101)."""
    return make_node_id(f"{group}/{name}", namespace_index)


def address_space_items(
    pad: str, groups: dict[str, list[Point]], namespace_index: int
) -> tuple[list[ua.AddNodesItem], dict[tuple[str, str], PointNode]]:
    """Every node of the face (to add in one call), and each point's node by (group, name)."""
    ns = namespace_index
    pad_node = make_node_id(pad, ns)
    items = [_object(pad_node, pad, make_node_id(ObjectIds.ObjectsFolder), ns, "the pad")]
    nodes: dict[tuple[str, str], PointNode] = {}
    for group, points in groups.items():
        group_node = make_node_id(group, ns)
        items.append(_object(group_node, group, pad_node, ns, group))
        parents: dict[str, ua.NodeId] = {}
        for point in points:
            parent, browse_name = group_node, point.name
            if group == SUBSYSTEMS_GROUP and "/" in point.name:
                subsystem, browse_name = point.name.split("/", 1)
                parent = parents.get(subsystem, make_node_id(f"{group}/{subsystem}", ns))
                if subsystem not in parents:
                    parents[subsystem] = parent
                    items.append(_object(parent, subsystem, group_node, ns, subsystem))
            node_id = point_node_id(group, point.name, ns)
            data_type, variant_type = _DATA_TYPES[point.kind]
            nodes[(group, point.name)] = PointNode(node_id, variant_type)
            key = f"{group}/{point.name}"
            items += _variable(node_id, key, browse_name, parent, ns, point, data_type)
    return items, nodes


def data_value(reading: Reading, variant_type: ua.VariantType) -> ua.DataValue:
    """A reading as the value and status a SCADA sees (its source time padctl's receipt)."""
    status = STATUS_OF_QUALITY.get(reading.quality, StatusCodes.Bad)
    value = reading.value
    if value is None:
        status = NO_VALUE_YET
    elif variant_type is ua.VariantType.Double:
        value = float(value)
    elif variant_type is ua.VariantType.UInt64:
        value = int(value)
    elif variant_type is ua.VariantType.Boolean:
        value = bool(value)
    else:
        value = str(value)
    timestamp = ua.DateTime.fromtimestamp(reading.timestamp_ms / 1000, tz=dt.UTC)
    return ua.DataValue(
        Value=ua.Variant(value, variant_type) if value is not None else None,
        StatusCode=_status(status),
        SourceTimestamp=timestamp,
        ServerTimestamp=timestamp,
    )


def _object(
    node_id: ua.NodeId, name: str, parent: ua.NodeId, ns: int, description: str
) -> ua.AddNodesItem:
    return ua.AddNodesItem(
        RequestedNewNodeId=node_id,
        BrowseName=ua.QualifiedName(name, ns),
        NodeClass=ua.NodeClass.Object,
        ParentNodeId=parent,
        ReferenceTypeId=make_node_id(
            ObjectIds.Organizes if parent.NamespaceIndex == 0 else ObjectIds.HasComponent
        ),
        TypeDefinition=make_node_id(ObjectIds.BaseObjectType),
        NodeAttributes=ua.ObjectAttributes(
            DisplayName=ua.LocalizedText(name),
            Description=ua.LocalizedText(description),
            EventNotifier=0,
        ),
    )


def _variable(
    node_id: ua.NodeId,
    key: str,
    name: str,
    parent: ua.NodeId,
    ns: int,
    point: Point,
    data_type: int,
) -> list[ua.AddNodesItem]:
    analog = point.kind is PointKind.FLOAT and (point.unit or point.low is not None)
    read_only = ua.AccessLevel.CurrentRead.mask
    items = [
        ua.AddNodesItem(
            RequestedNewNodeId=node_id,
            BrowseName=ua.QualifiedName(name, ns),
            NodeClass=ua.NodeClass.Variable,
            ParentNodeId=parent,
            ReferenceTypeId=make_node_id(ObjectIds.HasComponent),
            TypeDefinition=make_node_id(
                ObjectIds.AnalogItemType if analog else ObjectIds.BaseDataVariableType
            ),
            NodeAttributes=ua.VariableAttributes(
                DisplayName=ua.LocalizedText(name),
                Description=ua.LocalizedText(point.description or point.name),
                Value=ua.Variant(),  # null until the first gather writes every point
                DataType=make_node_id(data_type),
                ValueRank=ua.ValueRank.Scalar,
                AccessLevel=read_only,
                UserAccessLevel=read_only,
                Historizing=False,
            ),
        )
    ]
    if point.unit:
        units = ua.EUInformation(
            NamespaceUri=UNECE_UNITS_URI,
            UnitId=-1,  # no UNECE code is claimed: the unit is named as the definition names it
            DisplayName=ua.LocalizedText(point.unit),
            Description=ua.LocalizedText(point.unit),
        )
        items.append(
            _property(node_id, key, "EngineeringUnits", ns, units, ObjectIds.EUInformation)
        )
    if point.low is not None and point.high is not None:
        span = ua.Range(Low=float(point.low), High=float(point.high))
        items.append(_property(node_id, key, "EURange", ns, span, ObjectIds.Range))
    return items


def _property(
    parent: ua.NodeId, parent_key: str, name: str, ns: int, value: object, data_type: int
) -> ua.AddNodesItem:
    return ua.AddNodesItem(
        RequestedNewNodeId=make_node_id(f"{parent_key}.{name}", ns),
        BrowseName=ua.QualifiedName(name, 0),
        NodeClass=ua.NodeClass.Variable,
        ParentNodeId=parent,
        ReferenceTypeId=make_node_id(ObjectIds.HasProperty),
        TypeDefinition=make_node_id(ObjectIds.PropertyType),
        NodeAttributes=ua.VariableAttributes(
            DisplayName=ua.LocalizedText(name),
            Value=ua.Variant(value, ua.VariantType.ExtensionObject),
            DataType=make_node_id(data_type),
            ValueRank=ua.ValueRank.Scalar,
            AccessLevel=ua.AccessLevel.CurrentRead.mask,
            UserAccessLevel=ua.AccessLevel.CurrentRead.mask,
        ),
    )
