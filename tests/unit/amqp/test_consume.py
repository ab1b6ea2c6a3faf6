"""Consumers: every delivery reaches its consumer or goes back to the queue, never limbo."""

from __future__ import annotations

import asyncio

import pytest
from pamqp import commands

from aioconductor.messaging.amqp import frames
from aioconductor.messaging.amqp.connection import (
    BrokerClosed,
    ConsumerCancelled,
    Delivery,
)
from tests.unit.amqp.fake_broker import FakeBroker, connected, deliver, method


async def test_deliveries_in_the_same_read_as_consume_ok_reach_the_consumer() -> None:
    broker = await connected()
    received: list[Delivery] = []
    channel = await broker.open_channel()
    consuming = asyncio.ensure_future(channel.consume("conductor", received.append))
    consume = await broker.expect(commands.Basic.Consume)
    # The client names its consumer, so a delivery can be routed before ConsumeOk is read.
    tag = consume.consumer_tag
    assert tag
    ready = b"".join(deliver(channel.id, tag, n, f"message {n}".encode()) for n in (1, 2, 3))
    broker.feed(method(channel.id, commands.Basic.ConsumeOk(tag)), ready)
    assert await asyncio.wait_for(consuming, 1) == tag
    assert [d.body for d in received] == [b"message 1", b"message 2", b"message 3"]
    assert not [f for _, f in await broker.settle() if isinstance(f, commands.Basic.Nack)]


async def test_deliveries_cut_at_odd_byte_boundaries_are_reassembled() -> None:
    broker = await connected()
    received: list[Delivery] = []
    channel = await broker.open_channel()
    consuming = asyncio.ensure_future(channel.consume("conductor", received.append))
    tag = (await broker.expect(commands.Basic.Consume)).consumer_tag
    stream = method(channel.id, commands.Basic.ConsumeOk(tag)) + b"".join(
        deliver(channel.id, tag, n, bytes([n]) * 300) for n in (1, 2)
    )
    broker.feed(stream, cut_at=[1, 7, 8, 30, 31, 100, 101, 102, 350, len(stream) - 1])
    await asyncio.wait_for(consuming, 1)
    assert [d.body for d in received] == [b"\x01" * 300, b"\x02" * 300]
    assert [d.delivery_tag for d in received] == [1, 2]


async def test_each_consumer_on_a_channel_gets_its_own_tag() -> None:
    broker = await connected()
    channel = await broker.open_channel()
    tags = []
    for queue in ("conductor", "conductor.host"):
        consuming = asyncio.ensure_future(channel.consume(queue, lambda d: None))
        tag = (await broker.expect(commands.Basic.Consume)).consumer_tag
        broker.feed(method(channel.id, commands.Basic.ConsumeOk(tag)))
        tags.append(await asyncio.wait_for(consuming, 1))
    assert len(set(tags)) == 2


