"""The tag-table side of one OPC UA PLC's subscription: the first read, the monitored
items, and every data value decoded, qualified and timestamped into the tag table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import structlog
from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.subscription import DataChangeNotif, Subscription
from asyncua.ua.attribute_ids import AttributeIds

from padctl.clock import Clock
from padctl.definition import Tag, TagType
from padctl.plant._opcua_codec import value_decoder
from padctl.plant._sample import Quality
from padctl.plant._tag_table import TagGroup, TagTable

log = structlog.get_logger()

# Requests per service call when reading or creating monitored items (real PLCs cap these).
_ITEMS_PER_CALL = 500
# Values the server keeps per monitored item between two publishes. An analog or counter tag
# needs only its latest (a deeper queue multiplies notifications, and latency, for fast
# signals); a discrete tag keeps its transitions, so a pulse shorter than the publishing
# interval still reaches the tag table and its listeners.
_ANALOG_QUEUE_SIZE = 1
_DISCRETE_QUEUE_SIZE = 8


# Called with (tag name, data value) for every value a subscription delivers (the HIL rig
# check records the variant type each node sends).
DataValueObserver = Callable[[str, ua.DataValue], None]


class SubscriptionData:
    """Decodes one PLC's OPC UA items into the tag table; each item is one group of its own."""

    def __init__(
        self,
        *,
        plc_id: str,
        tags: Sequence[Tag],
        table: TagTable,
        clock: Clock,
        observer: DataValueObserver | None = None,
    ) -> None:
        self._plc_id = plc_id
        self._observer = observer
        self._tags = list(tags)
        self._table = table
        self._clock = clock
        self._names = [tag.name for tag in self._tags]
        # One OPC UA item is one group: its own timestamps and quality.
        self.groups: list[TagGroup] = [table.group([name]) for name in self._names]
        self._decoders = [value_decoder(tag) for tag in self._tags]
        self._queue_sizes = [
            _DISCRETE_QUEUE_SIZE if tag.type is TagType.BOOL else _ANALOG_QUEUE_SIZE
            for tag in self._tags
        ]

    def mark_all_bad(self, reason: str) -> None:
        now_s = self._clock.now()
        for group in self.groups:
            self._table.mark_bad(group, reason=f"PLC {self._plc_id}: {reason}", t_received_s=now_s)

    async def initial_read(self, client: Client, node_ids: list[ua.NodeId]) -> None:
        """Read every item once, so the table holds values before the first publish."""
        for start in range(0, len(node_ids), _ITEMS_PER_CALL):
            params = ua.ReadParameters(
                MaxAge=0,
                TimestampsToReturn=ua.TimestampsToReturn.Both,
                NodesToRead=[
                    ua.ReadValueId(NodeId=node_id, AttributeId=AttributeIds.Value)
                    for node_id in node_ids[start : start + _ITEMS_PER_CALL]
                ],
            )
            values = await client.uaclient.read(params)
            for index, value in enumerate(values, start=start):
                self.store(index, value)

    async def monitor(
        self, subscription: Subscription, node_ids: list[ua.NodeId], sampling_interval_ms: float
    ) -> None:
        """Create the monitored items; an item the server refuses reads BAD, naming why."""
        missing: list[str] = []
        for start in range(0, len(node_ids), _ITEMS_PER_CALL):
            requests = [
                ua.MonitoredItemCreateRequest(
                    ItemToMonitor=ua.ReadValueId(NodeId=node_id, AttributeId=AttributeIds.Value),
                    MonitoringMode=ua.MonitoringMode.Reporting,
                    RequestedParameters=ua.MonitoringParameters(
                        ClientHandle=index,
                        SamplingInterval=sampling_interval_ms,
                        QueueSize=self._queue_sizes[index],
                        DiscardOldest=True,
                    ),
                )
                for index, node_id in enumerate(
                    node_ids[start : start + _ITEMS_PER_CALL], start=start
                )
            ]
            results = await subscription.create_monitored_items(requests)
            for index, result in enumerate(results, start=start):
                if isinstance(result, ua.StatusCode):
                    missing.append(f"{self._names[index]} ({result.name})")
                    self._table.mark_bad(
                        self.groups[index],
                        reason=(
                            f"PLC {self._plc_id} cannot monitor {node_ids[index]}: {result.name}"
                        ),
                        t_received_s=self._clock.now(),
                    )
        if missing:
            log.error("plc_tags_not_monitored", plc=self._plc_id, tags=missing)

    def store(self, index: int, data_value: ua.DataValue) -> None:
        """Put one item's data value into the table: decoded, qualified and timestamped."""
        if self._observer is not None:
            self._observer(self._names[index], data_value)
        received_s = self._clock.now()
        status = data_value.StatusCode
        variant = data_value.Value
        raw = variant.Value if variant is not None else None
        if status is None or status.is_good():
            quality, reason = Quality.GOOD, ""
        elif status.is_uncertain():
            quality, reason = Quality.UNCERTAIN, f"PLC {self._plc_id} reports {status.name}"
        else:
            quality, reason = Quality.BAD, f"PLC {self._plc_id} reports {status.name}"
        decoded = self._decoders[index](raw) if raw is not None else None
        if decoded is None:
            if raw is not None:
                expected = self._tags[index].type.value
                reason = f"PLC {self._plc_id} sent {type(raw).__name__} {raw!r}, not {expected}"
            self._table.mark_bad(
                self.groups[index],
                reason=reason or f"PLC {self._plc_id} sent no value",
                t_received_s=received_s,
            )
            return
        self._table.update_group(
            self.groups[index],
            (decoded,),
            t_source_s=self._source_time(data_value.SourceTimestamp, received_s),
            t_received_s=received_s,
            quality=quality,
            reason=reason,
        )

    def _source_time(self, stamp: datetime | None, received_s: float) -> float:
        """The PLC's source timestamp on the clock's scale (never later than reception)."""
        if stamp is None or stamp.year < 2000:  # absent, or OPC UA's null date (1601)
            return received_s
        age_wall_s = max(0.0, self._clock.wall_now() - stamp.timestamp())
        return received_s - age_wall_s * self._clock.rate


class TableFeed:
    """asyncua's subscription handler for one connection: data changes and status to the hub."""

    def __init__(
        self,
        on_data_change: Callable[[int, ua.DataValue], None],
        on_status_change: Callable[[ua.StatusCode], None],
    ) -> None:
        self._on_data_change = on_data_change
        self._on_status_change = on_status_change

    def datachange_notification(self, node: Any, val: Any, data: DataChangeNotif) -> None:
        item = data.monitored_item
        self._on_data_change(item.ClientHandle, item.Value)

    def status_change_notification(self, status: ua.StatusChangeNotification) -> None:
        self._on_status_change(status.Status)


def node_id(tag: Tag, namespace_index: int) -> ua.NodeId:
    """The OPC UA node of `tag` in the server's namespace `namespace_index`."""
    return ua.NodeId(ua.String(tag.address), ua.Int16(namespace_index))
