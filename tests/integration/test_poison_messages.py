"""Messages that cannot be decoded are rejected and never hold a prefetch slot.

A message left neither acked nor rejected keeps its slot in the broker's prefetch window until
the connection dies; `prefetch` of them stop the worker while it still says it is ready.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aio_pika
import pytest

from tests import rabbit
from tests.integration.conftest import OsloClients
from tests.integration.rpc_harness import ServerThread
from tests.integration.test_rpc_server import CTX, make_settings

pytestmark = pytest.mark.connected

PREFETCH = 8
MAX_BYTES = 64 * 1024


def wrap(inner_text: str) -> bytes:
    return json.dumps({"oslo.version": "2.0", "oslo.message": inner_text}).encode()


def poison(i: int, reply_q: str) -> tuple[bytes, bool]:
    """The i-th bad message, and whether it carries a reply address we can read."""
    addr = f', "_msg_id": "poison-{i}", "_reply_q": "{reply_q}"'
    deep = "[" * 10_000 + "]" * 10_000
    kinds: list[tuple[bytes, bool]] = [
        (wrap('{"method": "ping", "args": {"arg": ' + deep + "}" + addr + "}"), True),
        (deep.encode(), False),  # the outer document itself
        (wrap('{"method": "ping", "odd": "\\ud800", "args": {"a": ' + deep + "}}"), False),
        (wrap('{"method": "ping", "args": {"arg": "' + "x" * MAX_BYTES + '"}' + addr + "}"), True),
        (wrap('{"method": 7, "args": [1, 2]' + addr + "}"), True),  # wrong types
        (b"\xff\xfe\x00\x80 not UTF-8 \xc3\x28", False),
        (b"this is not JSON {", False),
        (
            wrap('{"method": "ping", "_timeout": "soon", "_context_roles": {"x": 1}' + addr + "}"),
            True,
        ),
    ]
    return kinds[i % len(kinds)]


def queue_counts(queue: str) -> tuple[int, int]:
    """(ready, unacked) as RabbitMQ itself counts them."""
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", rabbit.vhost(),
         "name", "messages_ready", "messages_unacknowledged"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for line in out.splitlines():
        fields = line.split("\t")
        if fields[0] == queue:
            return int(fields[1]), int(fields[2])
    raise AssertionError(f"no queue {queue} in {out!r}")


async def publish_poison(exchange: str, count: int) -> tuple[int, list[dict[str, Any]]]:
    """Send `count` bad messages in small bursts; the failures answered for the readable ones."""
    connection = await aio_pika.connect(rabbit.url("amqp"))
    async with connection:
        channel = await connection.channel()
        reply_q = await channel.declare_queue(f"reply_{uuid.uuid4().hex}", exclusive=True)
        target = await channel.get_exchange(exchange)
        answerable = 0
        for i in range(count):
            body, has_address = poison(i, reply_q.name)
            answerable += has_address
            await target.publish(aio_pika.Message(body), routing_key="conductor")
            if i % 10 == 9:
                await asyncio.sleep(0.05)  # let good calls in between
        replies: list[dict[str, Any]] = []
        deadline = time.monotonic() + 20
        while len(replies) < answerable and time.monotonic() < deadline:
            message = await reply_q.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.05)
            else:
                replies.append(json.loads(json.loads(message.body)["oslo.message"]))
        return answerable, replies


def test_poison_messages_are_rejected_and_good_calls_between_them_are_served(
    exchange_name: str,
) -> None:
    settings = make_settings(exchange_name, prefetch_count=PREFETCH, max_message_bytes=MAX_BYTES)
    thread = ServerThread(settings).start()
    clients = OsloClients(exchange_name)
    try:
        client = clients.client(namespace="baseapi", timeout=15)
        with ThreadPoolExecutor(4) as pool:
            good = [pool.submit(client.call, CTX, "ping", arg=i) for i in range(60)]
            answerable, failures = asyncio.run(publish_poison(exchange_name, 200))
            answers = [call.result(timeout=60) for call in good]
        assert answers == [{"service": "conductor", "arg": i} for i in range(60)]
        # every caller whose reply address could be read is told why, at once
        assert len(failures) == answerable
        assert {json.loads(f["failure"])["class"] for f in failures} == {"InvalidRequest"}
        deadline = time.monotonic() + 10
        while (counts := queue_counts("conductor")) != (0, 0) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert counts == (0, 0)  # (ready, unacked): nothing requeued, nothing held
    finally:
        clients.close()
        thread.stop()
