"""The RPC server: consume the conductor queues, dispatch, reply; drain on stop.

Concurrency is bounded twice over: the broker's prefetch window and a semaphore of the same
size. A delivered message waits for a slot *before* it is acked, so in `early` ack mode (oslo's
at-most-once: ack, then dispatch) at most `prefetch` requests run at once and the rest stay
unacked, which the broker redelivers elsewhere if this worker dies or stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
    ExchangeType,
)

from aioconductor.config.settings import Settings
from aioconductor.errors import NotNative, RemoteFailure
from aioconductor.messaging.connection import connect
from aioconductor.messaging.dedup import DuplicateFilter
from aioconductor.messaging.dispatcher import Dispatcher
from aioconductor.messaging.envelope import BadMessage, RpcRequest, decode_request
from aioconductor.messaging.failures import serialize_failure
from aioconductor.messaging.queue_names import QueueManager
from aioconductor.messaging.replies import ReplySender
from aioconductor.messaging.topology import QueueSpec, ServerTopology, server_topology
from aioconductor.observability.metrics import RequestMetrics

log = logging.getLogger(__name__)


class Forwarder(Protocol):
    """Hands a request we do not serve to the legacy conductor (see conductor/fallback.py)."""

    async def forward(self, request: RpcRequest, message: AbstractIncomingMessage) -> None: ...


@dataclass
class ServerStatus:
    connected: bool = False
    consuming: bool = False
    in_flight: int = 0
    served: int = 0
    queues: list[str] = field(default_factory=list)


def describe_request(request: RpcRequest) -> str:
    return f"{request.namespace}.{request.method}" if request.namespace else request.method


class RpcServer:
    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        *,
        topic: str = "conductor",
        forwarder: Forwarder | None = None,
        describe: Callable[[RpcRequest], str] = describe_request,
        metrics: RequestMetrics | None = None,
        connect_attempts: int | None = None,
    ) -> None:
        self.settings = settings
        self.status = ServerStatus()
        self._dispatcher = dispatcher
        self._topic = topic
        self._forwarder = forwarder
        self._describe = describe
        self._metrics = metrics or RequestMetrics()
        self._connect_attempts = connect_attempts
        self._slots = asyncio.Semaphore(settings.prefetch_count)
        self._dedup = DuplicateFilter(settings.aio.duplicate_window)
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._connection: AbstractRobustConnection | None = None
        self._consume_channel: AbstractChannel | None = None
        self._reply_channel: AbstractRobustChannel | None = None
        # Strong references: robust channels restore only queues and consumers still alive.
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self._requests: set[asyncio.Task[None]] = set()
        self._topology: ServerTopology | None = None
        self.replies = ReplySender(
            self._get_reply_channel, settings.rabbit.kombu_missing_consumer_retry_timeout
        )

    @property
    def connection(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise RuntimeError("server not started")
        return self._connection

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        opts = self.settings.rabbit
        self._connection = await connect(self.settings, attempts=self._connect_attempts)
        self._connection.close_callbacks.add(self._on_connection_lost)
        self._connection.reconnect_callbacks.add(self._on_reconnected)
        self.status.connected = True
        self._consume_channel = await self._connection.channel()
        await self._consume_channel.set_qos(prefetch_count=self.settings.prefetch_count)
        self._reply_channel = await self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        queue_manager = (
            QueueManager(opts.hostname, opts.processname) if opts.use_queue_manager else None
        )
        self._topology = server_topology(
            exchange=self.settings.control_exchange,
            topic=self._topic,
            server=self.settings.host,
            opts=opts,
            queue_manager=queue_manager,
            consumer_priority=self.settings.aio.consumer_priority,
        )
        for spec in self._topology.queues:
            queue = await self._declare(self._consume_channel, spec)
            tag = await queue.consume(self._on_message, arguments=spec.consumer_arguments)
            self._consumers.append((queue, tag))
        self.status.queues = [spec.name for spec in self._topology.queues]
        self.status.consuming = True
        log.info(
            "consuming %s on exchange %r (prefetch %d, ack %s)",
            ", ".join(self.status.queues),
            self.settings.control_exchange,
            self.settings.prefetch_count,
            self.settings.aio.ack_mode,
        )

    async def stop(self, timeout: float) -> bool:
        """Stop consuming, give back unstarted messages, finish in-flight ones (bounded).

        Returns True when every in-flight request finished within `timeout`.
        """
        self._stopping = True
        self.status.consuming = False
        for queue, tag in self._consumers:
            try:
                await queue.cancel(tag)
            except Exception as exc:  # a dead channel has no consumer left to cancel
                log.debug("cancel of %s failed: %s", queue.name, exc)
        drained = True
        if self.status.in_flight:
            log.info(
                "draining %d in-flight request(s), up to %.0f s", self.status.in_flight, timeout
            )
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except TimeoutError:
                drained = False
                log.warning(
                    "%d request(s) still running after %.0f s; closing anyway",
                    self.status.in_flight,
                    timeout,
                )
        # What is left is still waiting for a slot (unacked: the broker redelivers it) or ran
        # past the drain timeout.
        for task in list(self._requests):
            task.cancel()
        await self._delete_private_queues()
        if self._connection is not None:
            await self._connection.close()
        self.status.connected = False
        return drained

    async def _delete_private_queues(self) -> None:
        for queue, _ in self._consumers:
            spec = self._spec_for(queue.name)
            if spec is not None and spec.delete_on_close:
                try:
                    await queue.delete(if_unused=False, if_empty=False)
                except Exception as exc:
                    log.debug("could not delete %s: %s", queue.name, exc)

    def _spec_for(self, name: str) -> QueueSpec | None:
        if self._topology is None:
            return None
        return next((s for s in self._topology.queues if s.name == name), None)

    async def _declare(self, channel: AbstractChannel, spec: QueueSpec) -> AbstractQueue:
        exchange = await channel.declare_exchange(
            spec.exchange.name,
            ExchangeType(spec.exchange.type),
            durable=spec.exchange.durable,
            auto_delete=spec.exchange.auto_delete,
        )
        queue = await channel.declare_queue(
            spec.name,
            durable=spec.durable,
            auto_delete=spec.auto_delete,
            arguments=spec.arguments or None,
        )
        await queue.bind(exchange, routing_key=spec.routing_key)
        return queue

    def _on_connection_lost(self, *_: Any) -> None:
        if not self._stopping:
            log.warning("lost the RabbitMQ connection; reconnecting")
        self.status.connected = False

    def _on_reconnected(self, *_: Any) -> None:
        log.info("reconnected to RabbitMQ; queues and consumers restored")
        self.status.connected = True

    async def _get_reply_channel(self) -> AbstractRobustChannel:
        if self._reply_channel is None:
            raise RuntimeError("server not started")
        return self._reply_channel

    # --- per message -------------------------------------------------------------------

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        # aiormq runs this callback in a task of the channel's, and cancels those tasks when
        # the channel closes (a broker restart or a cut connection). A request already acked
        # must still finish and have its reply sent once the connection is back, as oslo's
        # executor threads do, so it runs in a task of ours.
        task = asyncio.create_task(self._serve(message))
        self._requests.add(task)
        task.add_done_callback(self._request_done)

    def _request_done(self, task: asyncio.Task[None]) -> None:
        self._requests.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("request failed outside its handler", exc_info=task.exception())

    async def _serve(self, message: AbstractIncomingMessage) -> None:
        async with self._slots:
            if self._stopping:
                # Not started: back to the queue for another worker.
                await _quietly(message.nack(requeue=True))
                return
            self._enter()
            try:
                await self._handle(message)
            finally:
                self._leave()

    def _enter(self) -> None:
        self.status.in_flight += 1
        self._metrics.in_flight(1)
        self._idle.clear()

    def _leave(self) -> None:
        self.status.in_flight -= 1
        self.status.served += 1
        self._metrics.in_flight(-1)
        if self.status.in_flight == 0:
            self._idle.set()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        try:
            request = decode_request(message.body, self.settings.aio.max_message_bytes)
        except BadMessage as bad:
            await self._refuse(message, bad)
            return
        early = self.settings.aio.ack_mode == "early"
        if early:
            try:
                await message.ack()
            except Exception as exc:
                # oslo drops a request whose ack failed (LP#1695746): it may be redelivered.
                log.warning("ack failed, request %s dropped: %s", request.msg_id, exc)
                return
        try:
            if self._dedup.seen_before(request.unique_id):
                log.info("duplicate message %s ignored", request.unique_id)
                self._metrics.rejected("duplicate")
                return
            await self._process(request, message)
        finally:
            if not early:
                await _quietly(message.ack())

    async def _refuse(self, message: AbstractIncomingMessage, bad: BadMessage) -> None:
        # reject without requeue: a bad message must never loop back into the queue
        log.warning("rejected message %s: %s", message.message_id or "-", bad.reason)
        self._metrics.rejected("invalid")
        await _quietly(message.reject(requeue=False))
        if bad.msg_id is not None and bad.reply_q is not None:
            from aioconductor.errors import InvalidRequest

            failure = serialize_failure(InvalidRequest(bad.reason), with_traceback=False)
            await self.replies.send(bad.reply_q, bad.msg_id, None, failure)

    async def _process(self, request: RpcRequest, message: AbstractIncomingMessage) -> None:
        label = self._describe(request)
        monitor = self._start_call_monitor(request)
        started = time.perf_counter()
        result: Any = None
        failure: str | None = None
        try:
            try:
                result = await self._dispatcher.dispatch(request)
            except NotNative as not_native:
                if self._forwarder is None or message.exchange != self.settings.control_exchange:
                    # A fanout copy reaches the legacy conductor's own fanout queue anyway.
                    raise not_native.failure from None
                self._metrics.received(label, "forwarded")
                await self._forwarder.forward(request, message)
                return
            self._metrics.received(label, "native")
        except RemoteFailure as exc:
            self._metrics.received(label, "native")
            self._metrics.failed(label, exc.remote_class)
            log.debug("%s failed: %s: %s", label, exc.remote_class, exc)
            failure = serialize_failure(exc)
        except Exception as exc:
            self._metrics.received(label, "native")
            self._metrics.failed(label, type(exc).__name__)
            log.exception("%s raised (request %s)", label, request.context.request_id)
            failure = serialize_failure(exc)
        finally:
            if monitor is not None:
                monitor.cancel()
        self._metrics.observe(label, time.perf_counter() - started)
        if request.wants_reply:
            await self._reply(request, result, failure)

    async def _reply(self, request: RpcRequest, result: Any, failure: str | None) -> None:
        assert request.reply_q is not None
        assert request.msg_id is not None
        try:
            delivered = await self.replies.send(request.reply_q, request.msg_id, result, failure)
        except TypeError as exc:  # a result json cannot encode: tell the caller, not just us
            log.exception("result of %s is not serialisable", request.method)
            delivered = await self.replies.send(
                request.reply_q, request.msg_id, None, serialize_failure(exc)
            )
        if not delivered:
            self._metrics.reply_dropped()

    def _start_call_monitor(self, request: RpcRequest) -> asyncio.Task[None] | None:
        if not request.wants_reply or not request.timeout:
            return None
        interval = int(request.timeout) / 2
        if interval < 1:
            log.warning("call monitor timeout %ss too short; no heartbeats", request.timeout)
            return None
        assert request.reply_q is not None
        assert request.msg_id is not None
        return asyncio.create_task(
            self.replies.heartbeat_until_done(request.reply_q, request.msg_id, interval)
        )


async def _quietly(operation: Awaitable[Any]) -> None:
    try:
        await operation
    except Exception as exc:  # the channel is gone: the broker requeues unacked messages
        log.debug("message settle failed: %s", exc)
