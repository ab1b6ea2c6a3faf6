"""Keep one AMQP connection up: reconnect with oslo's pacing and set everything up again.

`setup` declares the topology and starts the consumers on each new connection, so a broker
restart or a cut link ends with the same queues, bindings and consumers as before. Callers
that must publish wait in `ready()` while the connection is down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aioconductor.config.settings import Settings
from aioconductor.errors import BootError
from aioconductor.messaging.amqp.connection import Connection
from aioconductor.messaging.connection import connect

log = logging.getLogger(__name__)

Setup = Callable[[Connection], Awaitable[None]]
Listener = Callable[[], None]


class RobustConnection:
    def __init__(
        self,
        settings: Settings,
        setup: Setup,
        *,
        on_lost: Listener | None = None,
        on_restored: Listener | None = None,
    ) -> None:
        self._settings = settings
        self._setup = setup
        self._on_lost = on_lost
        self._on_restored = on_restored
        self._current: Connection | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self._watcher: asyncio.Task[None] | None = None

    async def start(self, *, attempts: int | None = None) -> None:
        """Connect and set up once; errors here (refused login, clashing queues) are raised."""
        connection = await connect(self._settings, attempts=attempts)
        try:
            await self._setup(connection)
        except BaseException:
            connection.abort()
            raise
        self._current = connection
        self._ready.set()
        self._watcher = asyncio.create_task(self._watch(), name="amqp-reconnect")

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

    async def _watch(self) -> None:
        while not self._closing:
            assert self._current is not None
            reason = await self._current.closed
            if self._closing:
                return
            self._ready.clear()
            log.warning("lost the RabbitMQ connection (%s); reconnecting", reason)
            if self._on_lost is not None:
                self._on_lost()
            await asyncio.sleep(self._settings.rabbit.kombu_reconnect_delay)
            self._current = await self._reconnect()
            self._ready.set()
            log.info("reconnected to RabbitMQ; queues and consumers restored")
            if self._on_restored is not None:
                self._on_restored()

    async def _reconnect(self) -> Connection:
        opts = self._settings.rabbit
        delay = opts.rabbit_retry_interval
        while True:
            try:
                connection = await connect(self._settings)
            except BootError as exc:  # a password or vhost changed under us: keep trying
                log.error("%s", exc)
            else:
                try:
                    await self._setup(connection)
                    return connection
                except Exception as exc:
                    log.warning("setting up the new connection failed: %s", exc)
                    connection.abort()
                except BaseException:  # cancelled by close(): leave no socket behind
                    connection.abort()
                    raise
            await asyncio.sleep(delay)
            delay = min(delay + opts.rabbit_retry_backoff, opts.rabbit_interval_max)
