"""Heartbeats as oslo runs them: a check every heartbeat/rate/2 s, a heartbeat out when
nothing was sent for heartbeat/rate s, and the link given up after 2 x heartbeat of silence."""

from __future__ import annotations

import asyncio

import pytest
from pamqp import heartbeat

from aioconductor.messaging.amqp.connection import ConnectionLost
from tests.unit.amqp.fake_broker import FakeBroker, connected, heartbeat_frame


class Clock:
    """The event loop's clock, moved forward by the test; timers fire as if time passed."""

    def __init__(self, loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        real = loop.time
        monkeypatch.setattr(loop, "time", lambda: real() + self.offset)

    async def advance(self, seconds: float) -> None:
        self.offset += seconds
        for _ in range(5):
            await asyncio.sleep(0)


@pytest.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(asyncio.get_running_loop(), monkeypatch)


async def heartbeats_sent(broker: FakeBroker) -> int:
    return sum(isinstance(f, heartbeat.Heartbeat) for _, f in broker.sent())


async def test_heartbeats_go_out_every_heartbeat_over_rate_seconds(clock: Clock) -> None:
    broker = await connected(heartbeat=60, heartbeat_rate=3, broker_heartbeat=60)
    assert broker.connection.heartbeat == 60
    broker.sent()
    beats = []
    for _ in range(6):  # one minute in steps of the 10 s check
        await clock.advance(10)
        broker.feed(heartbeat_frame())  # the broker is alive
        beats.append(await heartbeats_sent(broker))
    assert beats == [0, 1, 0, 1, 0, 1]


async def test_the_link_is_given_up_after_two_heartbeats_of_silence(clock: Clock) -> None:
    broker = await connected(heartbeat=60, heartbeat_rate=3, broker_heartbeat=60)
    for _ in range(11):
        await clock.advance(10)
    assert broker.connection.is_open  # 110 s: not yet 2 x 60
    assert broker.connection.seconds_since_data == pytest.approx(110, abs=1)
    await clock.advance(10)
    await clock.advance(10)
    reason = await asyncio.wait_for(broker.connection.closed, 1)
    assert isinstance(reason, ConnectionLost)
    assert "heartbeat" in str(reason)


async def test_any_data_from_the_broker_keeps_the_link_alive(clock: Clock) -> None:
    broker = await connected(heartbeat=10, heartbeat_rate=2, broker_heartbeat=30)
    assert broker.connection.heartbeat == 10  # the smaller of the two
    for _ in range(10):  # 25 s
        await clock.advance(2.5)
        broker.feed(heartbeat_frame())
    assert broker.connection.is_open
    assert broker.connection.seconds_since_data < 1
    await clock.advance(7.5)
    assert broker.connection.seconds_since_data == pytest.approx(7.5, abs=0.5)
    for _ in range(6):
        await clock.advance(2.5)
    assert not broker.connection.is_open


async def test_no_heartbeat_when_we_turn_them_off(clock: Clock) -> None:
    broker = await connected(heartbeat=0, broker_heartbeat=60)
    assert broker.connection.heartbeat == 0
    await clock.advance(1000)
    assert broker.connection.is_open
    assert await heartbeats_sent(broker) == 0


async def test_our_heartbeat_when_the_broker_sets_none() -> None:
    broker = await connected(heartbeat=30, broker_heartbeat=0)
    assert broker.connection.heartbeat == 30  # as py-amqp negotiates
