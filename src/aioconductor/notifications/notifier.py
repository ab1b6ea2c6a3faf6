"""Send nova's notifications the way oslo.messaging's Notifier does, never on the RPC's time.

nova-conductor sends a notification inside the RPC (the rabbit driver blocks until the
broker has it, forever with `retry = -1`). Here the RPC only builds the message and puts it
in a bounded queue; one task per worker publishes it. A broker that is slow, blocked or gone
therefore costs the RPC nothing: the queue fills, and every notification that finds it full,
or fails `retry + 1` times, is dropped, counted in
`aioconductor_notifications_dropped_total{reason}` (queue_full, failed, unbuildable,
shutdown) and logged (throttled), as nova logs and drops a notification it could not send.

Drivers, as `[oslo_messaging_notifications] driver` names them: `messaging` (the bare 1.0
body), `messagingv2` (the 2.0 envelope), `log` (one line on the logger
`oslo.messaging.notification.<event_type>`, the text oslo's LogDriver writes: secrets
masked by oslo.utils' rules, versioned payloads in their classes' field order), `noop`.
Each AMQP driver publishes to the control exchange with routing key `<topic>.<priority>`
for every topic, declaring the exchange and a queue of the same name first, as oslo's
`notify_send` does, so nothing is lost before a consumer binds. The transport is the RPC
connection, or a connection of its own when `[oslo_messaging_notifications] transport_url`
is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from pamqp import commands

from aioconductor.config.settings import NotificationOptions, Settings
from aioconductor.context import RequestContext
from aioconductor.messaging.amqp.connection import AmqpError, Channel, Connection
from aioconductor.messaging.amqp.robust import RobustConnection
from aioconductor.messaging.topology import QueueSpec, control_exchange, queue_arguments
from aioconductor.notifications import wire
from aioconductor.notifications.masking import mask_dict
from aioconductor.notifications.ordering import settle, tracked
from aioconductor.observability.metrics import NOTIFICATIONS_DROPPED, NOTIFICATIONS_SENT
from aioconductor.observability.throttle import ThrottledLog

log = logging.getLogger(__name__)

# One publish (the wait for a connection, the declares, the broker's confirm) may take this
# long before it counts as a failed attempt.
PUBLISH_DEADLINE = 10.0
_RETRY_PAUSE_MAX = 5.0
_STOP_FLUSH_SECONDS = 5.0
_LOG_BASE = "oslo.messaging.notification"  # oslo's LogDriver logger, kept for operators


class Notifications(Protocol):
    """What a native handler needs: is a kind of notification on, and send one."""

    @property
    def options(self) -> NotificationOptions: ...

    @property
    def host(self) -> str:
        """Our [DEFAULT] host: nova-conductor's own, in the publishers it names itself."""
        ...

    @property
    def legacy(self) -> bool: ...

    @property
    def versioned(self) -> bool: ...

    def emit(
        self,
        ctx: RequestContext,
        *,
        publisher_id: str,
        event_type: str,
        payload: Any,
        versioned: bool,
        priority: str = "INFO",
    ) -> None: ...


class NoNotifications:
    """Notifications off (no driver, noop, or no worker around the handler)."""

    legacy = False
    versioned = False
    options = NotificationOptions()
    host = ""

    def emit(self, ctx: RequestContext, **_: Any) -> None:
        return None


NO_NOTIFICATIONS = NoNotifications()


@dataclass(frozen=True, slots=True)
class _Outgoing:
    topic: str  # the routing key and the default queue: `<topic>.<priority>`
    body: bytes
    event_type: str
    # done once published or dropped: the call that queued it replies after that
    sent: asyncio.Future[None] | None = None


