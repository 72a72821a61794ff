"""A plant SCADA's view of padctl's OPC UA face, through a client stack other than asyncua's:
python-opcua (FreeOpcUa's synchronous library, its own code for channels, sessions, crypto
and encoding). Run as a process of its own; prints one JSON object on its last line.

    python tests/opcua_scada_client.py ENDPOINT --cert C --key K --user U --password P
        --watch NODE_ID [--watch ...] [--until-status NODE_ID=STATUS] [--write NODE_ID]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import warnings
from typing import Any

warnings.filterwarnings("ignore")

from opcua import Client, ua  # noqa: E402  (python-opcua, not asyncua)


class _Changes:
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.changed = threading.Event()

    def datachange_notification(self, node: Any, value: Any, data: Any) -> None:
        data_value = data.monitored_item.Value
        self.seen.append(
            {
                "node": node.nodeid.to_string(),
                "value": value,
                "status": data_value.StatusCode.name,
            }
        )
        self.changed.set()


def _children(node: Any) -> dict[str, dict[str, Any]]:
    """A node's children in the face's namespace, from one Browse (properties left out)."""
    found = {}
    for ref in node.get_children_descriptions(refs=ua.ObjectIds.HierarchicalReferences):
        if (
            ref.NodeId.NamespaceIndex == 0
            or ref.ReferenceTypeId.Identifier == ua.ObjectIds.HasProperty
        ):
            continue
        found[ref.NodeId.to_string()] = {
            "browse_name": ref.BrowseName.Name,
            "class": ref.NodeClass.name,
            "type": ref.TypeDefinition.Identifier,
        }
    return found


def _tree(client: Any, node: Any, depth: int) -> dict[str, Any]:
    children = _children(node)
    if depth > 1:
        for node_id, entry in children.items():
            if entry["class"] == "Object":
                entry["children"] = _tree(client, client.get_node(node_id), depth - 1)
    return children


def _detail(node: Any) -> dict[str, Any]:
    """What a SCADA reads to show a value: its properties (unit, range)."""
    entry: dict[str, Any] = {}
    for prop in node.get_properties():
        name = prop.get_browse_name().Name
        value = prop.get_value()
        if name == "EngineeringUnits":
            entry["unit"] = value.DisplayName.Text
            entry["unit_namespace"] = value.NamespaceUri
        elif name == "EURange":
            entry["range"] = [value.Low, value.High]
    return entry


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--pad", required=True)
    parser.add_argument("--watch", action="append", default=[])
    parser.add_argument("--until-status", default="")
    parser.add_argument("--write", default="")
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()
    client = Client(args.endpoint, timeout=10)
    if args.cert:
        client.set_security_string(f"Basic256Sha256,SignAndEncrypt,{args.cert},{args.key}")
    if args.user:
        client.set_user(args.user)
        client.set_password(args.password)
    result: dict[str, Any] = {}
    try:
        client.connect()
    except Exception as error:  # refused: the test asserts on the reason
        print(json.dumps({"connected": False, "error": f"{type(error).__name__}: {error}"}))
        return 0
    try:
        result["connected"] = True
        result["policy"] = client.security_policy.URI
        ns = client.get_namespace_index(f"urn:padctl:{args.pad}:scada")
        pad = client.get_node(ua.NodeId(args.pad, ns))
        result["tree"] = _tree(client, pad, depth=3)
        result["detail"] = {n: _detail(client.get_node(n)) for n in args.watch}
        if args.write:
            try:
                client.get_node(args.write).set_value(ua.DataValue(ua.Variant(1.0)))
                result["write"] = "accepted"
            except ua.UaStatusCodeError as error:
                result["write"] = "refused"
                result["write_code"] = error.code
        changes = _Changes()
        subscription = client.create_subscription(100, changes)
        subscription.subscribe_data_change([client.get_node(n) for n in args.watch])
        target_node, _, target_status = args.until_status.partition("=")
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            changes.changed.wait(0.1)
            changes.changed.clear()
            if not target_node:
                if {c["node"] for c in changes.seen} >= set(args.watch):
                    break
            elif any(
                c["node"] == target_node and c["status"] == target_status for c in changes.seen
            ):
                break
        result["changes"] = changes.seen
        subscription.delete()
    finally:
        client.disconnect()
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
