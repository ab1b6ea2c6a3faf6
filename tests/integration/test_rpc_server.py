"""The RPC server against the real RabbitMQ, called by the real oslo.messaging client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aio_pika
import pytest

from aioconductor.config.settings import Settings, load_settings
from aioconductor.context import RequestContext
from aioconductor.errors import ForwardingFailed
from aioconductor.messaging.dispatcher import EndpointTarget, rpc_method
from tests import rabbit
from tests.integration.conftest import OsloClients
from tests.integration.rpc_harness import ServerThread
from tests.integration.tcp_proxy import TcpProxy

pytestmark = pytest.mark.connected


class Probe:
    """A test endpoint beside nova's: what the server did is recorded here."""

    target = EndpointTarget(namespace="aioc_probe", version="1.3")

    def __init__(self) -> None:
        self.recorded: list[Any] = []
        self.recorded_event = threading.Event()
        self.calls = 0
        self.active = 0
        self.peak = 0

    @rpc_method
    async def echo(self, ctx: RequestContext, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        return {
            "args": kwargs,
            "is_admin": ctx.is_admin,
            "request_id": ctx.request_id,
            "client_timeout": ctx.client_timeout,
        }

    @rpc_method
    async def record(self, ctx: RequestContext, value: Any) -> None:
        self.recorded.append(value)
        self.recorded_event.set()

    @rpc_method
    async def fail_builtin(self, ctx: RequestContext) -> None:
        raise ValueError("bad value", 42)

    @rpc_method
    async def fail_remote(self, ctx: RequestContext) -> None:
        raise ForwardingFailed("legacy conductor is away")

    @rpc_method
    async def slow(self, ctx: RequestContext, seconds: float) -> float:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.active -= 1
        return seconds


def make_settings(exchange: str, **aio: Any) -> Settings:
    env = {
        "AIOCONDUCTOR_DEFAULT__CONTROL_EXCHANGE": exchange,
        "AIOCONDUCTOR_DEFAULT__HOST": "testhost",
        "AIOCONDUCTOR_DEFAULT__TRANSPORT_URL": rabbit.url(),
    }
    env.update({f"AIOCONDUCTOR_{k.upper()}": str(v) for k, v in aio.items()})
    return load_settings([], env=env)


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def server(exchange_name: str, probe: Probe) -> Iterator[ServerThread]:
    thread = ServerThread(
        make_settings(exchange_name, prefetch_count=128, max_message_bytes=4096), [probe]
    ).start()
    try:
        yield thread
    finally:
        thread.stop()


CTX = {"is_admin": True, "request_id": "req-1234"}


def test_ping_is_answered_like_nova_conductor(server: ServerThread, oslo: OsloClients) -> None:
    reply = oslo.client(namespace="baseapi", timeout=10).call(CTX, "ping", arg="1.21 GigaWatts")
    assert reply == {"service": "conductor", "arg": "1.21 GigaWatts"}


def test_call_returns_result_and_sees_context(server: ServerThread, oslo: OsloClients) -> None:
    reply = oslo.client(namespace="aioc_probe", version="1.2", timeout=10).call(
        CTX, "echo", a=1, b=[2, 3]
    )
    assert reply == {
        "args": {"a": 1, "b": [2, 3]},
        "is_admin": True,
        "request_id": "req-1234",
        "client_timeout": None,
    }


def test_cast_runs_and_gets_no_reply(server: ServerThread, oslo: OsloClients, probe: Probe) -> None:
    oslo.client(namespace="aioc_probe").cast(CTX, "record", value="hello")
    assert probe.recorded_event.wait(10)
    assert probe.recorded == ["hello"]


def test_handler_exception_is_rebuilt_by_the_client(
    server: ServerThread, oslo: OsloClients
) -> None:
    with pytest.raises(ValueError, match="bad value") as err:
        oslo.client(namespace="aioc_probe", timeout=10).call(CTX, "fail_builtin")
    # oslo rebuilds builtins as the class itself, our traceback appended to the message
    assert type(err.value) is ValueError
    assert "aioc_probe" not in str(err.value) or "Traceback" in str(err.value)


def test_allowed_module_exception_keeps_class_and_args(exchange_name: str) -> None:
    import oslo_messaging

    probe = Probe()
    thread = ServerThread(make_settings(exchange_name), [probe]).start()
    clients = OsloClients(exchange_name)
    try:
        clients.transport = oslo_messaging.get_rpc_transport(
            clients.conf,
            url=rabbit.url(),
            allowed_remote_exmods=["aioconductor.errors"],
        )
        with pytest.raises(ForwardingFailed) as err:
            clients.client(namespace="aioc_probe", timeout=10).call(CTX, "fail_remote")
        assert str(err.value).startswith("legacy conductor is away")
    finally:
        clients.close()
        thread.stop()


def test_unknown_method_and_version_are_remote_errors(
    server: ServerThread, oslo: OsloClients
) -> None:
    import oslo_messaging

    with pytest.raises(oslo_messaging.RemoteError) as nosuch:
        oslo.client(version="3.0", timeout=10).call(CTX, "no_such_method")
    assert nosuch.value.exc_type == "NoSuchMethod"
    with pytest.raises(oslo_messaging.RemoteError) as version:
        oslo.client(version="4.0", timeout=10).call(CTX, "object_action")
    assert version.value.exc_type == "UnsupportedVersion"
    with pytest.raises(oslo_messaging.RemoteError) as minor:
        oslo.client(namespace="aioc_probe", version="1.4", timeout=10).call(CTX, "echo")
    assert minor.value.exc_type == "UnsupportedVersion"


def test_call_monitor_heartbeats_keep_a_long_call_alive(
    server: ServerThread, oslo: OsloClients
) -> None:
    # Without heartbeats the client gives up after call_monitor_timeout (2 s).
    client = oslo.client(namespace="aioc_probe", timeout=30, call_monitor_timeout=2)
    assert client.call(CTX, "slow", seconds=5) == 5


def test_a_hundred_concurrent_calls_are_served_together(
    server: ServerThread, oslo: OsloClients, probe: Probe
) -> None:
    client = oslo.client(namespace="aioc_probe", timeout=60)
    with ThreadPoolExecutor(100) as pool:
        results = list(pool.map(lambda i: client.call(CTX, "slow", seconds=2), range(100)))
    assert results == [2] * 100
    # one event loop had most of them in flight at once, not one after another
    assert probe.peak >= 50


class RawClient:
    """Speaks AMQP directly, to send what oslo's client never would."""

    def __init__(self, exchange: str) -> None:
        self.exchange = exchange

    async def send(self, body: bytes, *, expect_reply: bool, wait: float = 5) -> list[Any]:
        connection = await aio_pika.connect(rabbit.url("amqp"))
        async with connection:
            channel = await connection.channel()
            reply_q = await channel.declare_queue(f"reply_{uuid.uuid4().hex}", exclusive=True)
            body = body.replace(b"__REPLY_Q__", reply_q.name.encode())
            exchange = await channel.get_exchange(self.exchange)
            await exchange.publish(aio_pika.Message(body), routing_key="conductor")
            replies: list[Any] = []
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                message = await reply_q.get(fail=False)
                if message is None:
                    if replies and not expect_reply:
                        break
                    await asyncio.sleep(0.05)
                    continue
                await message.ack()
                replies.append(json.loads(json.loads(message.body)["oslo.message"]))
                if expect_reply:
                    break
            return replies

    async def queue_depth(self, name: str) -> int:
        connection = await aio_pika.connect(rabbit.url("amqp"))
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(name, passive=True)
            return queue.declaration_result.message_count or 0


def envelope(inner: dict[str, Any], version: str = "2.0") -> bytes:
    return json.dumps({"oslo.version": version, "oslo.message": json.dumps(inner)}).encode()


ADDR = {"_msg_id": "m-1", "_reply_q": "__REPLY_Q__", "_unique_id": "u-1", "_timeout": None}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (envelope({"method": "ping", "args": {}, **ADDR}, version="3.0"), "envelope version"),
        (envelope({"args": {}, "namespace": "baseapi", **ADDR}), "method"),
        (envelope({"method": "ping", "args": "oops", **ADDR}), "args"),
        (envelope({"method": "ping", "args": {"arg": "x" * 8000}, **ADDR}), "max_message_bytes"),
    ],
    ids=["unknown-envelope", "missing-method", "wrong-types", "oversized"],
)
async def test_bad_input_answered_with_a_clear_failure(
    server: ServerThread, exchange_name: str, body: bytes, reason: str
) -> None:
    replies = await RawClient(exchange_name).send(body, expect_reply=True)
    assert len(replies) == 1
    failure = json.loads(replies[0]["failure"])
    assert failure["class"] == "InvalidRequest"
    assert reason in failure["message"]
    assert replies[0]["ending"] is True


