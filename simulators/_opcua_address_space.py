"""The address space of simulated OPC UA PLCs: asyncua's standard nodes, filled once per
process and shared by every simulated server, each copying only the nodes it touches."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import threading
from collections.abc import Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from asyncua import ua
from asyncua.server.address_space import AttributeValue, NodeData
from asyncua.server.internal_server import InternalServer
from asyncua.server.standard_address_space import standard_address_space

_STANDARD_NODES: dict[ua.NodeId, NodeData] | None = None
_STANDARD_NODES_LOCK = threading.Lock()


def _standard_nodes() -> dict[ua.NodeId, NodeData]:
    """The OPC UA standard address space, filled once per process (about 1 s of CPU) and
    never handed to a server: each server copies the nodes it touches (_NodesCopiedOnUse)."""
    global _STANDARD_NODES
    with _STANDARD_NODES_LOCK:
        if _STANDARD_NODES is None:
            pristine = InternalServer()
            standard_address_space.fill_address_space(pristine.node_mgt_service)
            _STANDARD_NODES = dict(pristine.aspace._nodes)
        return _STANDARD_NODES


def _copy_node(node: NodeData) -> NodeData:
    copied = NodeData(node.nodeid)
    for attribute_id, attribute in node.attributes.items():
        value = AttributeValue(copy.deepcopy(attribute.value))
        value.value_callback = attribute.value_callback
        value.value_setter = attribute.value_setter
        value.datachange_callbacks = dict(attribute.datachange_callbacks)
        copied.attributes[attribute_id] = value
    copied.references = list(node.references)
    copied.call = node.call
    return copied


class _NodesCopiedOnUse(MutableMapping[ua.NodeId, NodeData]):
    """One server's address space over the shared standard nodes: a node is copied into the
    server's own dict the first time it is looked up, so no server sees another's writes."""

    def __init__(self, standard: dict[ua.NodeId, NodeData]) -> None:
        self._standard = standard
        self._own: dict[ua.NodeId, NodeData] = {}
        self._deleted: set[ua.NodeId] = set()

    def __getitem__(self, nodeid: ua.NodeId) -> NodeData:
        node = self._own.get(nodeid)
        if node is not None:
            return node
        if nodeid in self._deleted:
            raise KeyError(nodeid)
        node = self._own[nodeid] = _copy_node(self._standard[nodeid])
        return node

    def __setitem__(self, nodeid: ua.NodeId, node: NodeData) -> None:
        self._own[nodeid] = node
        self._deleted.discard(nodeid)

    def __delitem__(self, nodeid: ua.NodeId) -> None:
        if nodeid not in self:
            raise KeyError(nodeid)
        self._own.pop(nodeid, None)
        if nodeid in self._standard:
            self._deleted.add(nodeid)

    def __contains__(self, nodeid: object) -> bool:
        if nodeid in self._own:
            return True
        return nodeid in self._standard and nodeid not in self._deleted

    def __iter__(self) -> Iterator[ua.NodeId]:
        yield from self._own
        for nodeid in self._standard:
            if nodeid not in self._own and nodeid not in self._deleted:
                yield nodeid

    def __len__(self) -> int:
        return sum(1 for _ in self)


class SharedStandardNodesServer(InternalServer):
    """asyncua's internal server, its standard address space shared and copied on use.

    asyncua fills the standard address space (about 1 s of CPU, some 6,000 nodes) for every
    server, with `asyncio.to_thread`, which also leaves the loop's default executor thread
    running. Here it is filled once per process in a one-shot executor, and each server copies
    only the nodes it touches (asyncua's own shelf loading swaps the node dict the same way).
    """

    async def load_standard_address_space(self, shelf_file: Path | None = None) -> None:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-opcua-init")
        try:
            standard = await asyncio.get_running_loop().run_in_executor(executor, _standard_nodes)
        finally:
            executor.shutdown(wait=False)
        self.aspace._nodes = _NodesCopiedOnUse(standard)  # type: ignore[assignment]

    async def stop(self) -> None:
        # asyncua lets its server-clock task finish its 1 s sleep; a stopping PLC need not wait.
        task, self.time_task = self.time_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().stop()
