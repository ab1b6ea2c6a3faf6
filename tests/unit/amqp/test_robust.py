"""The reconnect watcher: whatever goes wrong on the way back, it logs and keeps trying."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from aioconductor.messaging.amqp.connection import Connection, ConnectionLost, ConsumerCancelled
from aioconductor.messaging.amqp.robust import Pacing, RobustConnection
from tests.unit.amqp.fake_broker import FakeBroker, connected

NO_WAIT = Pacing(reconnect_delay=0, retry_interval=0, retry_backoff=0, interval_max=0)


class Brokers:
    """A connect callable over fake brokers; `failures` lists what the next calls raise."""

    def __init__(self) -> None:
        self.opened: list[FakeBroker] = []
        self.failures: list[BaseException] = []

    async def __call__(self) -> Connection:
        if self.failures:
            raise self.failures.pop(0)
        broker = await connected()
        self.opened.append(broker)
        return broker.connection


async def wait_for(condition: Callable[[], bool], seconds: float = 2) -> None:
    for _ in range(int(seconds * 1000)):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not met in time")


async def serving(robust: RobustConnection, brokers: Brokers, count: int) -> Connection:
    """Wait until the watcher has opened `count` connections; the current one."""
    await wait_for(lambda: len(brokers.opened) >= count)
    connection = await asyncio.wait_for(robust.ready(), 2)
    assert connection is brokers.opened[-1].connection
    return connection


async def test_a_setup_that_raises_unexpectedly_does_not_end_reconnection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    brokers = Brokers()
    calls = 0

    async def setup(connection: Connection) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("surprise in setup")

    robust = RobustConnection(brokers, setup, pacing=NO_WAIT)
    await robust.start()
    brokers.opened[0].connection.lose(ConnectionLost("cut"))
    await serving(robust, brokers, 3)
    assert calls == 3
    assert "surprise in setup" in caplog.text
    # and again: the watcher still runs after the failure
    brokers.opened[-1].connection.lose(ConnectionLost("cut again"))
    await serving(robust, brokers, 4)
    await robust.close()


async def test_a_connect_that_raises_unexpectedly_does_not_end_reconnection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    brokers = Brokers()

    async def setup(connection: Connection) -> None:
        pass

    robust = RobustConnection(brokers, setup, pacing=NO_WAIT)
    await robust.start()
    brokers.failures = [KeyError("surprise in connect"), OSError("refused")]
    brokers.opened[0].connection.lose(ConnectionLost("cut"))
    await serving(robust, brokers, 2)
    assert "surprise in connect" in caplog.text
    await robust.close()


async def test_a_listener_that_raises_does_not_end_reconnection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    brokers = Brokers()
    restored = 0

    async def setup(connection: Connection) -> None:
        pass

    def on_restored() -> None:
        nonlocal restored
        restored += 1
        if restored == 1:
            raise ValueError("surprise in a listener")

    robust = RobustConnection(brokers, setup, pacing=NO_WAIT, on_restored=on_restored)
    await robust.start()
    brokers.opened[0].connection.lose(ConnectionLost("cut"))
    await serving(robust, brokers, 2)
    brokers.opened[1].connection.lose(ConnectionLost("cut again"))
    await serving(robust, brokers, 3)
    await wait_for(lambda: restored == 2)
    assert "surprise in a listener" in caplog.text
    await robust.close()


async def test_start_gives_up_after_its_attempts_and_lets_refusals_through() -> None:
    brokers = Brokers()

    async def setup(connection: Connection) -> None:
        pass

    brokers.failures = [OSError("refused 1"), OSError("refused 2")]
    with pytest.raises(OSError, match="refused 2"):
        await RobustConnection(brokers, setup, pacing=NO_WAIT).start(attempts=2)

    class Refused(Exception):  # the app's boot errors: retrying cannot fix them
        pass

    brokers.failures = [Refused("bad password")]
    with pytest.raises(Refused):
        await RobustConnection(brokers, setup, pacing=NO_WAIT).start()
    assert brokers.opened == []


def test_retries_are_steady_for_a_short_outage_then_back_off() -> None:
    # The first interval_max seconds of an outage are tried every retry_interval (a broker
    # restart is found within a second of its return); after that, oslo's backoff.
    delays = Pacing(reconnect_delay=1, retry_interval=1, retry_backoff=2, interval_max=6)
    it = delays.retry_delays()
    assert [next(it) for _ in range(10)] == [1, 1, 1, 1, 1, 1, 3, 5, 6, 6]


def test_a_zero_retry_interval_still_backs_off() -> None:
    it = Pacing(retry_interval=0, retry_backoff=2, interval_max=6).retry_delays()
    assert [next(it) for _ in range(4)] == [0, 2, 4, 6]


async def test_a_broker_back_after_several_refusals_is_found_at_the_steady_pace() -> None:
    # Broker app stop/start (issue 24): while the non-durable conductor queue is gone, every
    # call published is dropped, so each second between the broker's return and our
    # reconnection costs calls. With the old 1, 3, 5 s backoff five refusals took 9 s.
    brokers = Brokers()

    async def setup(connection: Connection) -> None:
        pass

    pacing = Pacing(reconnect_delay=0, retry_interval=0.01, retry_backoff=1, interval_max=1)
    robust = RobustConnection(brokers, setup, pacing=pacing)
    await robust.start()
    brokers.failures = [OSError(f"closed the socket {n}") for n in range(5)]
    brokers.opened[0].connection.lose(ConnectionLost("320 CONNECTION_FORCED"))
    await serving(robust, brokers, 2)  # within 2 s: 5 x 0.01 s, not 0.01 + 1 + 1 + 1 + 1
    await robust.close()


async def test_a_cancelled_consumer_is_set_up_again_without_the_reconnect_delay() -> None:
    # A deleted conductor queue: the broker is up, and every call published until we declare
    # the queue again is dropped, so kombu_reconnect_delay would only cost calls.
    brokers = Brokers()

    async def setup(connection: Connection) -> None:
        pass

    pacing = Pacing(reconnect_delay=5, retry_interval=5, retry_backoff=0, interval_max=5)
    robust = RobustConnection(brokers, setup, pacing=pacing)
    await robust.start()
    brokers.opened[0].connection.lose(ConsumerCancelled("consumer conductor-1 cancelled"))
    await serving(robust, brokers, 2)  # within 2 s, not after 5
    # any other loss still waits kombu_reconnect_delay first, as oslo does
    brokers.opened[1].connection.lose(ConnectionLost("cut"))
    with pytest.raises(AssertionError):
        await wait_for(lambda: len(brokers.opened) >= 3, seconds=0.5)
    await robust.close()