async def test_garbage_is_dropped_and_does_not_block_the_queue(
    server: ServerThread, exchange_name: str
) -> None:
    raw = RawClient(exchange_name)
    await raw.send(b"\x00\xffnot json at all", expect_reply=False, wait=1)
    reply = await raw.send(
        envelope(
            {
                "method": "ping",
                "namespace": "baseapi",
                "version": "1.0",
                "args": {"arg": "after"},
                **ADDR,
            }
        ),
        expect_reply=True,
    )
    assert reply[0]["result"] == {"service": "conductor", "arg": "after"}
    assert await raw.queue_depth("conductor") == 0  # rejected, never requeued


async def test_duplicate_unique_id_is_served_once(
    server: ServerThread, exchange_name: str, probe: Probe
) -> None:
    body = envelope(
        {"method": "echo", "namespace": "aioc_probe", "version": "1.0", "args": {}, **ADDR}
    )
    raw = RawClient(exchange_name)
    first = await raw.send(body, expect_reply=True)
    second = await raw.send(body, expect_reply=False, wait=1.5)
    assert len(first) == 1
    assert second == []
    assert probe.calls == 1


async def _call_then_read_reply(
    exchange: str, reply_q: str, *, declare_after: float | None, wait: float
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """Call ping with a reply queue that is declared only `declare_after` s later (or never)."""
    inner = {"method": "ping", "namespace": "baseapi", "version": "1.0", "args": {"arg": 1}}
    inner |= {"_msg_id": uuid.uuid4().hex, "_reply_q": reply_q, "_unique_id": uuid.uuid4().hex}
    connection = await aio_pika.connect(rabbit.url("amqp"))
    async with connection:
        channel = await connection.channel()
        exchange_ = await channel.get_exchange(exchange)
        await exchange_.publish(aio_pika.Message(envelope(inner)), routing_key="conductor")
        if declare_after is None:
            await asyncio.sleep(wait)
            return []
        await asyncio.sleep(declare_after)
        queue = await channel.declare_queue(reply_q, auto_delete=True)
        replies = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not replies:
            message = await queue.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.05)
            else:
                replies.append(message)
        return replies


