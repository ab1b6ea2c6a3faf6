"""The exchanges and queues an oslo.messaging RPC server declares, for the same options.

Clients and the broker reject a declare whose attributes differ from what already exists
(PRECONDITION_FAILED), so every flag and argument here follows oslo.messaging's rabbit driver
(`declare_topic_consumer`, `declare_fanout_consumer`, `_get_queue_arguments`) exactly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from aioconductor.config.settings import RabbitOptions
from aioconductor.messaging.queue_names import QueueManager


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    name: str
    type: str
    durable: bool
    auto_delete: bool


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    exchange: ExchangeSpec
    routing_key: str
    durable: bool
    auto_delete: bool
    arguments: dict[str, Any] = field(default_factory=dict)
    consumer_arguments: dict[str, Any] = field(default_factory=dict)
    # oslo deletes its random-named fanout queue on a clean close; shared ones are kept.
    delete_on_close: bool = False


@dataclass(frozen=True, slots=True)
class ServerTopology:
    topic_queue: QueueSpec
    server_queue: QueueSpec
    fanout_queue: QueueSpec

    @property
    def queues(self) -> tuple[QueueSpec, QueueSpec, QueueSpec]:
        return (self.topic_queue, self.server_queue, self.fanout_queue)


def queue_arguments(
    opts: RabbitOptions, *, quorum: bool, ttl: int, stream: bool = False
) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if opts.rabbit_ha_queues:
        args["x-ha-policy"] = "all"
    if quorum:
        args["x-queue-type"] = "quorum"
        if opts.rabbit_quorum_delivery_limit:
            args["x-delivery-limit"] = opts.rabbit_quorum_delivery_limit
        if opts.rabbit_quorum_max_memory_length:
            args["x-max-in-memory-length"] = opts.rabbit_quorum_max_memory_length
        if opts.rabbit_quorum_max_memory_bytes:
            args["x-max-in-memory-bytes"] = opts.rabbit_quorum_max_memory_bytes
    if ttl > 0:
        args["x-expires"] = ttl * 1000
    if stream:
        # Stream mode replaces everything above, as oslo does.
        args = {"x-queue-type": "stream"}
        if ttl > 0:
            args["x-max-age"] = f"{ttl}s"
    return args


def consumer_arguments(opts: RabbitOptions, priority: int = 0) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if opts.enable_cancel_on_failover:
        args["x-cancel-on-ha-failover"] = True
    if priority:
        # A consumer argument, not a queue argument: it never clashes with other declarers.
        # With a legacy nova-conductor on the same queue, the broker prefers us and hands it
        # work only while all our consumers are at their prefetch limit.
        args["x-priority"] = priority
    return args


def control_exchange(name: str, opts: RabbitOptions) -> ExchangeSpec:
    return ExchangeSpec(
        name=name,
        type="topic",
        durable=opts.amqp_durable_queues or opts.rabbit_quorum_queue,
        auto_delete=opts.amqp_auto_delete,
    )


def server_topology(
    *,
    exchange: str,
    topic: str,
    server: str,
    opts: RabbitOptions,
    queue_manager: QueueManager | None = None,
    consumer_priority: int = 0,
) -> ServerTopology:
    """Queues `T`, `T.S` on the control exchange and `T_fanout_<unique>` on `T_fanout`."""
    topic_exchange = control_exchange(exchange, opts)
    topic_args = queue_arguments(opts, quorum=opts.rabbit_quorum_queue, ttl=0)
    consumer_args = consumer_arguments(opts, consumer_priority)

    def topic_queue(name: str) -> QueueSpec:
        return QueueSpec(
            name=name,
            exchange=topic_exchange,
            routing_key=name,
            durable=topic_exchange.durable,
            auto_delete=opts.amqp_auto_delete,
            arguments=dict(topic_args),
            consumer_arguments=dict(consumer_args),
        )

    fanout_durable = opts.rabbit_transient_quorum_queue or opts.rabbit_stream_fanout
    fanout_exchange = ExchangeSpec(
        name=f"{topic}_fanout", type="fanout", durable=fanout_durable, auto_delete=True
    )
    if opts.rabbit_stream_fanout:
        fanout_name = f"{topic}_fanout"
        fanout_consumer_args = {**consumer_args, "x-stream-offset": "last"}
    else:
        unique = queue_manager.next_name() if queue_manager else uuid.uuid4().hex
        fanout_name = f"{topic}_fanout_{unique}"
        fanout_consumer_args = dict(consumer_args)
    fanout = QueueSpec(
        name=fanout_name,
        exchange=fanout_exchange,
        routing_key=topic,
        durable=fanout_durable,
        auto_delete=False,
        arguments=queue_arguments(
            opts,
            quorum=opts.rabbit_transient_quorum_queue,
            ttl=opts.rabbit_transient_queues_ttl,
            stream=opts.rabbit_stream_fanout,
        ),
        consumer_arguments=fanout_consumer_args,
        delete_on_close=not (opts.rabbit_stream_fanout or opts.use_queue_manager),
    )
    return ServerTopology(
        topic_queue=topic_queue(topic),
        server_queue=topic_queue(f"{topic}.{server}"),
        fanout_queue=fanout,
    )
