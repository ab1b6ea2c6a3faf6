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

from pamqp import commands

from aioconductor.config.settings import Settings
from aioconductor.errors import InvalidRequest, NotNative, RemoteFailure
from aioconductor.messaging.amqp.connection import AmqpError, Channel, Connection, Delivery
from aioconductor.messaging.amqp.robust import RobustConnection
from aioconductor.messaging.connection import robust_connection
from aioconductor.messaging.dedup import DuplicateFilter
from aioconductor.messaging.dispatcher import Dispatcher
from aioconductor.messaging.envelope import BadMessage, RpcRequest, decode_request, reply_address
from aioconductor.messaging.failures import serialize_failure
from aioconductor.messaging.queue_names import QueueManager
from aioconductor.messaging.replies import ReplySender
from aioconductor.messaging.topology import QueueSpec, ServerTopology, server_topology
from aioconductor.notifications import ordering
from aioconductor.observability.metrics import RequestMetrics
from aioconductor.observability.throttle import ThrottledLog

log = logging.getLogger(__name__)


class Forwarder(Protocol):
    """Hands a request we do not serve to the legacy conductor (see conductor/fallback.py)."""

    async def forward(self, request: RpcRequest, message: Delivery) -> None: ...


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
        self._slot_count = settings.prefetch_count
        self._slots = asyncio.Semaphore(self._slot_count)
        self._dedup = DuplicateFilter(settings.aio.duplicate_window)
        # only a notification bound for a broker can be overtaken; otherwise no call pays
        # for keeping the order (notifications/ordering.py)
        notes = settings.notifications
        self._notifications_ordered = bool(
            {"messaging", "messagingv2"} & set(notes.sending_drivers)
            and (notes.legacy or notes.versioned)
            and settings.aio.notification_reply_wait > 0
        )
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._connection: RobustConnection | None = None
        self._consume_channel: Channel | None = None
        self._reply_channel: Channel | None = None
        self._consumer_tags: list[str] = []
        self._link: Connection | None = None  # the AMQP connection in use, for problems()
        self._saturated_since = 0.0  # when the last free slot was taken
        self._requests: set[asyncio.Task[None]] = set()
        self._topology: ServerTopology | None = None
        # Lines bad input can repeat (a fuzzed queue, a failing database) are summarised.
        self._log_repeated = ThrottledLog(log)
        self.replies = ReplySender(
            self._get_reply_channel,
            self._open_reply_channel,
            settings.rabbit.kombu_missing_consumer_retry_timeout,
        )

    @property
    def connection(self) -> RobustConnection:
        if self._connection is None:
            raise RuntimeError("server not started")
        return self._connection

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        opts = self.settings.rabbit
        queue_manager = (
            QueueManager(opts.hostname, opts.processname) if opts.use_queue_manager else None
        )
        # Computed once: after a reconnection the same queues (the same fanout name) return.
        self._topology = server_topology(
            exchange=self.settings.control_exchange,
            topic=self._topic,
            server=self.settings.host,
            opts=opts,
            queue_manager=queue_manager,
            consumer_priority=self.settings.aio.consumer_priority,
        )
        self._connection = robust_connection(
            self.settings,
            self._setup,
            on_lost=self._on_connection_lost,
            on_restored=self._on_reconnected,
        )
        await self._connection.start(attempts=self._connect_attempts)
        self.status.connected = True
        self.status.queues = [spec.name for spec in self._topology.queues]
        self.status.consuming = True
        log.info(
            "consuming %s on exchange %r (prefetch %d, ack %s)",
            ", ".join(self.status.queues),
            self.settings.control_exchange,
            self.settings.prefetch_count,
            self.settings.aio.ack_mode,
        )

    async def _setup(self, connection: Connection) -> None:
        """Channels, declarations and consumers on a new connection (first or reconnected)."""
        assert self._topology is not None
        consume = await connection.channel()
        await consume.call(commands.Basic.Qos(prefetch_count=self.settings.prefetch_count))
        reply = await connection.channel()
        await reply.select_confirms()
        tags = []
        for spec in self._topology.queues:
            await declare(consume, spec)
            if not self._stopping:  # reconnected while draining: replies only
                tags.append(
                    await consume.consume(spec.name, self._on_message, spec.consumer_arguments)
                )
        # Without either channel this connection serves nothing: start over on a new one.
        consume.on_broker_close = reply.on_broker_close = connection.lose
        self._consume_channel, self._reply_channel, self._consumer_tags = consume, reply, tags
        self._link = connection

    async def stop(
        self, timeout: float, before_close: Callable[[], Awaitable[None]] | None = None
    ) -> bool:
        """Stop consuming, give back unstarted messages, finish in-flight ones (bounded).

        `before_close` runs once the requests are done, while the connection is still open
        (the notifier sends what they queued). Returns True when every in-flight request
        finished within `timeout`.
        """
        self._stopping = True
        self.status.consuming = False
        channel = self._consume_channel
        for tag in self._consumer_tags:
            try:
                if channel is not None:
                    await channel.cancel(tag)
            except AmqpError as exc:  # a dead channel has no consumer left to cancel
                log.debug("cancel of %s failed: %s", tag, exc)
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
        if before_close is not None:
            await before_close()
        await self._delete_private_queues()
        if self._connection is not None:
            await self._connection.close()
        self.status.connected = False
        return drained

    async def _delete_private_queues(self) -> None:
        if self._topology is None or self._consume_channel is None:
            return
        for spec in self._topology.queues:
            if spec.delete_on_close:
                try:
                    await self._consume_channel.call(
                        commands.Queue.Delete(queue=spec.name, if_unused=False, if_empty=False)
                    )
                except AmqpError as exc:
                    log.debug("could not delete %s: %s", spec.name, exc)

    def _on_connection_lost(self) -> None:
        self.status.connected = False

    def _on_reconnected(self) -> None:
        self.status.connected = True

    def _open_reply_channel(self) -> Channel | None:
        channel = self._reply_channel
        if channel is None or not channel.is_open or not self.status.connected:
            return None
        return channel

    async def _get_reply_channel(self) -> Channel:
        await self.connection.ready()
        assert self._reply_channel is not None
        return self._reply_channel

    # --- readiness -------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """What keeps this server from taking calls now, in words; empty when nothing does."""
        if not self.status.connected:
            return ["not connected to RabbitMQ"]
        found = [] if self.status.consuming else ["not consuming"]
        link = self._link
        if link is not None:
            blocked = link.publishing_blocked
            if blocked:
                found.append(f"broker blocked: {blocked}")
            quiet = link.seconds_since_data
            # RabbitMQ sends a heartbeat every half interval on an idle link: a whole
            # interval without a byte means one is missing, without waiting for the second.
            if link.heartbeat and quiet > link.heartbeat:
                found.append(f"link quiet for {quiet:.0f} s (heartbeat {link.heartbeat} s)")
        slots = self._slot_count
        if self.status.in_flight >= slots:
            busy = time.monotonic() - self._saturated_since
            if busy > self.settings.rpc_response_timeout:
                found.append(f"all {slots} slots busy for {busy:.0f} s, none finishing")
        return found

    # --- per message -------------------------------------------------------------------

    def _on_message(self, message: Delivery) -> None:
        # Each request runs in a task of ours, which a lost connection does not cancel: a
        # request already acked finishes and its reply waits for the connection to come
        # back, as oslo's executor threads do.
        task = asyncio.create_task(self._serve(message))
        self._requests.add(task)
        task.add_done_callback(self._request_done)

    def _request_done(self, task: asyncio.Task[None]) -> None:
        self._requests.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            self._log_repeated(
                f"outside handler: {type(error).__name__}",
                logging.ERROR,
                "request failed outside its handler",
                exc_info=error,
            )

    async def _serve(self, message: Delivery) -> None:
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
        if self.status.in_flight >= self._slot_count:
            self._saturated_since = time.monotonic()
        self._metrics.in_flight(1)
        self._idle.clear()

    def _leave(self) -> None:
        self.status.in_flight -= 1
        self.status.served += 1
        self._metrics.in_flight(-1)
        if self.status.in_flight == 0:
            self._idle.set()

    async def _handle(self, message: Delivery) -> None:
        # Whatever fails before dispatch rejects the message, as oslo's Consumer._callback
        # does: a message neither acked nor rejected would hold a prefetch slot for as long
        # as the connection lives.
        try:
            request = decode_request(message.body, self.settings.aio.max_message_bytes)
            label = self._describe(request)
        except BadMessage as bad:
            await self._refuse(message, "invalid", bad.reason, bad.msg_id, bad.reply_q)
            return
        except Exception as exc:
            msg_id, reply_q = reply_address(message.body)
            reason = f"cannot decode: {type(exc).__name__}: {str(exc)[:200]}"
            await self._refuse(message, "undecodable", reason, msg_id, reply_q, exc)
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
            await self._process(request, label, message)
        finally:
            if not early:
                await _quietly(message.ack())

    async def _refuse(
        self,
        message: Delivery,
        kind: str,
        reason: str,
        msg_id: str | None,
        reply_q: str | None,
        error: BaseException | None = None,
    ) -> None:
        """Reject without requeue (a bad message must never loop back into the queue), and
        tell the caller why when its reply address is readable. Never raises."""
        self._log_repeated(
            kind,
            logging.WARNING,
            "rejected message %s: %s",
            message.message_id or msg_id or "-",
            reason,
            exc_info=error,
        )
        self._metrics.rejected(kind)
        await _quietly(message.reject(requeue=False))
        if msg_id is None or reply_q is None:
            return
        try:
            failure = serialize_failure(InvalidRequest(reason), with_traceback=False)
            await self.replies.send(reply_q, msg_id, None, failure)
        except Exception as exc:
            self._log_repeated(
                "refusal-unsent", logging.WARNING, "could not tell %s why: %s", reply_q, exc
            )

    async def _process(self, request: RpcRequest, label: str, message: Delivery) -> None:
        monitor = self._start_call_monitor(request)
        started = time.perf_counter()
        result: Any = None
        failure: str | None = None
        route = "native"
        notifications: list[asyncio.Future[None]] = []
        try:
            try:
                if self._notifications_ordered:
                    with ordering.collecting() as notifications:
                        result = await self._dispatcher.dispatch(request)
                else:
                    result = await self._dispatcher.dispatch(request)
            except NotNative as not_native:
                if self._forwarder is None or message.exchange != self.settings.control_exchange:
                    # A fanout copy reaches the legacy conductor's own fanout queue anyway.
                    route = "refused"
                    raise not_native.failure from None
                route = "forwarded"
                self._metrics.received(label, route)
                await self._forwarder.forward(request, message)
                return
        except RemoteFailure as exc:
            self._metrics.failed(label, exc.remote_class)
            if route == "refused":
                # An operator must see that a cell's calls fail for want of a legacy
                # conductor, not only in a metric; one line per method per minute.
                self._log_repeated(
                    f"refused {label}", logging.WARNING, "%s refused: %s", label, exc
                )
            elif route == "forwarded":
                # the legacy conductor is away: for a cast, nobody else will ever know
                self._log_repeated(
                    f"not forwarded {label}", logging.WARNING, "%s not forwarded: %s", label, exc
                )
            else:
                log.debug("%s failed: %s: %s", label, exc.remote_class, exc)
            failure = serialize_failure(exc)
        except Exception as exc:
            self._metrics.failed(label, type(exc).__name__)
            self._log_repeated(
                f"handler raised {type(exc).__name__}",
                logging.ERROR,
                "%s raised (request %s)",
                label,
                request.context.request_id,
                exc_info=exc,
            )
            failure = serialize_failure(exc)
        finally:
            if monitor is not None:
                monitor.cancel()
        if route != "forwarded":  # a forward that failed was counted when it began
            self._metrics.received(label, route)
        if route == "native":
            self._metrics.observe(label, time.perf_counter() - started)
        if request.wants_reply:
            if notifications and not await ordering.sent(
                notifications, self.settings.aio.notification_reply_wait
            ):
                log.debug("replying to %s before its notifications went out", label)
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


async def declare(channel: Channel, spec: QueueSpec) -> None:
    """The exchange, the queue and the binding, with exactly the attributes oslo uses."""
    await channel.call(
        commands.Exchange.Declare(
            exchange=spec.exchange.name,
            exchange_type=spec.exchange.type,
            durable=spec.exchange.durable,
            auto_delete=spec.exchange.auto_delete,
        )
    )
    await channel.call(
        commands.Queue.Declare(
            queue=spec.name,
            durable=spec.durable,
            auto_delete=spec.auto_delete,
            arguments=spec.arguments or {},
        )
    )
    await channel.call(
        commands.Queue.Bind(
            queue=spec.name, exchange=spec.exchange.name, routing_key=spec.routing_key
        )
    )