async def test_reply_waits_for_a_reply_queue_declared_late(
    server: ServerThread, exchange_name: str
) -> None:
    # oslo's client may declare its reply queue after the call left; the reply is retried
    reply_q = f"reply_{exchange_name}_late"
    replies = await _call_then_read_reply(exchange_name, reply_q, declare_after=0.8, wait=5)
    assert len(replies) == 1
    reply = replies[0]
    assert json.loads(json.loads(reply.body)["oslo.message"])["result"]["arg"] == 1
    # the properties oslo's own replies carry
    assert (reply.content_type, reply.content_encoding) == ("application/json", "utf-8")
    assert reply.delivery_mode == aio_pika.DeliveryMode.PERSISTENT


async def test_reply_to_a_queue_that_never_appears_is_dropped_and_remembered(
    exchange_name: str,
) -> None:
    settings = make_settings(
        exchange_name, oslo_messaging_rabbit__kombu_missing_consumer_retry_timeout=1
    )
    thread = ServerThread(settings).start()
    try:
        reply_q = f"reply_{exchange_name}_gone"
        await _call_then_read_reply(exchange_name, reply_q, declare_after=None, wait=2.5)
        # for the next minute a reply to that queue is dropped at once, even once it exists
        late = await _call_then_read_reply(exchange_name, reply_q, declare_after=0, wait=1.5)
        assert late == []
    finally:
        thread.stop()


def test_server_reconnects_after_the_connection_is_cut(exchange_name: str) -> None:
    with TcpProxy(("127.0.0.1", 5672)) as proxy:
        env = {
            "AIOCONDUCTOR_DEFAULT__CONTROL_EXCHANGE": exchange_name,
            "AIOCONDUCTOR_DEFAULT__TRANSPORT_URL": rabbit.url(port=proxy.port),
        }
        thread = ServerThread(load_settings([], env=env)).start()
        clients = OsloClients(exchange_name)
        try:
            ping = clients.client(namespace="baseapi", timeout=10)
            assert ping.call(CTX, "ping", arg=1)["arg"] == 1
            proxy.cut_all()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and thread.server.status.connected:
                time.sleep(0.1)
            while time.monotonic() < deadline and not thread.server.status.connected:
                time.sleep(0.1)
            assert thread.server.status.connected
            assert ping.call(CTX, "ping", arg=2)["arg"] == 2
        finally:
            clients.close()
            thread.stop()


