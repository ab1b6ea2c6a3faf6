"""The worker's own AMQP client against the real RabbitMQ: what aio-pika used to do for us.

Large messages split over several frames, a consumer the broker cancels, a link that goes
silent without a reset (only heartbeats notice), and a virtual host the broker refuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import aio_pika
import pytest

from aioconductor.config.settings import Settings, load_settings
from aioconductor.errors import BootError
from aioconductor.messaging.connection import connect
from tests import rabbit
from tests.integration.conftest import OsloClients
from tests.integration.rpc_harness import ServerThread
from tests.integration.tcp_proxy import TcpProxy
from tests.integration.test_rpc_server import CTX, Probe

pytestmark = pytest.mark.connected


def settings_for(exchange: str, url: str, **extra: str) -> Settings:
    env = {
        "AIOCONDUCTOR_DEFAULT__CONTROL_EXCHANGE": exchange,
        "AIOCONDUCTOR_DEFAULT__HOST": "testhost",
        "AIOCONDUCTOR_DEFAULT__TRANSPORT_URL": url,
        **extra,
    }
    return load_settings([], env=env)


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_messages_larger_than_a_frame_travel_both_ways(exchange_name: str) -> None:
    # RabbitMQ's frame_max is 128 KiB: this request and its reply span several body frames.
    settings = settings_for(
        exchange_name, rabbit.url(), AIOCONDUCTOR_MAX_MESSAGE_BYTES=str(2 << 20)
    )
    thread = ServerThread(settings, [Probe()]).start()
    clients = OsloClients(exchange_name)
    try:
        client = clients.client(namespace="aioc_probe", timeout=20)
        big = "".join(chr(0x41 + i % 26) for i in range(400_000))
        assert client.call(CTX, "echo", blob=big)["args"]["blob"] == big
        assert client.call(CTX, "echo", n=1)["args"] == {"n": 1}  # the stream is still in step
    finally:
        clients.close()
        thread.stop()


async def _delete_queue(name: str) -> None:
    connection = await aio_pika.connect(rabbit.url("amqp"))
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


async def _consumers(name: str) -> int:
    """Consumers on the queue; 0 while it does not exist."""
    connection = await aio_pika.connect(rabbit.url("amqp"))
    async with connection:
        channel = await connection.channel()
        try:
            queue = await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelNotFoundEntity:
            return 0
        return queue.declaration_result.consumer_count or 0


def test_a_consumer_cancelled_by_the_broker_is_declared_and_consumed_again(
    exchange_name: str,
) -> None:
    """Deleting a queue under a consumer (an operator, an HA failover) ends the consumer."""
    thread = ServerThread(settings_for(exchange_name, rabbit.url())).start()
    clients = OsloClients(exchange_name)
    try:
        server_queue = "conductor.testhost"
        asyncio.run(_delete_queue(server_queue))
        assert wait_until(lambda: asyncio.run(_consumers(server_queue)) == 1, 20)
        # the direct queue works again: a call addressed to this server is answered
        ping = clients.client(namespace="baseapi", timeout=10, server="testhost")
        assert ping.call(CTX, "ping", arg="back")["arg"] == "back"
    finally:
        clients.close()
        thread.stop()


def test_a_silent_link_is_noticed_by_heartbeats_and_replaced(exchange_name: str) -> None:
    with TcpProxy(("127.0.0.1", 5672)) as proxy:
        settings = settings_for(
            exchange_name,
            rabbit.url(port=proxy.port),
            AIOCONDUCTOR_OSLO_MESSAGING_RABBIT__HEARTBEAT_TIMEOUT_THRESHOLD="2",
        )
        thread = ServerThread(settings).start()
        clients = OsloClients(exchange_name)
        try:
            ping = clients.client(namespace="baseapi", timeout=10)
            assert ping.call(CTX, "ping", arg=1)["arg"] == 1
            proxy.freeze()  # no reset, no FIN: the socket just goes quiet
            # two heartbeat intervals and a tick: the worker gives the connection up
            assert wait_until(lambda: not thread.server.status.connected, 8)
            proxy.thaw()
            assert wait_until(lambda: thread.server.status.connected, 20)
            assert ping.call(CTX, "ping", arg=2)["arg"] == 2
        finally:
            clients.close()
            thread.stop()


def test_a_missing_virtual_host_is_a_boot_error() -> None:
    settings = settings_for("nova", rabbit.url().rsplit("/", 1)[0] + "/no-such-vhost")

    async def attempt() -> Any:
        return await connect(settings, attempts=1)

    with pytest.raises(BootError, match="virtual host 'no-such-vhost'"):
        asyncio.run(attempt())


def test_a_channel_closed_by_the_broker_is_replaced(exchange_name: str) -> None:
    """A channel error (here: acking a delivery tag the broker never gave) closes the channel
    and its consumers; the worker starts over on a new connection."""
    from aioconductor.messaging.amqp import frames

    thread = ServerThread(settings_for(exchange_name, rabbit.url())).start()
    clients = OsloClients(exchange_name)
    try:
        ping = clients.client(namespace="baseapi", timeout=10)
        channel = thread.server._consume_channel
        assert channel is not None
        thread.loop.call_soon_threadsafe(channel.write, frames.ack(channel.id, 999_999))
        assert wait_until(lambda: not channel.is_open, 5)
        assert wait_until(lambda: thread.server._consume_channel is not channel, 20)
        assert wait_until(lambda: thread.server.status.connected, 20)
        assert ping.call(CTX, "ping", arg="again")["arg"] == "again"
    finally:
        clients.close()
        thread.stop()


def test_a_connection_closed_by_the_broker_is_replaced(exchange_name: str) -> None:
    """`rabbitmqctl close_all_connections` (an operator, a node going into maintenance) sends
    Connection.Close rather than cutting the socket."""
    import shutil
    import subprocess

    if shutil.which("rabbitmqctl") is None:
        pytest.skip("needs rabbitmqctl")
    thread = ServerThread(settings_for(exchange_name, rabbit.url())).start()
    try:
        subprocess.run(
            ["rabbitmqctl", "-q", "close_all_connections", "-p", rabbit.vhost(), "maintenance"],
            check=True,
            capture_output=True,
        )
        assert wait_until(lambda: not thread.server.status.connected, 10)
        assert wait_until(lambda: thread.server.status.connected, 20)
        clients = OsloClients(exchange_name)  # a caller that connects after the closing
        try:
            ping = clients.client(namespace="baseapi", timeout=10)
            assert ping.call(CTX, "ping", arg="reopened")["arg"] == "reopened"
        finally:
            clients.close()
    finally:
        thread.stop()


async def _fill_queue(name: str, count: int) -> None:
    connection = await aio_pika.connect(rabbit.url("amqp"))
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(name, auto_delete=False)
        for n in range(count):
            await channel.default_exchange.publish(aio_pika.Message(b"%d" % n), routing_key=name)


async def _drain_backlog(settings: Settings, queue: str, count: int) -> tuple[int, int]:
    """Consume a queue that already holds `count` messages, prefetch 64, acking each one;
    (acked, deliveries seen) once every message came or 10 s passed."""
    from pamqp import commands

    from aioconductor.messaging.amqp import frames

    connection = await connect(settings, attempts=1)
    try:
        channel = await connection.channel()
        await channel.call(commands.Basic.Qos(prefetch_count=64))
        acked: set[bytes] = set()
        seen = 0
        everything = asyncio.Event()

        def consumer(delivery: Any) -> None:
            nonlocal seen
            seen += 1
            channel.write(frames.ack(channel.id, delivery.delivery_tag))
            acked.add(delivery.body)
            if len(acked) == count:
                everything.set()

        await channel.consume(queue, consumer)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(everything.wait(), 10)
        return len(acked), seen
    finally:
        await connection.close()


def test_a_backlog_waiting_at_consume_time_is_delivered_in_full(exchange_name: str) -> None:
    """The broker sends deliveries right behind ConsumeOk, often in the same read: each must
    reach the consumer, or the prefetch window fills with messages nobody will ack."""
    settings = settings_for(exchange_name, rabbit.url())
    queue = f"{exchange_name}_backlog"
    for _ in range(3):  # a new consumer on a full queue, three times over
        asyncio.run(_fill_queue(queue, 500))
        assert asyncio.run(_drain_backlog(settings, queue, 500)) == (500, 500)
    asyncio.run(_delete_queue(queue))


@pytest.mark.parametrize("method", ["AMQPLAIN", "PLAIN"])
def test_rabbitmq_accepts_each_password_login_method(method: str) -> None:
    settings = settings_for(
        "nova", rabbit.url(), AIOCONDUCTOR_OSLO_MESSAGING_RABBIT__RABBIT_LOGIN_METHOD=method
    )

    async def attempt() -> None:
        connection = await connect(settings, attempts=1)
        await connection.close()

    asyncio.run(attempt())


def test_a_wrong_password_is_a_boot_error_with_amqplain() -> None:
    settings = settings_for("nova", rabbit.url(password="wrong"))

    async def attempt() -> Any:
        return await connect(settings, attempts=1)

    with pytest.raises(BootError, match="refused user 'guest'"):
        asyncio.run(attempt())
