"""Publishing with confirms: every publish ends confirmed, returned, nacked or timed out,
and a broker (or socket) that cannot take more holds publishers rather than buffering."""

from __future__ import annotations

import asyncio

import pytest
from pamqp import commands

from aioconductor.messaging.amqp.connection import (
    BrokerClosed,
    Channel,
    ConnectionLost,
    PublishNacked,
    PublishTimeout,
)
from tests.unit.amqp.fake_broker import FakeBroker, connected, content, method


async def publishing(broker: FakeBroker, channel: Channel, body: bytes = b"{}", **kw: float):
    """Start a reply publish; the task and the Basic.Publish the broker saw (None if held)."""
    task = asyncio.ensure_future(channel.publish_reply("reply_q", body, **kw))
    sent = [f for _, f in await broker.settle() if isinstance(f, commands.Basic.Publish)]
    return task, sent


async def test_an_ack_confirms_and_a_multiple_ack_confirms_every_earlier_publish() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    tasks = [asyncio.ensure_future(channel.publish_reply("reply_q", b"{}")) for _ in range(3)]
    await broker.settle()
    broker.feed(method(channel.id, commands.Basic.Ack(1)))
    assert await asyncio.wait_for(tasks[0], 1) is True
    assert not tasks[1].done()
    broker.feed(method(channel.id, commands.Basic.Ack(3, multiple=True)))
    assert await asyncio.wait_for(asyncio.gather(*tasks[1:]), 1) == [True, True]


async def test_a_return_before_the_ack_reports_the_publish_returned() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    task, _ = await publishing(broker, channel)
    returned = commands.Basic.Return(312, "NO_ROUTE", "", "reply_q")
    broker.feed(
        method(channel.id, returned),
        content(channel.id, b"{}", commands.Basic.Properties(message_id="1")),
        method(channel.id, commands.Basic.Ack(1)),
    )
    assert await asyncio.wait_for(task, 1) is False


async def test_a_nack_fails_the_publish() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    task, _ = await publishing(broker, channel)
    broker.feed(method(channel.id, commands.Basic.Nack(1)))
    with pytest.raises(PublishNacked):
        await asyncio.wait_for(task, 1)


async def test_a_confirm_that_never_comes_times_out() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    task, sent = await publishing(broker, channel, timeout=0.2)
    assert len(sent) == 1
    with pytest.raises(PublishTimeout, match="confirm"):
        await asyncio.wait_for(task, 2)
    # a confirm arriving after the deadline is harmless
    broker.feed(method(channel.id, commands.Basic.Ack(1)))
    assert broker.connection.is_open


async def test_a_blocked_connection_holds_publishes_until_unblocked() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    broker.feed(method(0, commands.Connection.Blocked("low on memory")))
    assert broker.connection.blocked_reason == "low on memory"
    assert "low on memory" in (broker.connection.publishing_blocked or "")
    task, sent = await publishing(broker, channel)
    assert sent == []  # held, not buffered
    broker.feed(method(0, commands.Connection.Unblocked()))
    assert broker.connection.blocked_reason is None
    assert broker.connection.publishing_blocked is None
    await broker.expect(commands.Basic.Publish)
    broker.feed(method(channel.id, commands.Basic.Ack(1)))
    assert await asyncio.wait_for(task, 1) is True


async def test_channel_flow_off_holds_publishes_on_that_channel_until_flow_on() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    broker.feed(method(channel.id, commands.Channel.Flow(active=False)))
    flow_ok = await broker.expect(commands.Channel.FlowOk)
    assert flow_ok.active is False
    assert "flow" in (broker.connection.publishing_blocked or "")
    task, sent = await publishing(broker, channel)
    assert sent == []
    broker.feed(method(channel.id, commands.Channel.Flow(active=True)))
    assert (await broker.expect(commands.Channel.FlowOk)).active is True
    await broker.expect(commands.Basic.Publish)
    broker.feed(method(channel.id, commands.Basic.Ack(1)))
    assert await asyncio.wait_for(task, 1) is True


async def test_a_paused_transport_holds_publishes_until_it_resumes() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    broker.connection.pause_writing()
    assert "paused" in (broker.connection.publishing_blocked or "")
    task, sent = await publishing(broker, channel)
    assert sent == []
    broker.connection.resume_writing()
    assert broker.connection.publishing_blocked is None
    await broker.expect(commands.Basic.Publish)
    broker.feed(method(channel.id, commands.Basic.Ack(1)))
    assert await asyncio.wait_for(task, 1) is True


async def test_a_publish_held_past_its_timeout_fails_with_the_reason() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    broker.feed(method(0, commands.Connection.Blocked("disk alarm")))
    task, sent = await publishing(broker, channel, timeout=0.1)
    with pytest.raises(PublishTimeout, match="disk alarm"):
        await asyncio.wait_for(task, 2)
    assert sent == []
    # held publishes that gave up took no confirm number: the next one is tag 1
    broker.feed(method(0, commands.Connection.Unblocked()))
    task, sent = await publishing(broker, channel)
    assert len(sent) == 1
    broker.feed(method(channel.id, commands.Basic.Ack(1)))
    assert await asyncio.wait_for(task, 1) is True


async def test_a_channel_closed_by_the_broker_fails_its_waiters_and_tells_the_owner() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    told: list[BrokerClosed] = []
    channel.on_broker_close = told.append
    task, _ = await publishing(broker, channel)
    call = asyncio.ensure_future(channel.call(commands.Queue.Declare(queue="q", passive=True)))
    await broker.expect(commands.Queue.Declare)
    broker.feed(method(channel.id, commands.Channel.Close(406, "PRECONDITION_FAILED", 60, 80)))
    for waiter in (task, call):
        with pytest.raises(BrokerClosed, match="406"):
            await asyncio.wait_for(waiter, 1)
    await broker.expect(commands.Channel.CloseOk, channel.id)
    assert [c.code for c in told] == [406]
    assert not channel.is_open
    assert broker.connection.is_open  # only the channel ended


async def test_a_lost_connection_fails_unconfirmed_and_held_publishes() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    sent_task, _ = await publishing(broker, channel)
    broker.connection.pause_writing()
    held_task, _ = await publishing(broker, channel)
    broker.connection.connection_lost(OSError("reset by peer"))
    for task in (sent_task, held_task):
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(task, 1)


async def test_channel_flow_holds_only_the_channel_it_names() -> None:
    broker = await connected()
    paused = await broker.confirm_channel()
    other = await broker.confirm_channel()
    broker.feed(method(paused.id, commands.Channel.Flow(active=False)))
    await broker.expect(commands.Channel.FlowOk)
    broker.connection.pause_writing()  # and a connection-wide hold comes and goes meanwhile
    broker.connection.resume_writing()
    task, sent = await publishing(broker, other)
    assert len(sent) == 1
    broker.feed(method(other.id, commands.Basic.Ack(1)))
    assert await asyncio.wait_for(task, 1) is True