def test_a_reply_ready_during_a_broker_outage_is_sent_once_it_is_back(
    exchange_name: str, probe: Probe
) -> None:
    """The call was taken (and acked) before the outage; its reply must not be lost to it."""
    with TcpProxy(("127.0.0.1", 5672)) as proxy:
        env = {
            "AIOCONDUCTOR_DEFAULT__CONTROL_EXCHANGE": exchange_name,
            "AIOCONDUCTOR_DEFAULT__TRANSPORT_URL": rabbit.url(port=proxy.port),
        }
        thread = ServerThread(load_settings([], env=env), [probe]).start()
        clients = OsloClients(exchange_name)  # the caller's own connection stays up
        try:
            client = clients.client(namespace="aioc_probe", timeout=30)
            with ThreadPoolExecutor(1) as pool:
                call = pool.submit(client.call, CTX, "slow", seconds=1.0)
                deadline = time.monotonic() + 10
                while probe.active == 0 and time.monotonic() < deadline:
                    time.sleep(0.02)
                proxy.go_down()  # the server loses RabbitMQ while the call runs
                time.sleep(2.0)  # the call finishes while the broker is unreachable
                assert not call.done()
                proxy.come_back()
                assert call.result(timeout=20) == 1.0
        finally:
            clients.close()
            thread.stop()


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"amqp_durable_queues": "true"},
        {"rabbit_quorum_queue": "true", "rabbit_quorum_delivery_limit": "3"},
        {"rabbit_transient_queues_ttl": "120", "rabbit_ha_queues": "true"},
    ],
    ids=["defaults", "durable", "quorum", "ttl-ha"],
)
def test_declarations_are_accepted_by_oslo_own_declare(
    exchange_name: str, options: dict[str, str]
) -> None:
    """oslo's own argument builder + kombu redeclare our queues: any difference is a 406."""
    import kombu
    from oslo_messaging._drivers import impl_rabbit

    env = {
        "AIOCONDUCTOR_DEFAULT__CONTROL_EXCHANGE": exchange_name,
        "AIOCONDUCTOR_DEFAULT__HOST": "testhost",
        "AIOCONDUCTOR_DEFAULT__TRANSPORT_URL": rabbit.url(),
    }
    env.update({f"AIOCONDUCTOR_OSLO_MESSAGING_RABBIT__{k.upper()}": v for k, v in options.items()})
    settings = load_settings([], env=env)
    thread = ServerThread(settings).start()
    try:
        opts = settings.rabbit
        quorum_config = impl_rabbit.QuorumMemConfig(
            opts.rabbit_quorum_delivery_limit,
            opts.rabbit_quorum_max_memory_length,
            opts.rabbit_quorum_max_memory_bytes,
        )
        durable = opts.amqp_durable_queues or opts.rabbit_quorum_queue
        topic_args = impl_rabbit._get_queue_arguments(
            opts.rabbit_ha_queues, 0, opts.rabbit_quorum_queue, quorum_config, False
        )
        fanout_args = impl_rabbit._get_queue_arguments(
            opts.rabbit_ha_queues,
            opts.rabbit_transient_queues_ttl,
            opts.rabbit_transient_quorum_queue,
            quorum_config,
            False,
        )
        fanout_name = thread.server.status.queues[2]
        with kombu.Connection(rabbit.url("amqp")) as conn:
            channel = conn.channel()
            exchange = kombu.Exchange(
                exchange_name, "topic", durable=durable, auto_delete=opts.amqp_auto_delete
            )
            for name in ("conductor", "conductor.testhost"):
                kombu.Queue(
                    name,
                    exchange,
                    routing_key=name,
                    durable=durable,
                    auto_delete=opts.amqp_auto_delete,
                    queue_arguments=topic_args,
                )(channel).declare()
            fanout_exchange = kombu.Exchange(
                "conductor_fanout", "fanout", durable=False, auto_delete=True
            )
            kombu.Queue(
                fanout_name,
                fanout_exchange,
                routing_key="conductor",
                durable=False,
                auto_delete=False,
                queue_arguments=fanout_args,
            )(channel).declare()
    finally:
        thread.stop()
        _delete_queues(["conductor", "conductor.testhost"])


def _delete_queues(names: list[str]) -> None:
    async def delete() -> None:
        connection = await aio_pika.connect(rabbit.url("amqp"))
        async with connection:
            for name in names:
                channel = await connection.channel()
                with contextlib.suppress(Exception):
                    await channel.queue_delete(name)

    asyncio.run(delete())


def test_a_stalled_link_makes_the_server_not_ready_within_one_heartbeat(
    exchange_name: str,
) -> None:
    with TcpProxy(("127.0.0.1", 5672)) as proxy:
        env = {
            "AIOCONDUCTOR_DEFAULT__CONTROL_EXCHANGE": exchange_name,
            "AIOCONDUCTOR_DEFAULT__TRANSPORT_URL": rabbit.url(port=proxy.port),
            "AIOCONDUCTOR_OSLO_MESSAGING_RABBIT__HEARTBEAT_TIMEOUT_THRESHOLD": "4",
        }
        thread = ServerThread(load_settings([], env=env)).start()
        try:
            assert thread.server.problems() == []
            proxy.freeze()
            frozen = time.monotonic()
            problems: list[str] = []
            while not problems and time.monotonic() - frozen < 10:
                time.sleep(0.1)
                problems = thread.server.problems()
            took = time.monotonic() - frozen
            assert problems[0].startswith("link quiet for"), problems
            assert took < 4 + 1.5  # one heartbeat interval, not the two a dead link takes
        finally:
            proxy.thaw()
            thread.stop()
