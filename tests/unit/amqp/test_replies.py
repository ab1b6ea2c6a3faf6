"""Replies give up at their deadline, whatever holds them: no reply slot hangs forever."""

from __future__ import annotations

import asyncio

import pytest
from pamqp import commands

from aioconductor.messaging.amqp.connection import Channel
from aioconductor.messaging.replies import ReplySender
from tests.unit.amqp.fake_broker import connected, method


def sender(channel: Channel, timeout: float) -> ReplySender:
    async def get() -> Channel:
        return channel

    return ReplySender(get, lambda: channel, timeout)


async def test_a_reply_never_confirmed_is_dropped_at_the_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    sent = await asyncio.wait_for(sender(channel, 0.3).send("reply_q", "m1", 1, None), 3)
    assert sent is False
    assert "reply m1 to reply_q dropped" in caplog.text
    assert "confirm" in caplog.text
    assert [f for _, f in broker.sent() if isinstance(f, commands.Basic.Publish)]


async def test_a_reply_held_by_a_blocked_broker_is_dropped_at_the_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    broker.feed(method(0, commands.Connection.Blocked("memory alarm")))
    sent = await asyncio.wait_for(sender(channel, 0.3).send("reply_q", "m2", 1, None), 3)
    assert sent is False
    assert "memory alarm" in caplog.text
    assert not [f for _, f in broker.sent() if isinstance(f, commands.Basic.Publish)]


async def test_a_confirmed_reply_is_sent() -> None:
    broker = await connected()
    channel = await broker.confirm_channel()
    sending = asyncio.ensure_future(sender(channel, 5).send("reply_q", "m3", 1, None))
    await broker.expect(commands.Basic.Publish)
    broker.feed(method(channel.id, commands.Basic.Ack(1)))
    assert await asyncio.wait_for(sending, 1) is True
