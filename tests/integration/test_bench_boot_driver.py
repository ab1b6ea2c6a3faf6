"""The bootrequests driver on a real broker: its cast is the one oslo's RPCClient publishes,
its N slots keep N boots in flight and time each from cast to compute cast, a lost boot is
an error, and a target that dies ends the level at once."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import aio_pika
import pytest

from aioconductor.bench.boot_driver import BootDriver, TargetExited
from aioconductor.bench.boot_pool import identities
from tests import rabbit
from tests.integration.conftest import OsloClients
from tests.unit.bench.test_boot_requests import MINE, _recorded_cast, _template

pytestmark = pytest.mark.connected
HOSTS = ["bench-h1", "bench-h2"]


async def _conductor_queue(exchange: str) -> tuple[Any, aio_pika.abc.AbstractQueue]:
    connection = await aio_pika.connect(rabbit.url("amqp"))
    channel = await connection.channel()
    ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC)
    queue = await channel.declare_queue("conductor")  # as oslo declares it
    await queue.bind(ex, routing_key="conductor")
    return connection, queue


async def _get(queue: aio_pika.abc.AbstractQueue) -> aio_pika.abc.AbstractIncomingMessage:
    for _ in range(100):
        message = await queue.get(fail=False, no_ack=True)
        if message is not None:
            return message
        await asyncio.sleep(0.05)
    raise AssertionError("no cast arrived")


def test_the_boot_cast_is_the_one_oslo_publishes(exchange_name: str) -> None:
    cast = _recorded_cast()
    message = cast["message"]
    clients = OsloClients(exchange_name)
    loop = asyncio.new_event_loop()
    connection, queue = loop.run_until_complete(_conductor_queue(exchange_name))
    try:
        caster = clients.client(namespace=message["namespace"], version=message["version"])
        thread = threading.Thread(
            target=lambda: caster.cast(dict(cast["context"]), message["method"], **message["args"])
        )
        thread.start()
        thread.join()
        theirs = loop.run_until_complete(_get(queue))

        async def ours() -> tuple[aio_pika.abc.AbstractIncomingMessage, int]:
            async with BootDriver(
                rabbit.url("amqp"), exchange_name, _template(), [MINE], HOSTS,
                arrival_timeout=0.5,
            ) as driver:  # fmt: skip
                measured, _ = await driver.level(1, 5.0, limit=1)
            return await _get(queue), measured.errors

        mine, errors = loop.run_until_complete(ours())
        assert errors == 1  # nobody built it: it never reached a compute
        their_inner = json.loads(json.loads(theirs.body)["oslo.message"])
        my_inner = json.loads(json.loads(mine.body)["oslo.message"])
        assert list(my_inner) == list(their_inner)  # same keys in the same order
        their_inner.pop("_unique_id")
        my_inner.pop("_unique_id")
        assert my_inner == their_inner
        for name in ("content_type", "content_encoding", "delivery_mode", "expiration"):
            assert getattr(mine, name) == getattr(theirs, name), name
    finally:
        clients.close()
        loop.run_until_complete(queue.delete(if_unused=False, if_empty=False))
        loop.run_until_complete(connection.close())
        loop.close()


async def _fake_conductor(exchange: str, delay: float, seen: dict[str, int]) -> Any:
    """Builds each boot after `delay`: a build_and_run_instance to a host's queue."""
    connection, queue = await _conductor_queue(exchange)
    channel = await connection.channel()
    ex = await channel.get_exchange(exchange)

    async def build(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        inner = json.loads(json.loads(message.body)["oslo.message"])
        seen["in_flight"] += 1
        seen["most"] = max(seen["most"], seen["in_flight"])
        await asyncio.sleep(delay)
        data = inner["args"]["build_requests"][0]["nova_object.data"]
        host = HOSTS[seen["built"] % len(HOSTS)]
        seen["built"] += 1
        seen["in_flight"] -= 1
        reply = {"method": "build_and_run_instance", "args": {"instance": {
            "nova_object.data": {"uuid": data["instance_uuid"]}}}}  # fmt: skip
        body = json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(reply)}).encode()
        await ex.publish(aio_pika.Message(body), routing_key=f"compute.{host}")

    building: set[asyncio.Task[None]] = set()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        task = asyncio.ensure_future(build(message))  # each boot its own: they overlap
        building.add(task)
        task.add_done_callback(building.discard)

    await queue.consume(on_message, no_ack=True)
    return connection, queue


def test_n_slots_keep_n_boots_in_flight_and_time_each(exchange_name: str) -> None:
    seen = {"in_flight": 0, "most": 0, "built": 0}
    boots = identities(400, ["p" * 32], seed=5)

    async def scenario() -> None:
        connection, queue = await _fake_conductor(exchange_name, 0.02, seen)
        try:
            async with BootDriver(
                rabbit.url("amqp"), exchange_name, _template(), boots, HOSTS
            ) as driver:
                measured, level = await driver.level(3, 0.5)
                assert measured.errors == 0
                assert len(measured.latencies) == len(level.uuids) == seen["built"]
                assert min(measured.latencies) >= 0.02
                assert seen["most"] == 3
                assert not level.pool_exhausted
                assert driver.ledger.problems() == []
                assert sum(driver.ledger.hosts.values()) == seen["built"]
                assert set(driver.ledger.hosts) == set(HOSTS)
                assert level.uuids == [b.uuid for b in boots[: len(level.uuids)]]
                # the next level goes on with the pool, then runs out of it
                _, rest = await driver.level(5, 60.0)
                assert rest.pool_exhausted
                assert len(level.uuids) + len(rest.uuids) == 400
                assert driver.ledger.problems() == []
        finally:
            await queue.delete(if_unused=False, if_empty=False)
            await connection.close()

    asyncio.run(scenario())


def test_a_dead_target_ends_the_level_at_once(exchange_name: str) -> None:
    dies_at = time.monotonic() + 1.0

    async def scenario() -> None:
        connection, queue = await _conductor_queue(exchange_name)  # nobody consumes
        try:
            async with BootDriver(
                rabbit.url("amqp"), exchange_name, _template(), identities(10, ["p"], seed=1),
                HOSTS, alive=lambda: time.monotonic() < dies_at,
            ) as driver:  # fmt: skip
                started = time.monotonic()
                with pytest.raises(TargetExited, match="2 boots cast"):
                    await driver.level(2, 30.0)
                assert time.monotonic() - started < 5
        finally:
            await queue.delete(if_unused=False, if_empty=False)
            await connection.close()

    asyncio.run(scenario())
