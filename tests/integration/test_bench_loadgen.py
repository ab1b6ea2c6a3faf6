"""The load generator sends what oslo's own RPCClient sends, and drives a real target."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import aio_pika
import pytest

from aioconductor.bench import workloads
from aioconductor.bench.fixture import Fixture
from aioconductor.bench.generators import ProcessGenerators
from aioconductor.bench.loadgen import ADMIN_CONTEXT, WireClient, request_body
from tests import rabbit
from tests.integration.conftest import OsloClients
from tests.integration.rpc_harness import ServerThread
from tests.integration.test_rpc_server import make_settings

pytestmark = pytest.mark.connected
VOLATILE = {"_msg_id", "_reply_q", "_unique_id"}


async def _capture_one(exchange: str) -> tuple[dict[str, Any], aio_pika.abc.AbstractQueue]:
    connection = await aio_pika.connect(rabbit.url("amqp"))
    channel = await connection.channel()
    ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC)
    queue = await channel.declare_queue("conductor")  # as oslo declares it
    await queue.bind(ex, routing_key="conductor")
    return {"connection": connection}, queue


async def _get(queue: aio_pika.abc.AbstractQueue) -> aio_pika.abc.AbstractIncomingMessage:
    for _ in range(100):
        message = await queue.get(fail=False)
        if message is not None:
            return message
        await asyncio.sleep(0.05)
    raise AssertionError("oslo's request never arrived")


def test_generator_request_equals_oslo_client_request(exchange_name: str) -> None:
    import oslo_messaging

    loop = asyncio.new_event_loop()
    holder, queue = loop.run_until_complete(_capture_one(exchange_name))
    clients = OsloClients(exchange_name)
    try:
        import threading

        def call() -> None:
            with pytest.raises(oslo_messaging.MessagingTimeout):
                clients.client(namespace="baseapi", timeout=4).call(
                    dict(ADMIN_CONTEXT), "ping", arg="x"
                )

        caller = threading.Thread(target=call)
        caller.start()
        # read it while the call waits (its AMQP expiration is the call timeout)
        message = loop.run_until_complete(_get(queue))
        caller.join()
        theirs = json.loads(json.loads(message.body)["oslo.message"])
        ours = json.loads(
            json.loads(
                request_body(
                    "ping",
                    {"arg": "x"},
                    namespace="baseapi",
                    version="1.0",
                    msg_id="m",
                    reply_q="r",
                )
            )["oslo.message"]
        )
        assert list(ours) == list(theirs)  # same keys in the same order
        assert {k: v for k, v in ours.items() if k not in VOLATILE} == {
            k: v for k, v in theirs.items() if k not in VOLATILE | {"_timeout"}
        } | {"_timeout": None}

        async def publish_ours() -> aio_pika.abc.AbstractIncomingMessage:
            async with WireClient(rabbit.url("amqp"), exchange_name, timeout=4) as client:
                sent = asyncio.ensure_future(
                    client.call("ping", {"arg": "x"}, namespace="baseapi", version="1.0")
                )
                mine = await _get(queue)
                sent.cancel()
                return mine

        # and the generator's message on the wire carries oslo's properties
        mine = loop.run_until_complete(publish_ours())
        for name in ("content_type", "content_encoding", "delivery_mode", "expiration"):
            assert getattr(mine, name) == getattr(message, name), name
        assert list(json.loads(json.loads(mine.body)["oslo.message"])) == list(theirs)
    finally:
        clients.close()
        loop.run_until_complete(queue.delete(if_unused=False, if_empty=False))
        loop.run_until_complete(holder["connection"].close())
        loop.close()


def test_closed_loop_against_a_real_server(exchange_name: str) -> None:
    thread = ServerThread(make_settings(exchange_name)).start()

    async def drive() -> workloads.Measured:
        async with WireClient(rabbit.url("amqp"), exchange_name) as client:
            return await workloads.closed_loop(client, workloads.ping, range(5), 1.0)

    try:
        measured = asyncio.run(drive())
    finally:
        thread.stop()
    assert measured.errors == 0
    assert len(measured.latencies) > 10


def test_several_generator_processes_drive_one_target(exchange_name: str) -> None:
    thread = ServerThread(make_settings(exchange_name)).start()
    empty = Fixture(database="", template={"manifests": {}}, boot_steps=[], hosts=[], pool=[])

    async def drive() -> tuple[workloads.Measured, list[int]]:
        async with ProcessGenerators(2, rabbit.url("amqp"), exchange_name, empty, 10.0) as many:
            return await many.closed("ping", 4, 1.0), many.pids

    try:
        measured, pids = asyncio.run(drive())
    finally:
        thread.stop()
    assert len(set(pids)) == 2
    assert os.getpid() not in pids
    assert measured.errors == 0
    assert len(measured.latencies) > 10
    assert 0.9 < measured.seconds < 2.0  # the processes ran the same window, not one after another
    assert measured.loadgen_cpu > 0  # the children's CPU, measured where it was spent


def test_a_generator_process_that_cannot_start_stops_the_run_with_a_clear_error() -> None:
    empty = Fixture(database="", template={"manifests": {}}, boot_steps=[], hosts=[], pool=[])
    closed_port = "amqp://guest:guest@127.0.0.1:9/"

    async def start() -> None:
        async with ProcessGenerators(2, closed_port, "nowhere", empty, 10.0):
            pass

    with pytest.raises(RuntimeError, match="load generator process died"):
        asyncio.run(start())
