"""Declarations must equal oslo.messaging's for the same options, or the broker refuses them."""

from __future__ import annotations

from aioconductor.config.settings import RabbitOptions
from aioconductor.messaging.topology import server_topology


def topo(**opts: object):  # type: ignore[no-untyped-def]
    return server_topology(
        exchange="nova", topic="conductor", server="h1", opts=RabbitOptions.model_validate(opts)
    )


def test_default_topology_matches_oslo() -> None:
    t = topo()
    assert t.topic_queue.name == "conductor"
    assert t.server_queue.name == "conductor.h1"
    assert t.fanout_queue.name.startswith("conductor_fanout_")
    assert len(t.fanout_queue.name) == len("conductor_fanout_") + 32
    ex = t.topic_queue.exchange
    assert (ex.name, ex.type, ex.durable, ex.auto_delete) == ("nova", "topic", False, False)
    assert (t.topic_queue.durable, t.topic_queue.auto_delete, t.topic_queue.arguments) == (
        False,
        False,
        {},
    )
    fx = t.fanout_queue.exchange
    assert (fx.name, fx.type, fx.durable, fx.auto_delete) == (
        "conductor_fanout",
        "fanout",
        False,
        True,
    )
    assert t.fanout_queue.arguments == {"x-expires": 1800000}
    assert t.fanout_queue.delete_on_close


def test_durable_and_quorum_options() -> None:
    t = topo(amqp_durable_queues=True)
    assert t.topic_queue.durable
    assert t.topic_queue.exchange.durable
    q = topo(rabbit_quorum_queue=True, rabbit_quorum_delivery_limit=5)
    assert q.topic_queue.durable
    assert q.topic_queue.arguments == {"x-queue-type": "quorum", "x-delivery-limit": 5}
    # topic quorum does not make the transient fanout queue quorum
    assert "x-queue-type" not in q.fanout_queue.arguments


def test_transient_quorum_and_ha() -> None:
    t = topo(rabbit_transient_quorum_queue=True, rabbit_transient_queues_ttl=60)
    assert t.fanout_queue.durable
    assert t.fanout_queue.exchange.durable
    assert t.fanout_queue.arguments == {"x-queue-type": "quorum", "x-expires": 60000}
    ha = topo(rabbit_ha_queues=True)
    assert ha.topic_queue.arguments == {"x-ha-policy": "all"}
    assert ha.fanout_queue.arguments == {"x-ha-policy": "all", "x-expires": 1800000}


def test_stream_fanout_is_one_shared_queue() -> None:
    t = topo(
        rabbit_stream_fanout=True,
        rabbit_transient_quorum_queue=True,
        rabbit_qos_prefetch_count=10,
    )
    assert t.fanout_queue.name == "conductor_fanout"
    assert t.fanout_queue.arguments == {"x-queue-type": "stream", "x-max-age": "1800s"}
    assert t.fanout_queue.consumer_arguments["x-stream-offset"] == "last"
    assert not t.fanout_queue.delete_on_close


def test_consumer_priority_is_a_consumer_argument_only() -> None:
    t = server_topology(
        exchange="nova", topic="conductor", server="h", opts=RabbitOptions(), consumer_priority=10
    )
    assert t.topic_queue.consumer_arguments == {"x-priority": 10}
    assert "x-priority" not in t.topic_queue.arguments
