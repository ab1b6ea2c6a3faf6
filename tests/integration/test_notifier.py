"""The notifier against a live RabbitMQ: where messages go, and what a bad broker costs."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import aio_pika
import pytest
from prometheus_client import REGISTRY

from aioconductor.config.settings import Settings, load_settings
from aioconductor.context import RequestContext
from aioconductor.notifications.notifier import Notifier
from aioconductor.notifications.ordering import collecting, sent
from tests import rabbit
from tests.integration.tcp_proxy import TcpProxy

pytestmark = pytest.mark.connected

CTX = RequestContext.from_wire({"user_id": "u1", "project_id": "p1", "request_id": "req-1"})


def _settings(notify_url: str | None, topic: str, **extra: str) -> Settings:
    env = {
        "AIOCONDUCTOR_DEFAULT__TRANSPORT_URL": rabbit.url(),
        "AIOCONDUCTOR_DEFAULT__CONTROL_EXCHANGE": f"aioc_ntf_{uuid.uuid4().hex[:8]}",
        "AIOCONDUCTOR_OSLO_MESSAGING_NOTIFICATIONS__DRIVER": "messagingv2",
        "AIOCONDUCTOR_OSLO_MESSAGING_NOTIFICATIONS__TOPICS": topic,
        "AIOCONDUCTOR_NOTIFICATIONS__NOTIFICATION_FORMAT": "both",
        **extra,
    }
    if notify_url:
        env["AIOCONDUCTOR_OSLO_MESSAGING_NOTIFICATIONS__TRANSPORT_URL"] = notify_url
    return load_settings([], env=env)


def _emit(notifier: Notifier, n: int = 1) -> None:
    for _ in range(n):
        notifier.emit(
            CTX,
            publisher_id="compute.h1",
            event_type="compute.instance.update",
            payload={"state": "active"},
            versioned=False,
        )


def _dropped(reason: str) -> float:
    sample = REGISTRY.get_sample_value(
        "aioconductor_notifications_dropped_total", {"reason": reason}
    )
    return sample or 0.0


async def _count(url: str, queue: str) -> int | None:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        try:
            declared = await channel.declare_queue(queue, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return None
        count = declared.declaration_result.message_count
        await channel.queue_delete(queue)
        return count
    finally:
        await connection.close()


@pytest.fixture
def other_vhost() -> Iterator[str]:
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is needed to make a second virtual host")
    name = f"aioc_notes_{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{quote(name, safe='')}"
    finally:
        subprocess.run(
            ["rabbitmqctl", "-q", "delete_vhost", name], check=False, capture_output=True
        )


def test_a_separate_transport_url_gets_the_notifications(other_vhost: str) -> None:
    topic = f"n_{uuid.uuid4().hex[:8]}"
    settings = _settings(other_vhost.replace("amqp://", "rabbit://"), topic)

    async def run() -> None:
        notifier = Notifier(settings)
        await notifier.start(None)  # no RPC connection: it opens its own
        _emit(notifier, 3)
        await notifier.stop()  # flushes what is queued

    asyncio.run(run())
    assert asyncio.run(_count(other_vhost, f"{topic}.info")) == 3
    assert asyncio.run(_count(rabbit.url("amqp"), f"{topic}.info")) is None


def test_a_hung_notification_broker_costs_the_caller_nothing() -> None:
    topic = f"n_{uuid.uuid4().hex[:8]}"
    with TcpProxy(("127.0.0.1", 5672)) as proxy:
        settings = _settings(
            rabbit.url(port=proxy.port), topic, AIOCONDUCTOR_NOTIFICATION_QUEUE_SIZE="5"
        )

        async def run() -> tuple[float, float, int]:
            notifier = Notifier(settings, publish_deadline=1.0)
            await notifier.start(None)
            _emit(notifier)  # one goes through: the connection and the queue are up
            for _ in range(100):
                if notifier.pending == 0:
                    break
                await asyncio.sleep(0.05)
            proxy.freeze()
            started = time.monotonic()
            _emit(notifier, 50)
            emitting = time.monotonic() - started
            pending = notifier.pending
            started = time.monotonic()
            await notifier.stop()
            return emitting, time.monotonic() - started, pending

        before = _dropped("queue_full")
        emitting, stopping, pending = asyncio.run(run())
        proxy.thaw()
    assert emitting < 0.5  # 50 notifications: no wait on the broker at all
    assert pending <= 5  # memory is bounded by notification_queue_size
    assert _dropped("queue_full") - before >= 44
    assert stopping < 10  # a few seconds to flush, then the rest is dropped


def test_retry_zero_drops_a_notification_the_broker_did_not_take() -> None:
    topic = f"n_{uuid.uuid4().hex[:8]}"
    with TcpProxy(("127.0.0.1", 5672)) as proxy:
        proxy.go_down()
        settings = _settings(
            rabbit.url(port=proxy.port),
            topic,
            AIOCONDUCTOR_OSLO_MESSAGING_NOTIFICATIONS__RETRY="0",
        )

        async def run() -> None:
            notifier = Notifier(settings, publish_deadline=0.5)
            await notifier.start(None)
            _emit(notifier)
            for _ in range(60):
                if notifier.pending == 0:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # the single attempt's deadline
            await notifier.stop()

        before = _dropped("failed")
        asyncio.run(run())
    assert _dropped("failed") - before == 1


def test_a_call_replies_after_its_notifications_are_on_the_queue() -> None:
    """nova's order: the caller's next notification must not overtake the conductor's."""
    topic = f"n_{uuid.uuid4().hex[:8]}"
    settings = _settings(rabbit.url(), topic)

    async def run() -> tuple[bool, int | None]:
        notifier = Notifier(settings)
        await notifier.start(None)
        with collecting() as pending:
            _emit(notifier, 2)
        went = await sent(pending, 5.0)
        # what a caller would see right after the reply
        on_queue = await _count(rabbit.url("amqp"), f"{topic}.info")
        await notifier.stop()
        return went, on_queue

    went, on_queue = asyncio.run(run())
    assert went
    assert on_queue == 2


def test_a_hung_broker_holds_a_reply_only_as_long_as_notification_reply_wait() -> None:
    topic = f"n_{uuid.uuid4().hex[:8]}"
    with TcpProxy(("127.0.0.1", 5672)) as proxy:
        settings = _settings(rabbit.url(port=proxy.port), topic)

        async def run() -> tuple[bool, float]:
            notifier = Notifier(settings, publish_deadline=1.0)
            await notifier.start(None)
            _emit(notifier)
            for _ in range(100):
                if notifier.pending == 0:
                    break
                await asyncio.sleep(0.05)
            proxy.freeze()
            started = time.monotonic()
            with collecting() as pending:
                _emit(notifier)
            went = await sent(pending, 0.3)
            waited = time.monotonic() - started
            await notifier.stop()
            return went, waited

        went, waited = asyncio.run(run())
        proxy.thaw()
    assert not went
    assert waited < 1.0
