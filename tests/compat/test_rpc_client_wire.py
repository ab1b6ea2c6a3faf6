"""What our RPC client puts on the wire, against what oslo.messaging 18.3.1's own client
(nova's) publishes for the same call and cast: the body's keys in order, the values but the
ids, the AMQP properties, the routing, and the reply queue as the broker holds it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import uuid
from typing import Any

import aio_pika
import pytest

from aioconductor.context import RequestContext
from tests import rabbit
from tests.compat.rpc_peer import client_settings, our_client
from tests.integration.conftest import OsloClients

pytestmark = [pytest.mark.connected, pytest.mark.compat]

CONTEXT = {"user_id": "u1", "project_id": "p1", "is_admin": True, "request_id": "req-1"}
ARGS = {"spec_obj": {"nova_object.name": "RequestSpec", "nova_object.data": {"num": 1}}}
_IDS = ("_msg_id", "_reply_q", "_unique_id")
_PROPERTIES = (
    "content_type",
    "content_encoding",
    "headers",
    "delivery_mode",
    "priority",
    "correlation_id",
    "reply_to",
    "expiration",
    "message_id",
    "timestamp",
    "type",
    "user_id",
    "app_id",
)


@pytest.fixture
def exchange_name() -> str:
    return f"aioc_{uuid.uuid4().hex[:12]}"


async def _capture_queue(
    channel: aio_pika.abc.AbstractChannel, exchange: str, routing_key: str
) -> aio_pika.abc.AbstractQueue:
    ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC)
    # named apart: oslo servers of other tests leave a durable-ish `scheduler` queue behind
    queue = await channel.declare_queue(f"{exchange}.{routing_key}", auto_delete=True)
    await queue.bind(ex, routing_key)
    return queue


async def _get(queue: aio_pika.abc.AbstractQueue) -> aio_pika.abc.AbstractIncomingMessage:
    """The next message on `queue` (basic.get answers at once, empty or not)."""
    for _ in range(200):
        message = await queue.get(no_ack=True, fail=False)
        if message is not None:
            return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing arrived on {queue.name}")


def _seen(message: aio_pika.abc.AbstractIncomingMessage) -> tuple[list[tuple[str, Any]], dict]:
    outer = json.loads(message.body)
    assert list(outer) == ["oslo.version", "oslo.message"]
    inner = json.loads(outer["oslo.message"])
    body = [(k, "<id>" if k in _IDS else v) for k, v in inner.items()]
    properties = {name: getattr(message, name) for name in _PROPERTIES}
    return body, properties


def _reply_queue_row(name: str) -> list[str]:
    out = subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            rabbit.vhost(),
            "name",
            "durable",
            "auto_delete",
            "exclusive",
            "arguments",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    (row,) = [r[1:] for r in rows if r[0] == name]
    # the arguments are a table: the broker lists them in the order they came
    arguments = row[-1].strip("[]").removeprefix("{").removesuffix("}")
    return [*row[:-1], *sorted(arguments.split("},{"))]


RABBIT_OPTIONS = [
    {},
    {"rabbit_transient_queues_ttl": "600"},
    {"rabbit_transient_quorum_queue": "true"},
]


@pytest.mark.parametrize("rabbit_options", RABBIT_OPTIONS, ids=["defaults", "ttl", "quorum"])
async def test_a_call_and_a_cast_leave_as_oslos_do(
    exchange_name: str, rabbit_options: dict[str, str]
) -> None:
    connection = await aio_pika.connect(rabbit.url("amqp"))
    oslo = OsloClients(exchange_name)
    # registered by the transport just made; read when its first connection is made
    for key, value in rabbit_options.items():
        oslo.conf.set_override(key, value, group="oslo_messaging_rabbit")
    ours_env = {
        f"AIOCONDUCTOR_OSLO_MESSAGING_RABBIT__{k.upper()}": v for k, v in rabbit_options.items()
    }
    try:
        channel = await connection.channel()
        calls = await _capture_queue(channel, exchange_name, "scheduler")
        casts = await _capture_queue(channel, exchange_name, "compute.node1")

        def oslo_sends() -> None:
            target = oslo.om.Target(topic="scheduler", version="4.0")
            client = oslo.om.get_rpc_client(oslo.transport, target)
            with pytest.raises(oslo.om.MessagingTimeout):
                client.prepare(version="4.5", timeout=2, call_monitor_timeout=60).call(
                    CONTEXT, "select_destinations", **ARGS
                )
            compute = oslo.om.get_rpc_client(
                oslo.transport, oslo.om.Target(topic="compute", version="6.0")
            )
            compute.prepare(server="node1", version="6.0").cast(
                CONTEXT, "build_and_run_instance", **ARGS
            )

        thread = threading.Thread(target=oslo_sends)
        thread.start()
        oslo_call = await _get(calls)
        await asyncio.to_thread(thread.join, 20)
        oslo_cast = await _get(casts)

        ctx = RequestContext.from_wire(CONTEXT)
        async with our_client(client_settings(exchange_name, **ours_env)) as client:
            ours = asyncio.ensure_future(
                client.call(
                    ctx,
                    "scheduler",
                    "select_destinations",
                    ARGS,
                    version="4.5",
                    timeout=2,
                    call_monitor_timeout=60,
                )
            )
            our_call = await _get(calls)
            await client.cast(
                ctx, "compute", "build_and_run_instance", ARGS, version="6.0", server="node1"
            )
            our_cast = await _get(casts)
            our_reply_q = json.loads(json.loads(our_call.body)["oslo.message"])["_reply_q"]
            our_queue = _reply_queue_row(our_reply_q)
            await asyncio.gather(ours, return_exceptions=True)
        oslo_reply_q = json.loads(json.loads(oslo_call.body)["oslo.message"])["_reply_q"]

        assert _seen(our_call) == _seen(oslo_call)
        assert _seen(our_cast) == _seen(oslo_cast)
        assert (our_call.exchange, our_call.routing_key) == (
            oslo_call.exchange,
            oslo_call.routing_key,
        )
        assert our_cast.routing_key == oslo_cast.routing_key == "compute.node1"
        assert our_reply_q.startswith("reply_")
        assert len(our_reply_q) == len(oslo_reply_q)
        assert our_queue == _reply_queue_row(oslo_reply_q)
    finally:
        for key in rabbit_options:
            oslo.conf.clear_override(key, group="oslo_messaging_rabbit")
        oslo.close()
        await connection.close()
