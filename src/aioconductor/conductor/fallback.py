"""Forward what we do not serve natively to a legacy nova-conductor, which answers the caller.

Why the legacy conductor listens on the SAME exchange under its own `host`, and we forward to
its server queue `conductor.<fallback_host>`: oslo names the topic queue `conductor` whatever
the exchange, so a legacy conductor with another `control_exchange` still consumes our shared
`conductor` queue (a forwarded request could come back to us), and its own calls to computes
and the scheduler would go to an exchange no compute is bound to. On the shared queue our
consumers carry a higher `x-priority`, so the legacy conductor takes shared work only while
every worker of ours is saturated, and answers it correctly then too.

The original body and properties are republished untouched (`_msg_id`, `_reply_q`,
`_timeout`, context, AMQP expiration), so the legacy conductor replies straight to the
caller's reply queue and nothing waits on our loop. A legacy conductor that is gone (no
consumer on its queue, or the publish returned) gives the caller an immediate failure.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from aio_pika.exceptions import ChannelClosed, DeliveryError, PublishError

from aioconductor.config.settings import Settings
from aioconductor.errors import ForwardingFailed
from aioconductor.messaging.envelope import RpcRequest

log = logging.getLogger(__name__)

_CONSUMER_CHECK_TTL = 2.0
TOPIC = "conductor"


class LegacyForwarder:
    def __init__(self, settings: Settings) -> None:
        host = settings.aio.fallback_host
        if not host:
            raise ValueError("[aioconductor] fallback_host is not set")
        self.exchange_name = settings.aio.fallback_exchange or settings.control_exchange
        self.queue_name = f"{TOPIC}.{host}"
        self._timeout = settings.aio.fallback_timeout
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._lock = asyncio.Lock()
        self._checked_at = 0.0
        self._consumers = 0

    async def attach(self, connection: object) -> None:
        if not isinstance(connection, aio_pika.abc.AbstractRobustConnection):
            raise TypeError("LegacyForwarder needs the worker's robust connection")
        self._connection = connection
        log.info(
            "forwarding requests not served natively to exchange %r, queue %r",
            self.exchange_name,
            self.queue_name,
        )

    async def _get_channel(self) -> AbstractChannel:
        if self._channel is None or self._channel.is_closed:
            if self._connection is None:
                raise ForwardingFailed("forwarder is not attached to a connection")
            self._channel = await self._connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
        return self._channel

    async def _legacy_consumers(self) -> int:
        """How many consumers the legacy conductor's queue has (cached briefly)."""
        now = time.monotonic()
        if now - self._checked_at < _CONSUMER_CHECK_TTL:
            return self._consumers
        async with self._lock:
            if now - self._checked_at < _CONSUMER_CHECK_TTL:
                return self._consumers
            channel = await self._get_channel()
            try:
                queue = await channel.declare_queue(self.queue_name, passive=True)
                self._consumers = queue.declaration_result.consumer_count or 0
            except ChannelClosed:  # a passive declare of a missing queue closes the channel
                self._channel = None
                self._consumers = 0
            self._checked_at = time.monotonic()
            return self._consumers

    async def forward(self, request: RpcRequest, message: AbstractIncomingMessage) -> None:
        what = f"{request.namespace or ''}{'.' if request.namespace else ''}{request.method}"
        if await self._legacy_consumers() == 0:
            raise ForwardingFailed(
                f"{what} needs the legacy nova-conductor, but queue {self.queue_name!r} on "
                f"exchange {self.exchange_name!r} has no consumer (is it running?)"
            )
        copy = aio_pika.Message(
            message.body,
            headers=message.headers,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            delivery_mode=message.delivery_mode,
            priority=message.priority,
            expiration=message.expiration,
            correlation_id=message.correlation_id,
            message_id=message.message_id,
        )
        channel = await self._get_channel()
        try:
            exchange = await channel.get_exchange(self.exchange_name, ensure=False)
            await asyncio.wait_for(
                exchange.publish(copy, routing_key=self.queue_name, mandatory=True),
                self._timeout,
            )
        except (DeliveryError, PublishError) as exc:
            self._checked_at = 0.0
            raise ForwardingFailed(
                f"{what}: the legacy conductor's queue {self.queue_name!r} did not accept "
                f"the request ({exc})"
            ) from None
        except TimeoutError:
            raise ForwardingFailed(
                f"{what}: the broker did not confirm the forward within {self._timeout} s"
            ) from None
        log.debug("forwarded %s (%s) to %s", what, request.msg_id, self.queue_name)