async def test_a_delivery_for_an_unknown_consumer_goes_back_to_the_queue(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = await connected()
    channel = await broker.open_channel()
    broker.feed(deliver(channel.id, "nobody", 41, b"orphan"))
    nacks = [f for _, f in await broker.settle() if isinstance(f, commands.Basic.Nack)]
    # Held unacked it would take a prefetch slot until the connection dies.
    assert [(n.delivery_tag, n.requeue) for n in nacks] == [(41, True)]
    assert "no consumer" in caplog.text


async def test_a_failed_consume_leaves_no_consumer_behind() -> None:
    broker = await connected()
    channel = await broker.open_channel()
    received: list[Delivery] = []
    consuming = asyncio.ensure_future(channel.consume("missing", received.append))
    tag = (await broker.expect(commands.Basic.Consume)).consumer_tag
    consuming.cancel()  # e.g. the owner gave up on a slow broker
    with pytest.raises(asyncio.CancelledError):
        await consuming
    broker.feed(deliver(channel.id, tag, 1, b"late"))
    nacks = [f for _, f in await broker.settle() if isinstance(f, commands.Basic.Nack)]
    assert received == []
    assert [n.requeue for n in nacks] == [True]


async def test_a_consume_refused_by_the_broker_raises_its_reason() -> None:
    broker = await connected()
    channel = await broker.open_channel()
    consuming = asyncio.ensure_future(channel.consume("missing", lambda d: None))
    await broker.expect(commands.Basic.Consume)
    broker.feed(method(channel.id, commands.Channel.Close(404, "NOT_FOUND - no queue", 60, 20)))
    with pytest.raises(BrokerClosed, match="404"):
        await asyncio.wait_for(consuming, 1)
    await broker.expect(commands.Channel.CloseOk, channel.id)


async def test_a_cancel_from_the_broker_drops_the_connection_after_earlier_deliveries() -> None:
    broker = await connected()
    received: list[Delivery] = []
    channel = await broker.open_channel()
    consuming = asyncio.ensure_future(channel.consume("conductor", received.append))
    tag = (await broker.expect(commands.Basic.Consume)).consumer_tag
    broker.feed(method(channel.id, commands.Basic.ConsumeOk(tag)))
    await asyncio.wait_for(consuming, 1)
    broker.feed(
        deliver(channel.id, tag, 1, b"before"),
        method(channel.id, commands.Basic.Cancel(tag)),
        deliver(channel.id, tag, 2, b"after"),  # unacked: requeued when the connection ends
    )
    assert [d.body for d in received] == [b"before"]
    reason = await asyncio.wait_for(broker.connection.closed, 1)
    assert isinstance(reason, ConsumerCancelled)  # the owner reconnects at once for this one
    assert "cancelled" in str(reason)
    assert broker.transport.is_closing()


async def consuming_channel(received: list[Delivery]) -> tuple[FakeBroker, int, str]:
    broker = await connected()
    channel = await broker.open_channel()
    consuming = asyncio.ensure_future(channel.consume("conductor", received.append))
    tag = (await broker.expect(commands.Basic.Consume)).consumer_tag
    broker.feed(method(channel.id, commands.Basic.ConsumeOk(tag)))
    await asyncio.wait_for(consuming, 1)
    return broker, channel.id, tag


async def test_a_body_over_several_frames_arrives_whole() -> None:
    received: list[Delivery] = []
    broker, channel, tag = await consuming_channel(received)
    body = bytes(range(256)) * 1200  # 307,200 bytes: three body frames at 128 KiB
    stream = deliver(channel, tag, 1, body)
    broker.feed(stream, cut_at=[131_072, 131_080, 262_150])
    assert [d.body for d in received] == [body]


async def test_a_zero_length_body_is_a_delivery_too() -> None:
    received: list[Delivery] = []
    broker, channel, tag = await consuming_channel(received)
    broker.feed(deliver(channel, tag, 1, b""), deliver(channel, tag, 2, b"next"))
    assert [(d.delivery_tag, d.body) for d in received] == [(1, b""), (2, b"next")]


async def test_a_connection_closed_by_the_broker_answers_close_ok_and_ends() -> None:
    received: list[Delivery] = []
    broker, _, _ = await consuming_channel(received)
    broker.feed(method(0, commands.Connection.Close(320, "CONNECTION_FORCED - shutdown", 0, 0)))
    reason = await asyncio.wait_for(broker.connection.closed, 1)
    assert isinstance(reason, BrokerClosed)
    assert reason.code == 320
    assert any(isinstance(f, commands.Connection.CloseOk) for _, f in broker.sent())


async def test_frames_read_behind_a_connection_close_are_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    received: list[Delivery] = []
    broker, channel, tag = await consuming_channel(received)
    broker.feed(
        method(0, commands.Connection.Close(320, "CONNECTION_FORCED", 0, 0)),
        method(0, commands.Connection.Tune(0, 131072, 0)),  # unexpected: would be an error
        deliver(channel, tag, 1, b"late"),
    )
    assert received == []
    assert "protocol error" not in caplog.text


async def test_acks_taken_before_a_broker_cancel_still_reach_the_broker() -> None:
    """The connection is dropped on a consumer cancel (as oslo does), but what the consumer
    already acked must be acked at the broker, or it is delivered and run a second time."""
    broker = await connected()
    channel = await broker.open_channel()

    def ack_at_once(delivery: Delivery) -> None:
        channel.write(frames.ack(channel.id, delivery.delivery_tag))

    consuming = asyncio.ensure_future(channel.consume("conductor", ack_at_once))
    tag = (await broker.expect(commands.Basic.Consume)).consumer_tag
    broker.feed(method(channel.id, commands.Basic.ConsumeOk(tag)))
    await asyncio.wait_for(consuming, 1)
    broker.feed(
        deliver(channel.id, tag, 1, b"one"),
        deliver(channel.id, tag, 2, b"two"),
        method(channel.id, commands.Basic.Cancel(tag)),
    )
    await asyncio.wait_for(broker.connection.closed, 1)
    acked = [f.delivery_tag for _, f in broker.sent() if isinstance(f, commands.Basic.Ack)]
    assert acked == [1, 2]


async def test_a_no_ack_delivery_without_its_consumer_is_not_rejected() -> None:
    # Rejecting a delivery the broker never expects an ack for is a channel error.
    broker = await connected()
    channel = await broker.open_channel()
    consuming = asyncio.ensure_future(channel.consume("replies", lambda d: None, no_ack=True))
    tag = (await broker.expect(commands.Basic.Consume)).consumer_tag
    consuming.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consuming
    broker.feed(deliver(channel.id, tag, 1, b"late"))
    assert not [f for _, f in await broker.settle() if isinstance(f, commands.Basic.Nack)]
    assert channel.is_open
