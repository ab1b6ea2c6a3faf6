"""Keep one AMQP connection up: reconnect at a steady pace, then backing off, and set it up again.

`connect` opens one connection (one round over the brokers; the caller decides which and
how); `setup` declares the topology and starts the consumers on each new connection, so a
broker restart or a cut link ends with the same queues, bindings and consumers as before.
Callers that must publish wait in `ready()` while the connection is down.

Reconnection never ends while the owner wants the connection: every failure on the way back
(a refused login, a setup error, a listener that raises, a bug) is logged and retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from aioconductor.messaging.amqp.connection import AmqpError, Connection, ConsumerCancelled

log = logging.getLogger(__name__)

Connect = Callable[[], Awaitable[Connection]]
Setup = Callable[[Connection], Awaitable[None]]
Listener = Callable[[], None]

# What a failed first connection may raise and still be worth another try; anything else
# (the owner's boot errors: a refused password, a bad certificate) ends `start`.
_RETRYABLE = (AmqpError, OSError, TimeoutError)


@dataclass(frozen=True)
class Pacing:
    """Reconnection pacing from oslo's options ([oslo_messaging_rabbit] kombu_reconnect_delay,
    rabbit_retry_interval, rabbit_retry_backoff, rabbit_interval_max).

    The first `interval_max` seconds of an outage are retried every `retry_interval`, and
    only then does the delay grow by `retry_backoff` up to `interval_max`. Why not kombu's
    plain 1, 3, 5 s: while a broker restarts, the non-durable `conductor` queue is gone and
    every call published before we declare it again is dropped, so each second between the
    broker's return and our reconnection costs calls (189 of 800 in a 5 s `stop_app`, against
    0-3 for nova-conductor). nova-conductor's consumer connection in fact retries every
    kombu_reconnect_delay there: the restarting broker accepts the socket and closes it, which
    kombu's `ensure` treats as a new failure with no backoff. A long outage still backs off.
    """

    reconnect_delay: float = 1.0
    retry_interval: float = 1.0
    retry_backoff: float = 2.0
    interval_max: float = 30.0

    def retry_delays(self) -> Iterator[float]:
        steady = int(self.interval_max // self.retry_interval) if self.retry_interval > 0 else 1
        for _ in range(steady):
            yield self.retry_interval
        delay = self.retry_interval
        while True:
            delay = min(delay + self.retry_backoff, self.interval_max)
            yield delay


class RobustConnection:
    def __init__(
        self,
        connect: Connect,
        setup: Setup,
        *,
        pacing: Pacing | None = None,
        on_lost: Listener | None = None,
        on_restored: Listener | None = None,
    ) -> None:
        self._connect = connect
        self._setup = setup
        self._pacing = pacing or Pacing()
        self._on_lost = on_lost
        self._on_restored = on_restored
        self._current: Connection | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self._watcher: asyncio.Task[None] | None = None

    @property
    def current(self) -> Connection | None:
        """The connection in use, open or not yet replaced; None before `start`."""
        return self._current

    async def start(self, *, attempts: int | None = None) -> None:
        """Connect and set up once, retrying an unreachable broker `attempts` times (None:
        forever, as oslo does); other errors (refused login, clashing queues) are raised."""
        delays = self._pacing.retry_delays()
        tried = 0
        while True:
            try:
                connection = await self._connect()
                break
            except _RETRYABLE as exc:
                tried += 1
                if attempts is not None and tried >= attempts:
                    raise
                delay = next(delays)
                log.warning("%s; retrying in %.1f s", _describe(exc), delay)
                await asyncio.sleep(delay)
        try:
            await self._setup(connection)
        except BaseException:
            connection.abort()
            raise
        self._current = connection
        self._ready.set()
        self._start_watcher()

    async def ready(self) -> Connection:
        """The open connection, once there is one."""
        while True:
            await self._ready.wait()
            if self._current is not None and self._current.is_open:
                return self._current
            await asyncio.sleep(0)  # the watcher has not noticed the loss yet

    async def close(self) -> None:
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()
        self._ready.clear()
        if self._current is not None:
            await self._current.close()

    def _start_watcher(self) -> None:
        self._watcher = asyncio.create_task(self._watch(), name="amqp-reconnect")
        self._watcher.add_done_callback(self._watcher_ended)

    def _watcher_ended(self, task: asyncio.Task[None]) -> None:
        # The loop in _watch catches every failure it expects; this is for the one nobody
        # expected: without it the worker would stay disconnected forever, silently.
        if self._closing or task.cancelled():
            return
        exc = task.exception()
        log.error(
            "the RabbitMQ reconnection task ended (%s); starting it again",
            _describe(exc) if exc else "returned",
            exc_info=exc,
        )
        self._start_watcher()

    async def _watch(self) -> None:
        while not self._closing:
            assert self._current is not None
            reason = await self._current.closed
            if self._closing:
                return
            self._ready.clear()
            log.warning("lost the RabbitMQ connection (%s); reconnecting", reason)
            self._notify(self._on_lost)
            if not isinstance(reason, ConsumerCancelled):
                # A cancelled consumer's broker is up, and until its queue is declared again
                # every call published to it is dropped: no delay there.
                await asyncio.sleep(self._pacing.reconnect_delay)
            self._current = await self._reconnect()
            self._ready.set()
            log.info("reconnected to RabbitMQ; queues and consumers restored")
            self._notify(self._on_restored)

    async def _reconnect(self) -> Connection:
        delays = self._pacing.retry_delays()
        first = True
        while True:
            try:
                connection = await self._connect()
            except Exception as exc:  # a password or vhost changed under us too: keep trying
                expected = isinstance(exc, _RETRYABLE)
                # A traceback once per outage for the unexpected, not one per retry.
                log.log(
                    logging.WARNING if expected else logging.ERROR,
                    "%s",
                    _describe(exc),
                    exc_info=first and not expected,
                )
            else:
                try:
                    await self._setup(connection)
                    return connection
                except Exception as exc:
                    log.warning(
                        "setting up the new connection failed: %s",
                        _describe(exc),
                        exc_info=first and not isinstance(exc, _RETRYABLE),
                    )
                    connection.abort()
                except BaseException:  # cancelled by close(): leave no socket behind
                    connection.abort()
                    raise
            first = False
            await asyncio.sleep(next(delays))

    @staticmethod
    def _notify(listener: Listener | None) -> None:
        if listener is None:
            return
        try:
            listener()
        except Exception:
            log.exception("a RabbitMQ connection listener failed; reconnection goes on")


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
