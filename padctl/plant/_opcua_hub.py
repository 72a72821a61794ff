"""OPC UA hub: one supervised asyncua client per PLC, one subscription feeding the tag table."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

import structlog
from asyncua import ua
from asyncua.client.client import Client
from asyncua.client.ua_client import UaClientState
from asyncua.common.subscription import Subscription
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from padctl.clock import Clock, next_loop_turn, wait_event
from padctl.definition import OpcUaPlc, Tag
from padctl.plant._errors import CommError, WriteFailed, WriteRefused
from padctl.plant._opcua_client_security import check_security, configure_security
from padctl.plant._opcua_codec import VARIANT_TYPES, encode_value
from padctl.plant._opcua_data import DataValueObserver, SubscriptionData, TableFeed, node_id
from padctl.plant._sample import TagValue
from padctl.plant._tag_table import TagTable
from padctl.supervisor import Pulse
from padctl.tasks import cancel_and_wait
from padctl.timeouts import within_wall

log = structlog.get_logger()

_T = TypeVar("_T")


# Round trips of a connection (hello, channel, session, activate, namespace, subscription,
# read, monitored items): the connection as a whole must be up within this many timeouts.
_CONNECT_TIMEOUTS = 8
# asyncua's own health probe (a wall-clock read with a timeout of this interval) would mark a
# busy server dead for good; the hub's watchdog does that job, so asyncua's only waits for a
# dropped socket.
_ASYNCUA_WATCHDOG_S = 3600.0
_SESSION_TIMEOUT_MIN_MS = 10_000.0
# The subscription counts as dead after this many watchdog periods without a publish.
_KEEPALIVE_MISSED_LIMIT = 3
# Keep-alive publishes (and looks for them) per stale limit of the PLC's data.
_CONFIRMS_PER_STALE_LIMIT = 4


class OpcUaHub:
    """Keeps one OPC UA PLC's tags fresh in the tag table through a subscription; writes outputs.

    One asyncua client and one subscription per PLC. Data changes go straight from the
    subscription's callback into the tag table; nothing is queued on the client side. A
    watchdog reads the server state every `_watchdog_period_s` (clock) with the PLC's timeout
    and checks that publishes (data or keep-alive) keep coming, so a server that stops
    answering is reconnected, not just marked stale by age.
    """

    def __init__(
        self,
        *,
        plc: OpcUaPlc,
        tags: Sequence[Tag],
        table: TagTable,
        clock: Clock,
        base_dir: Path | None = None,
        observer: DataValueObserver | None = None,
    ) -> None:
        foreign = [tag.name for tag in tags if tag.plc != plc.id]
        if foreign:
            raise ValueError(f"tags {foreign} do not belong to PLC {plc.id}")
        check_security(plc)
        self._plc = plc
        self._tags = list(tags)
        self._table = table
        self._clock = clock
        self._base_dir = base_dir
        self._tag_names = {tag.name for tag in self._tags}
        self._data = SubscriptionData(
            plc_id=plc.id, tags=self._tags, table=table, clock=clock, observer=observer
        )
        self._client: Client | None = None
        self._namespace_index: int | None = None
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        self._first_connection = asyncio.Event()
        self._lost = asyncio.Event()
        self._lost_reason = ""
        self._write_lock = asyncio.Lock()
        self._closing: asyncio.Future[None] | None = None
        self._connected = False
        self._outage_since_s: float | None = None
        self.connection_count = 0
        self.notification_count = 0
        period_s = min(plc.timeout_s, plc.stale_after_s / 2)
        self._watchdog_period_s = max(period_s, plc.publishing_interval_ms / 1000)
        # A keep-alive publish at least this often, and the watch looks for one as often: a
        # steady value is confirmed within half its stale limit of the publish that vouched
        # for it, with room for a late publish or a late look (one period each).
        self._confirm_period_s = max(
            plc.stale_after_s / _CONFIRMS_PER_STALE_LIMIT, plc.publishing_interval_ms / 1000
        )

    @property
    def plc_id(self) -> str:
        return self._plc.id

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def deadline_wall_s(self) -> float:
        """The longest a healthy hub goes without progress: a connect, a backoff, a watch."""
        plc = self._plc
        return (
            plc.timeout_s * (_CONNECT_TIMEOUTS + 2)
            + plc.reconnect_max_s
            + 2 * self._watchdog_period_s
            + 1.0
        )

    async def start(self) -> None:
        """Run the hub on its own task (tools; a station runs `run` under its supervisor)."""
        if self._task is None:
            self._task = asyncio.create_task(
                self.run(Pulse(self._clock)), name=f"opcua-hub-{self.plc_id}"
            )

    def mark_all_bad(self, reason: str) -> None:
        """The data this hub serves cannot be trusted now (its task is down)."""
        self._data.mark_all_bad(reason)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        closing = self._closing
        if closing is not None and not closing.done():
            await closing  # a close the supervisor began when it was cancelled
        await self._close_client(graceful=True)

    async def wait_connected(self, timeout_wall_s: float) -> bool:
        return await wait_event(
            self._clock, self._first_connection, 0.0, wall_floor_s=timeout_wall_s
        )

    # -- supervision ------------------------------------------------------------------------

    async def run(self, pulse: Pulse) -> None:
        """Connect, subscribe, watch the link, reconnect with backoff; never returns."""
        backoff_s = self._plc.reconnect_min_s
        while True:
            pulse.beat()
            try:
                client, subscription = await self._bounded(
                    self._connect_and_subscribe(),
                    self._plc.timeout_s * _CONNECT_TIMEOUTS,
                    "connect and subscribe",
                )
                self._connected = True
                self._recovered()
                backoff_s = self._plc.reconnect_min_s
                await self._watch(client, subscription, pulse)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the supervisor must outlive any failure
                self._connected = False
                await self._close_client(graceful=False)
                self._report_outage(error)
                await self._clock.wall_sleep(backoff_s)
                backoff_s = min(backoff_s * 2, self._plc.reconnect_max_s)

    def _report_outage(self, error: BaseException) -> None:
        detail = str(error) or type(error).__name__
        if self._outage_since_s is None:
            self._outage_since_s = self._clock.monotonic()
            log.error(
                "plc_connection_lost",
                plc=self.plc_id,
                endpoint=self._plc.endpoint,
                error=detail,
                error_type=type(error).__name__,
            )
        else:
            log.debug("plc_connection_still_lost", plc=self.plc_id, error=detail)

    def _recovered(self) -> None:
        self.connection_count += 1
        self._first_connection.set()
        if self._outage_since_s is not None:
            log.info(
                "plc_connection_restored",
                plc=self.plc_id,
                outage_s=round(self._clock.monotonic() - self._outage_since_s, 3),
            )
            self._outage_since_s = None
        elif self.connection_count == 1:
            log.info(
                "plc_connected",
                plc=self.plc_id,
                endpoint=self._plc.endpoint,
                security=f"{self._plc.security.policy}/{self._plc.security.mode}",
                items=len(self._tags),
            )

    async def _bounded(self, awaitable: Awaitable[_T], timeout_wall_s: float, what: str) -> _T:
        """Await `awaitable` for at most `timeout_wall_s` wall seconds; TimeoutError naming
        `what`."""
        return await within_wall(awaitable, timeout_wall_s, what)

    async def _connect_and_subscribe(self) -> tuple[Client, Subscription]:
        self._generation += 1
        generation = self._generation
        self._lost.clear()
        client = Client(
            self._plc.endpoint,
            # asyncua's own request timeout is only a backstop: the hub bounds each wait itself
            # (`_bounded`), with a timeout a stall of padctl's own loop does not spend.
            timeout=self._plc.timeout_s * _CONNECT_TIMEOUTS,
            watchdog_intervall=_ASYNCUA_WATCHDOG_S,
        )
        client.name = "padctl"
        client.description = f"padctl {self.plc_id}"
        client.application_uri = "urn:padctl:client"
        client.product_uri = "urn:padctl"
        # The server forgets an abandoned session (after a stall) this long after its last use.
        client.session_timeout = int(max(_SESSION_TIMEOUT_MIN_MS, self._plc.timeout_s * 10_000))
        self._client = client
        await configure_security(client, self._plc, self._base_dir)
        await client.connect()
        try:
            namespace_index = await client.get_namespace_index(self._plc.namespace)
        except ValueError:
            raise CommError(
                self.plc_id, f"server has no namespace {self._plc.namespace!r}"
            ) from None
        self._namespace_index = namespace_index
        node_ids = [node_id(tag, namespace_index) for tag in self._tags]
        subscription = await client.create_subscription(
            self._subscription_parameters(),
            TableFeed(
                partial(self._on_data_change, generation),
                partial(self._on_status_change, generation),
            ),
        )
        await self._data.initial_read(client, node_ids)
        await self._data.monitor(subscription, node_ids, self._plc.publishing_interval_ms / 2)
        return client, subscription

    def _subscription_parameters(self) -> ua.CreateSubscriptionParameters:
        interval_ms = self._plc.publishing_interval_ms
        keepalive_count = max(1, math.ceil(self._confirm_period_s * 1000 / interval_ms))
        watchdog_count = max(1, math.ceil(self._watchdog_period_s * 1000 / interval_ms))
        return ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=interval_ms,
            # The server keeps a subscription whose client sends no publish request this long.
            RequestedLifetimeCount=max(keepalive_count, watchdog_count)
            * 3
            * _KEEPALIVE_MISSED_LIMIT,
            RequestedMaxKeepAliveCount=keepalive_count,
            MaxNotificationsPerPublish=0,  # no limit
            PublishingEnabled=True,
            Priority=0,
        )

    async def _watch(self, client: Client, subscription: Subscription, pulse: Pulse) -> None:
        """Return never; raise when the server stops answering or publishing."""
        limit_s = self._watchdog_period_s * _KEEPALIVE_MISSED_LIMIT + self._plc.timeout_s
        last_publish = subscription.last_publish_at
        publish_seen_s = read_at_s = self._clock.monotonic()
        while True:
            await self._sleep_unless_lost(self._confirm_period_s)
            pulse.beat()
            if self._lost.is_set():
                raise CommError(self.plc_id, self._lost_reason)
            if client.uaclient.state is not UaClientState.CONNECTED:
                raise CommError(self.plc_id, f"connection {client.uaclient.state.value}")
            if self._clock.monotonic() - read_at_s >= self._watchdog_period_s:
                await self._bounded(
                    client.nodes.server_state.read_value(), self._plc.timeout_s, "keep-alive read"
                )
                read_at_s = self._clock.monotonic()
            now_s = self._clock.monotonic()
            published_s = subscription.last_publish_at  # time.monotonic() of its arrival
            if published_s is not None and published_s != last_publish:
                last_publish, publish_seen_s = published_s, now_s
                # A publish (data or keep-alive) arrived: the subscription is alive, and the
                # values it did not report were unchanged when it came. Report-by-exception
                # must not make a steady value STALE; only a silent link does.
                age_wall_s = max(0.0, time.monotonic() - published_s)
                self._table.confirm(
                    self._data.groups,
                    t_received_s=self._clock.now() - age_wall_s * self._clock.rate,
                    received_wall_s=now_s - age_wall_s,
                )
            elif now_s - publish_seen_s > limit_s:
                raise CommError(
                    self.plc_id,
                    f"no publish (data or keep-alive) for {now_s - publish_seen_s:.1f} s",
                )

    async def _sleep_unless_lost(self, duration_wall_s: float) -> None:
        await wait_event(self._clock, self._lost, 0.0, wall_floor_s=duration_wall_s)

    async def _close_client(self, *, graceful: bool) -> None:
        """Close the current client; runs to the end even if the caller is cancelled."""
        client, self._client = self._client, None
        self._connected = False
        self._namespace_index = None
        self._generation += 1  # late callbacks of this connection are ignored
        if client is None:
            return
        closing = asyncio.ensure_future(self._shut(client, graceful=graceful))
        self._closing = closing
        await asyncio.shield(closing)

    async def _shut(self, client: Client, *, graceful: bool) -> None:
        if graceful and client.uaclient.state is UaClientState.CONNECTED:
            try:
                # CloseSession deletes the subscription on the server.
                await self._bounded(client.disconnect(), self._plc.timeout_s, "disconnect")
                return
            except Exception as error:  # fall through to the hard close
                log.debug("plc_disconnect_failed", plc=self.plc_id, error=str(error))
        protocol = client.uaclient.protocol
        if protocol is None:
            return  # the connect sequence failed and already closed its socket; nothing runs
        if protocol.transport is not None:
            protocol.transport.abort()
            # One loop turn for the transport's connection_lost: pending requests fail at once,
            # and disconnect() below sends nothing into a dead or stalled link.
            await next_loop_turn()
        with contextlib.suppress(Exception):
            await client.disconnect()

    # -- data from the subscription ---------------------------------------------------------

    def _on_data_change(self, generation: int, handle: int, value: ua.DataValue) -> None:
        if generation != self._generation:
            return
        self.notification_count += 1
        self._data.store(handle, value)

    def _on_status_change(self, generation: int, status: ua.StatusCode) -> None:
        if generation != self._generation or status.is_good():
            return
        self._lost_reason = f"subscription status {status.name}"
        self._lost.set()

    # -- writes -----------------------------------------------------------------------------

    async def write(self, tag: Tag, value: TagValue) -> None:
        """Write one engineering value with the tag's OPC UA type; the server judges access."""
        if tag.plc != self.plc_id or tag.name not in self._tag_names:
            raise WriteRefused(tag.name, f"not a tag of PLC {self.plc_id}")
        raw = encode_value(tag, value)
        client = self._client
        namespace_index = self._namespace_index
        if client is None or namespace_index is None or not self._connected:
            raise CommError(self.plc_id, f"write {tag.name}: not connected")
        target = node_id(tag, namespace_index)
        params = ua.WriteParameters(
            NodesToWrite=[
                ua.WriteValue(
                    NodeId=target,
                    AttributeId=AttributeIds.Value,
                    Value=ua.DataValue(ua.Variant(raw, VARIANT_TYPES[tag.type])),
                )
            ]
        )
        try:
            results = await self._bounded(
                self._write_serialised(client, params), self._plc.timeout_s, f"write {tag.name}"
            )
        except TimeoutError as error:
            raise CommError(self.plc_id, str(error)) from error
        except UaStatusCodeError as error:
            raise WriteFailed(
                tag.name, f"PLC {self.plc_id} refused the request: {error}"
            ) from error
        except (OSError, UaError) as error:
            raise CommError(
                self.plc_id, f"write {tag.name}: {error or type(error).__name__}"
            ) from error
        status = results[0]
        if not status.is_good():
            raise WriteFailed(tag.name, f"PLC {self.plc_id} answered {status.name} for {target}")

    async def _write_serialised(
        self, client: Client, params: ua.WriteParameters
    ) -> list[ua.StatusCode]:
        async with self._write_lock:
            return await client.uaclient.write(params)
