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

from pamqp import commands

from aioconductor.config.settings import Settings
from aioconductor.errors import ForwardingFailed
from aioconductor.messaging.amqp.connection import (
    AmqpError,
    BrokerClosed,
    Channel,
    Delivery,
    PublishNacked,
)
from aioconductor.messaging.amqp.robust import RobustConnection
from aioconductor.messaging.envelope import RpcRequest

log = logging.getLogger(__name__)

_CONSUMER_CHECK_TTL = 2.0
_PROPERTIES = [name for name in commands.Basic.Properties.__slots__ if name != "cluster_id"]
TOPIC = "conductor"


class LegacyForwarder:
    def __init__(self, settings: Settings) -> None:
        host = settings.aio.fallback_host
        if not host:
            raise ValueError("[aioconductor] fallback_host is not set")
        self.exchange_name = settings.aio.fallback_exchange or settings.control_exchange
        self.queue_name = f"{TOPIC}.{host}"
        self._timeout = settings.aio.fallback_timeout
        self._connection: RobustConnection | None = None
        self._channel: Channel | None = None
        self._lock = asyncio.Lock()
        self._checked_at = 0.0
        self._consumers = 0

    async def attach(self, connection: object) -> None:
        if not isinstance(connection, RobustConnection):
            raise TypeError("LegacyForwarder needs the worker's robust connection")
        self._connection = connection
        log.info(
            "forwarding requests not served natively to exchange %r, queue %r",
            self.exchange_name,
            self.queue_name,
        )

    async def _get_channel(self) -> Channel:
        if self._channel is None or not self._channel.is_open:
            if self._connection is None:
                raise ForwardingFailed("forwarder is not attached to a connection")
            connection = await self._connection.ready()
            channel = await connection.channel()
            await channel.select_confirms()
            self._channel = channel
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
                ok = await channel.call(commands.Queue.Declare(queue=self.queue_name, passive=True))
                assert isinstance(ok, commands.Queue.DeclareOk)
                self._consumers = ok.consumer_count or 0
            except BrokerClosed:  # a passive declare of a missing queue closes the channel
                self._channel = None
                self._consumers = 0
            self._checked_at = time.monotonic()
            return self._consumers

    async def forward(self, request: RpcRequest, message: Delivery) -> None:
        what = f"{request.namespace or ''}{'.' if request.namespace else ''}{request.method}"
        if await self._legacy_consumers() == 0:
            raise ForwardingFailed(
                f"{what} needs the legacy nova-conductor, but queue {self.queue_name!r} on "
                f"exchange {self.exchange_name!r} has no consumer (is it running?)"
            )
        # A copy: publishing names the message for a possible return (message_id, if unset).
        properties = commands.Basic.Properties(
            **{name: getattr(message.properties, name) for name in _PROPERTIES}
        )
        try:
            channel = await self._get_channel()
            accepted = await asyncio.wait_for(
                channel.publish(
                    self.exchange_name,
                    self.queue_name,
                    message.body,
                    properties,
                    mandatory=True,
                ),
                self._timeout,
            )
            failure = None if accepted else "returned unroutable"
        except TimeoutError:
            raise ForwardingFailed(
                f"{what}: the broker did not confirm the forward within {self._timeout} s"
            ) from None
        except (PublishNacked, AmqpError) as exc:
            failure = str(exc)
        if failure is not None:
            self._checked_at = 0.0
            raise ForwardingFailed(
                f"{what}: the legacy conductor's queue {self.queue_name!r} did not accept "
                f"the request ({failure})"
            ) from None
        log.debug("forwarded %s (%s) to %s", what, request.msg_id, self.queue_name)