class Notifier:
    def __init__(self, settings: Settings, *, publish_deadline: float = PUBLISH_DEADLINE) -> None:
        self._settings = settings
        self._deadline = publish_deadline
        self._options: NotificationOptions = settings.notifications
        drivers = self._options.sending_drivers
        self._amqp_drivers = [d for d in drivers if d in ("messaging", "messagingv2")]
        self._log_driver = "log" in drivers
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue(settings.aio.notification_queue_size)
        self._exchange = control_exchange(settings.control_exchange, settings.rabbit)
        self._connection: RobustConnection | None = None
        self._own_connection = False
        self._channel: Channel | None = None
        self._channel_of: Connection | None = None
        self._declared: set[str] = set()
        self._sender: asyncio.Task[None] | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._log_dropped = ThrottledLog(log)

    @property
    def options(self) -> NotificationOptions:
        return self._options

    @property
    def host(self) -> str:
        return self._settings.host

    @property
    def legacy(self) -> bool:
        return self._options.legacy

    @property
    def versioned(self) -> bool:
        return self._options.versioned

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, rpc_connection: RobustConnection | None) -> None:
        """Send on the RPC connection, or on one of our own for a separate transport_url."""
        if not self._amqp_drivers:
            return
        if self._options.transport_url is not None:
            from aioconductor.messaging.connection import robust_connection

            self._connection = robust_connection(
                self._settings.notification_settings(), self._forget_channel
            )
            self._own_connection = True
            # A notification broker that is down does not hold the conductor's start-up:
            # the first connection is made in the background, notifications wait (bounded).
            self._connecting = asyncio.create_task(self._connect_own(), name="notify-connect")
        else:
            self._connection = rpc_connection
        self._sender = asyncio.create_task(self._send_forever(), name="notifications")

    async def stop(self) -> None:
        """Give what is queued a few seconds to go out, then drop the rest (counted)."""
        if self._sender is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), _STOP_FLUSH_SECONDS)
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        while not self._queue.empty():
            self._drop(self._queue.get_nowait(), "shutdown")
        if self._connecting is not None:
            self._connecting.cancel()
        if self._own_connection and self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._log_dropped.flush()

    async def _connect_own(self) -> None:
        assert self._connection is not None
        try:
            await self._connection.start()
        except Exception as exc:  # a refused login, a bad certificate: no retry fixes them
            log.error(
                "cannot connect to the notification transport_url (%s): notifications "
                "will be dropped",
                exc,
            )

    async def _forget_channel(self, connection: Connection) -> None:
        # a new connection (first, or after a reconnection): declare everything again
        self._channel = None

    # --- the RPC side: build, then queue (never awaits) --------------------------------------

    def emit(
        self,
        ctx: RequestContext,
        *,
        publisher_id: str,
        event_type: str,
        payload: Any,
        versioned: bool,
        priority: str = "INFO",
    ) -> None:
        if not (self.versioned if versioned else self.legacy):
            return
        try:
            self._queue_message(ctx, publisher_id, event_type, payload, versioned, priority)
        except Exception:  # a notification never fails the RPC that sends it
            NOTIFICATIONS_DROPPED.labels("unbuildable").inc()
            self._log_dropped(
                "notification unbuildable",
                logging.ERROR,
                "dropped notification %s: it could not be built",
                event_type,
                exc_info=True,
            )

    def _queue_message(
        self,
        ctx: RequestContext,
        publisher_id: str,
        event_type: str,
        payload: Any,
        versioned: bool,
        priority: str,
    ) -> None:
        message = wire.notification(publisher_id, event_type, priority, payload)
        if self._log_driver:
            _log_notification(message, priority)
        if not self._amqp_drivers:
            return
        context = wire.redacted_context(ctx.raw)
        topics = self._options.versioned_topics if versioned else self._options.topics
        for driver in self._amqp_drivers:
            body = wire.amqp_body(message, context, envelope=driver == "messagingv2")
            for topic in topics:
                item = _Outgoing(f"{topic}.{priority.lower()}", body, event_type, tracked())
                try:
                    self._queue.put_nowait(item)
                except asyncio.QueueFull:
                    self._drop(item, "queue_full")

    # --- the sending side ---------------------------------------------------------------------

    async def _send_forever(self) -> None:
        retry = self._options.retry
        while True:
            item = await self._queue.get()
            try:
                await self._send(item, retry)
            except Exception as exc:  # a bug here must not stop every later notification
                log.exception("sending notification %s failed", item.event_type)
                self._drop(item, "failed", exc)
            finally:
                settle(item.sent)
                self._queue.task_done()

    async def _send(self, item: _Outgoing, retry: int) -> None:
        """Publish one message, trying again `retry` times (-1: until it goes, while the
        queue behind it fills and overflows)."""
        failures = 0
        while True:
            try:
                await asyncio.wait_for(self._publish(item), self._deadline)
            except (AmqpError, OSError, TimeoutError) as exc:
                self._channel = None
                failures += 1
                if 0 <= retry < failures:
                    self._drop(item, "failed", exc)
                    return
                self._log_dropped(
                    "notification retry",
                    logging.WARNING,
                    "could not send notification %s to %s (%s); trying again",
                    item.event_type,
                    item.topic,
                    str(exc) or type(exc).__name__,
                )
                await asyncio.sleep(min(failures * self._deadline / 10, _RETRY_PAUSE_MAX))
                continue
            NOTIFICATIONS_SENT.labels(item.event_type).inc()
            return

    async def _publish(self, item: _Outgoing) -> None:
        channel = await self._ready_channel()
        if item.topic not in self._declared:
            await _declare_default_queue(channel, self._default_queue(item.topic))
            self._declared.add(item.topic)
        await channel.publish(
            self._exchange.name,
            item.topic,
            item.body,
            _properties(),
            mandatory=False,
            timeout=self._deadline,
        )

    async def _ready_channel(self) -> Channel:
        assert self._connection is not None
        connection = await self._connection.ready()
        if self._channel is None or not self._channel.is_open or self._channel_of is not connection:
            channel = await connection.channel()
            await channel.select_confirms()
            self._channel, self._channel_of = channel, connection
            self._declared.clear()
        return self._channel

    def _default_queue(self, routing_key: str) -> QueueSpec:
        """oslo's `_publish_and_creates_default_queue`: named like the routing key, durable
        and auto-delete as the exchange, the topic queue's arguments without a TTL."""
        opts = self._settings.rabbit
        return QueueSpec(
            name=routing_key,
            exchange=self._exchange,
            routing_key=routing_key,
            durable=self._exchange.durable,
            auto_delete=self._exchange.auto_delete,
            arguments=queue_arguments(opts, quorum=opts.rabbit_quorum_queue, ttl=0),
        )

    def _drop(self, item: _Outgoing, reason: str, exc: BaseException | None = None) -> None:
        settle(item.sent)
        NOTIFICATIONS_DROPPED.labels(reason).inc()
        self._log_dropped(
            f"notification dropped: {reason}",
            logging.ERROR,
            "dropped notification %s to %s (%s%s)",
            item.event_type,
            item.topic,
            reason,
            f": {str(exc) or type(exc).__name__}" if exc is not None else "",
        )


async def _declare_default_queue(channel: Channel, spec: QueueSpec) -> None:
    from aioconductor.messaging.server import declare

    await declare(channel, spec)


def _properties() -> commands.Basic.Properties:
    # what kombu's Producer gives oslo's notify_send: JSON, persistent, priority 0
    return commands.Basic.Properties(
        content_type="application/json",
        content_encoding="utf-8",
        headers={},
        delivery_mode=2,
        priority=0,
    )


def _log_notification(message: dict[str, Any], priority: str) -> None:
    logger = logging.getLogger(f"{_LOG_BASE}.{message['event_type']}")
    method = getattr(logger, priority.lower(), None)
    if method is not None:
        method(json.dumps(mask_dict(message), default=str))
