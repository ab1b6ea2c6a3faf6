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
caller's reply queue and nothing waits on our loop for its answer.

A legacy conductor not consuming yet (it starts slower than we do: a compute started with
both would otherwise die on its first forwarded call) or restarting: the request is held
until its queue has a consumer, for at most `[aioconductor] fallback_wait` seconds and at
most half the caller's timeout (the other half is the legacy conductor's, to answer); oslo
sends a call's timeout as the message's AMQP `expiration`.
Held requests keep their worker slot, so at most half the slots may hold; past that, or
past the wait, the caller gets ForwardingFailed naming the queue. A publish the broker
returns (no queue) fails at once.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pamqp import commands

from aioconductor.conductor.routing import describe
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
# how often a held request looks for the legacy conductor's consumer again
_RECHECK_INTERVAL = 0.5
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
        self._wait = settings.aio.fallback_wait
        self._max_holding = max(1, settings.prefetch_count // 2)
        self._holding = 0
        self._connection: RobustConnection | None = None
        self._channel: Channel | None = None
        self._probe: Channel | None = None  # passive declares, which may close it
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
            channel = await self._open_channel()
            await channel.select_confirms()
            self._channel = channel
        return self._channel

    async def _get_probe(self) -> Channel:
        """A channel of its own for passive declares: a missing queue closes it (404), which
        is an answer here, not a fault, and must not close the publishing channel."""
        if self._probe is None or not self._probe.is_open:
            self._probe = await self._open_channel()
            self._probe.expected_closes = frozenset({404})
        return self._probe

    async def _open_channel(self) -> Channel:
        if self._connection is None:
            raise ForwardingFailed("forwarder is not attached to a connection")
        connection = await self._connection.ready()
        return await connection.channel()

    async def _legacy_consumers(self, max_age: float = _CONSUMER_CHECK_TTL) -> int:
        """How many consumers the legacy conductor's queue has (an answer up to `max_age`
        seconds old: concurrent requests share one passive declare)."""
        if time.monotonic() - self._checked_at < max_age:
            return self._consumers
        async with self._lock:
            if time.monotonic() - self._checked_at < max_age:
                return self._consumers
            probe = await self._get_probe()
            try:
                ok = await probe.call(commands.Queue.Declare(queue=self.queue_name, passive=True))
                assert isinstance(ok, commands.Queue.DeclareOk)
                self._consumers = ok.consumer_count or 0
            except BrokerClosed:  # a passive declare of a missing queue closes the channel
                self._probe = None
                self._consumers = 0
            self._checked_at = time.monotonic()
            return self._consumers

    def wait_budget(self, request: RpcRequest, message: Delivery) -> float:
        """How long `request` may wait for the legacy conductor to consume its queue."""
        caller_timeout = _seconds(message.properties.expiration)
        if request.wants_reply and caller_timeout:
            return min(self._wait, caller_timeout / 2)
        return self._wait

    async def _until_consumed(self, what: str, budget: float) -> None:
        """Return once the legacy conductor's queue has a consumer; ForwardingFailed when
        none comes within `budget` seconds or too many requests are held already."""
        if await self._legacy_consumers() > 0:
            return
        if self._holding >= self._max_holding:
            raise ForwardingFailed(
                f"{what} needs the legacy nova-conductor, but queue {self.queue_name!r} on "
                f"exchange {self.exchange_name!r} has no consumer and {self._holding} "
                "request(s) already wait for one (is it running?)"
            )
        self._holding += 1
        try:
            async with asyncio.timeout(budget):
                # the broker tells no one when a consumer arrives: ask it again
                while True:
                    if await self._legacy_consumers(_RECHECK_INTERVAL) > 0:
                        break
                    await asyncio.sleep(_RECHECK_INTERVAL)
        except TimeoutError:
            raise ForwardingFailed(
                f"{what} needs the legacy nova-conductor, but queue {self.queue_name!r} on "
                f"exchange {self.exchange_name!r} had no consumer for {budget:g} s "
                "(is it running?)"
            ) from None
        finally:
            self._holding -= 1
        log.info("legacy conductor is consuming %s: forwarding %s", self.queue_name, what)

    async def forward(self, request: RpcRequest, message: Delivery) -> None:
        what = describe(request)  # CellMappingList.get_all, compute_task.migrate_server
        await self._until_consumed(what, self.wait_budget(request, message))
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


def _seconds(expiration: str | None) -> float | None:
    """An AMQP `expiration` (milliseconds, as text) in seconds; None when unset or unreadable."""
    try:
        return int(expiration) / 1000 if expiration else None
    except ValueError:
        return None
