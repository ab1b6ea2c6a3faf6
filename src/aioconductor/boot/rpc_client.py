"""Outgoing oslo.messaging RPC (call and cast) on our own AMQP client.

What a callee sees is what oslo's rabbit driver publishes (rpc_wire.py for the body): to the
topic exchange `exchange` (declared first, as oslo declares it), routing key `topic` or
`topic.server`, properties JSON/UTF-8, persistent, priority 0, empty headers, and for a call
the AMQP `expiration` of its timeout in milliseconds. Replies come back on one reply queue
per client, `reply_<uuid hex>`, declared as oslo declares it (not auto-delete, `x-expires`
from `rabbit_transient_queues_ttl`): it outlives a lost connection, so a reply sent while
we reconnect waits there and a call survives a short broker outage as oslo's does.

Differences from oslo, each on purpose: requests are published on a confirm-mode channel and
a publish whose connection died before the confirm is sent again once the connection is
back (the callee drops the duplicate by `_unique_id`); and a call whose connection stays
down longer than `lost_grace` seconds fails with RpcConnectionLost instead of waiting out a
timeout that may be half an hour (select_destinations waits `long_rpc_timeout`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pamqp import commands

from aioconductor.boot.rpc_wire import RemoteCallError, decode_reply, encode_request, new_id
from aioconductor.config.settings import RabbitOptions
from aioconductor.context import RequestContext
from aioconductor.messaging.amqp.connection import (
    AmqpError,
    BrokerClosed,
    Channel,
    Connection,
    Delivery,
    PublishNacked,
)
from aioconductor.messaging.amqp.robust import RobustConnection
from aioconductor.messaging.dedup import DuplicateFilter
from aioconductor.messaging.queue_names import QueueManager
from aioconductor.messaging.topology import consumer_arguments, control_exchange, queue_arguments

__all__ = ["RemoteCallError", "RpcClient", "RpcConnectionLost", "RpcTimeout"]

log = logging.getLogger(__name__)

_PRECONDITION_FAILED = 406
# oslo's caller remembers the `_unique_id`s of the replies it saw (rpc_amqp._MsgIdCache)
_REPLY_DEDUP_WINDOW = 16
_RETRY_PAUSE = 0.25


class RpcTimeout(Exception):
    """No reply in time (oslo's MessagingTimeout)."""


class RpcConnectionLost(Exception):
    """The broker connection went away and did not come back within the client's grace."""


@dataclass(eq=False)
class _Waiter:
    """One call waiting for its reply; `heard` moves with every message (heartbeats too)."""

    heard: float
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    result: Any = None
    failure: str | None = None
    ended: bool = False


class RpcClient:
    def __init__(
        self,
        connection: RobustConnection,
        exchange: str,
        *,
        rabbit: RabbitOptions | None = None,
        publish_timeout: float = 60.0,
        lost_grace: float | None = None,
    ) -> None:
        """`rabbit` shapes the exchange and reply queue declarations as oslo's options
        do; `publish_timeout` bounds a cast's wait for a connection and its confirm;
        `lost_grace` (default kombu_missing_consumer_retry_timeout) how long waiting calls
        outlive a lost connection."""
        opts = rabbit or RabbitOptions()
        self._robust = connection
        self._exchange = control_exchange(exchange, opts)
        self._opts = opts
        self._publish_timeout = publish_timeout
        self._lost_grace = (
            opts.kombu_missing_consumer_retry_timeout if lost_grace is None else lost_grace
        )
        if opts.use_queue_manager:
            self.reply_q = f"reply_{QueueManager(opts.hostname, opts.processname).next_name()}"
        else:
            self.reply_q = f"reply_{new_id()}"
        self._waiters: dict[str, _Waiter] = {}
        self._seen = DuplicateFilter(_REPLY_DEDUP_WINDOW)
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._lost_since: float | None = None
        self._channel: Channel | None = None
        self._channel_of: Connection | None = None
        self._listen_channel: Channel | None = None
        self._channel_lock = asyncio.Lock()
        self._closing = False

    # --- public ------------------------------------------------------------------------

    async def call(
        self,
        ctx: RequestContext,
        topic: str,
        method: str,
        args: dict[str, Any],
        *,
        version: str,
        namespace: str | None = None,
        server: str | None = None,
        timeout: float,
        call_monitor_timeout: float | None = None,
    ) -> Any:
        """Send a call and return its result; RemoteCallError when the callee raised,
        RpcTimeout (nothing in `timeout`, or no heartbeat in `call_monitor_timeout`),
        RpcConnectionLost (the broker stayed away longer than the grace)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + timeout
        msg_id = new_id()
        body = encode_request(
            method,
            args,
            ctx.raw,
            version=version,
            namespace=namespace,
            unique_id=new_id(),
            reply=(msg_id, self.reply_q, call_monitor_timeout),
        )
        waiter = _Waiter(heard=started)
        self._waiters[msg_id] = waiter
        try:
            await self._until(self._wait_listening(), deadline, msg_id)
            properties = _properties(expiration=str(int(timeout * 1000)))
            await self._until(
                self._publish(_routing_key(topic, server), body, properties), deadline, msg_id
            )
            log.debug("CALL %s %s to %s", msg_id, method, _routing_key(topic, server))
            return await self._wait(msg_id, waiter, deadline, call_monitor_timeout)
        finally:
            self._waiters.pop(msg_id, None)

    async def cast(
        self,
        ctx: RequestContext,
        topic: str,
        method: str,
        args: dict[str, Any],
        *,
        version: str,
        namespace: str | None = None,
        server: str | None = None,
    ) -> None:
        """Publish a cast; returns once the broker confirmed it. RpcTimeout when the
        broker could not take it within the client's publish timeout."""
        unique_id = new_id()
        body = encode_request(
            method, args, ctx.raw, version=version, namespace=namespace, unique_id=unique_id
        )
        try:
            async with asyncio.timeout(self._publish_timeout):
                await self._publish(_routing_key(topic, server), body, _properties())
        except TimeoutError:
            raise RpcTimeout(
                f"cast {method} ({unique_id}) not accepted by RabbitMQ within "
                f"{self._publish_timeout:g} s"
            ) from None
        log.debug("CAST %s %s to %s", unique_id, method, _routing_key(topic, server))

    async def close(self) -> None:
        """Stop listening and delete the reply queue (oslo leaves it to expire; we know
        nobody else reads it). The connection is the owner's."""
        self._closing = True
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        connection = self._robust.current
        if connection is not None and connection.is_open:
            try:
                # our consumer first: a queue deleted under it is a consumer cancel, which
                # the connection treats as a failover and reconnects
                if self._listen_channel is not None and self._listen_channel.is_open:
                    await _close_channel(connection, self._listen_channel)
                channel = await connection.channel()
                await channel.call(commands.Queue.Delete(queue=self.reply_q))
                await _close_channel(connection, channel)
                if self._channel is not None and self._channel.is_open:
                    await _close_channel(connection, self._channel)
            except AmqpError as exc:
                log.debug("could not delete reply queue %s: %s", self.reply_q, exc)
        for waiter in self._waiters.values():
            waiter.wake.set()

    # --- publishing ---------------------------------------------------------------------

    async def _until(self, work: Any, deadline: float, msg_id: str) -> Any:
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(remaining, 0)):
                return await work
        except TimeoutError:
            raise RpcTimeout(f"Timed out waiting for a reply to message ID {msg_id}") from None

    async def _publish(
        self, routing_key: str, body: bytes, properties: commands.Basic.Properties
    ) -> None:
        """Publish until the broker confirms it; a connection lost on the way: again."""
        while True:
            try:
                channel = await self._publish_channel()
                await channel.publish(
                    self._exchange.name, routing_key, body, properties, mandatory=False
                )
                return
            except PublishNacked as exc:
                log.warning("RabbitMQ nacked a request to %s: %s; again", routing_key, exc)
            except AmqpError as exc:
                if self._closing:
                    raise
                log.info("request to %s waits for the RabbitMQ connection: %s", routing_key, exc)
            await asyncio.sleep(_RETRY_PAUSE)

    async def _publish_channel(self) -> Channel:
        connection = await self._robust.ready()
        channel = self._channel
        if channel is not None and channel.is_open and self._channel_of is connection:
            return channel
        async with self._channel_lock:  # the first requests of a burst open one channel
            channel = self._channel
            if channel is not None and channel.is_open and self._channel_of is connection:
                return channel
            channel = await connection.channel()
            await channel.select_confirms()
            self._channel = channel
            await self._declare_exchange(connection, channel)
            self._channel_of = connection
            return self._channel

    async def _declare_exchange(self, connection: Connection, channel: Channel) -> None:
        spec = self._exchange
        declare = commands.Exchange.Declare(
            exchange=spec.name,
            exchange_type=spec.type,
            durable=spec.durable,
            auto_delete=spec.auto_delete,
        )
        channel.expected_closes = frozenset({_PRECONDITION_FAILED})
        try:
            await channel.call(declare)
        except BrokerClosed as exc:
            if exc.code != _PRECONDITION_FAILED or not spec.durable:
                raise
            # as oslo: a control exchange shared with services configured otherwise was
            # declared non-durable first; use it as it is
            log.warning("exchange %s exists non-durable; publishing to it as it is", spec.name)
            channel = await connection.channel()
            await channel.select_confirms()
            declare.durable = False
            await channel.call(declare)
            self._channel = channel
        channel.expected_closes = frozenset()

    # --- replies ------------------------------------------------------------------------

    async def _wait_listening(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name=f"rpc-{self.reply_q}")
        await self._listening.wait()

    async def _listen(self) -> None:
        """Keep a consumer on the reply queue, declared again after every reconnection."""
        loop = asyncio.get_running_loop()
        while not self._closing:
            connection = await self._robust.ready()
            lost: asyncio.Future[BaseException] = loop.create_future()
            try:
                channel = await connection.channel()
                channel.on_broker_close = _resolver(lost)
                await channel.call(self._reply_queue_declare())
                # no_ack: oslo acks each reply on arrival; nobody else could tell the difference
                await channel.consume(
                    self.reply_q,
                    self._on_reply,
                    consumer_arguments(self._opts) or None,
                    no_ack=True,
                )
            except AmqpError as exc:
                log.warning("cannot consume reply queue %s: %s", self.reply_q, exc)
                await asyncio.sleep(_RETRY_PAUSE)
                continue
            self._listen_channel = channel
            self._lost_since = None
            self._listening.set()
            await asyncio.wait([connection.closed, lost], return_when=asyncio.FIRST_COMPLETED)
            self._listening.clear()
            self._lost_since = loop.time()
            for waiter in self._waiters.values():
                waiter.wake.set()  # they check the grace

    def _reply_queue_declare(self) -> commands.Queue.Declare:
        opts = self._opts
        return commands.Queue.Declare(
            queue=self.reply_q,
            durable=opts.rabbit_transient_quorum_queue,
            auto_delete=False,
            arguments=queue_arguments(
                opts,
                quorum=opts.rabbit_transient_quorum_queue,
                ttl=opts.rabbit_transient_queues_ttl,
            ),
        )

    def _on_reply(self, delivery: Delivery) -> None:
        try:
            reply = decode_reply(delivery.body)
        except ValueError as exc:
            log.warning("dropped an unreadable reply on %s: %s", self.reply_q, exc)
            return
        if reply.unique_id is not None and self._seen.seen_before(reply.unique_id):
            log.info("duplicate reply %s for %s ignored", reply.unique_id, reply.msg_id)
            return
        waiter = self._waiters.get(reply.msg_id or "")
        if waiter is None:
            log.info("no call waits for reply to %s", reply.msg_id)
            return
        waiter.heard = asyncio.get_running_loop().time()
        if reply.failure is not None:
            waiter.failure = reply.failure
        elif reply.result is not None:
            waiter.result = reply.result
        waiter.ended = waiter.ended or reply.ending
        waiter.wake.set()

    async def _wait(
        self, msg_id: str, waiter: _Waiter, deadline: float, monitor: float | None
    ) -> Any:
        loop = asyncio.get_running_loop()
        while not waiter.ended:
            now = loop.time()
            limit = deadline
            if monitor:
                limit = min(limit, waiter.heard + monitor)
            lost_since = None if self._listening.is_set() else self._lost_since
            if lost_since is not None and lost_since + self._lost_grace < limit:
                limit = lost_since + self._lost_grace
                if now >= limit:
                    raise RpcConnectionLost(
                        f"the RabbitMQ connection was lost while waiting for a reply to "
                        f"message ID {msg_id} and is not back after {self._lost_grace:g} s"
                    )
            if now >= limit or self._closing:
                raise RpcTimeout(
                    f"Timed out waiting for a reply {self.reply_q} to message ID {msg_id}."
                )
            waiter.wake.clear()
            try:
                async with asyncio.timeout(limit - now):
                    await waiter.wake.wait()
            except TimeoutError:
                continue
        if waiter.failure is not None:
            raise RemoteCallError.from_failure(waiter.failure)
        return waiter.result


def _routing_key(topic: str, server: str | None) -> str:
    return f"{topic}.{server}" if server else topic


def _properties(expiration: str | None = None) -> commands.Basic.Properties:
    # what kombu's producer gives oslo's requests
    return commands.Basic.Properties(
        content_type="application/json",
        content_encoding="utf-8",
        headers={},
        delivery_mode=2,
        priority=0,
        expiration=expiration,
    )


async def _close_channel(connection: Connection, channel: Channel) -> None:
    await channel.call(commands.Channel.Close(200, "bye", 0, 0))
    connection.forget(channel.id)


def _resolver(future: asyncio.Future[BaseException]) -> Callable[[BrokerClosed], None]:
    def resolve(exc: BrokerClosed) -> None:
        if not future.done():
            future.set_result(exc)

    return resolve
