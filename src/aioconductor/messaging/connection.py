"""The worker's RabbitMQ connections, from the settings: brokers, login, TLS and pacing.

`messaging/amqp/` knows nothing of nova.conf; this module turns [oslo_messaging_rabbit] and
the transport URL into what it needs: a connect callable that makes one round over the
brokers (`BrokerConnector`) and oslo's reconnection pacing (`robust_connection`).

Refused credentials and a missing virtual host are told apart from an unreachable broker:
they are boot errors, which no retry fixes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import ssl
import uuid

from aioconductor.config.settings import AmqpEndpoint, RabbitOptions, Settings
from aioconductor.errors import BootError
from aioconductor.messaging.amqp.connection import AmqpError, BrokerClosed, Connection
from aioconductor.messaging.amqp.robust import (
    Listener,
    Pacing,
    RobustConnection,
    Setup,
)

log = logging.getLogger(__name__)


def connection_name() -> str:
    # Same shape as oslo's "<argv0>:<pid>:<uuid>", so `rabbitmqctl list_connections` reads alike.
    return f"aioconductor:{os.getpid()}:{uuid.uuid4()}"


_ACCESS_REFUSED = 403
_NOT_ALLOWED = 530  # the virtual host does not exist or the user may not use it


class BrokerUnreachable(AmqpError):
    """No broker of the transport URL could be reached in one round."""


def pacing(opts: RabbitOptions) -> Pacing:
    return Pacing(
        reconnect_delay=opts.kombu_reconnect_delay,
        retry_interval=opts.rabbit_retry_interval,
        retry_backoff=opts.rabbit_retry_backoff,
        interval_max=opts.rabbit_interval_max,
    )


class BrokerConnector:
    """A connect callable: each call tries the brokers once each, in failover order.

    Like oslo with kombu: a multi-host URL is shuffled once; a lost connection is retried
    on the broker that last worked first, then on the next ones in order.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._endpoints = settings.amqp_endpoints()
        if len(self._endpoints) > 1:
            random.shuffle(self._endpoints)  # oslo shuffles multi-host URLs once
        self._ssl = ssl_context(settings.rabbit)
        self._first = 0

    def order(self) -> list[AmqpEndpoint]:
        """The brokers in the order the next round tries them."""
        return self._endpoints[self._first :] + self._endpoints[: self._first]

    async def __call__(self) -> Connection:
        failures = []
        for endpoint in self.order():
            try:
                connection = await self._open(endpoint)
            except BrokerClosed as exc:
                _raise_refusal(endpoint, exc)
                failures.append(f"{endpoint.host}:{endpoint.port} closed the connection ({exc})")
            except (TimeoutError, OSError, AmqpError) as exc:
                failures.append(f"{endpoint.host}:{endpoint.port} ({_reason(exc)})")
            else:
                self._first = self._endpoints.index(endpoint)
                return connection
        raise BrokerUnreachable("cannot reach RabbitMQ at " + ", ".join(failures))

    async def _open(self, endpoint: AmqpEndpoint) -> Connection:
        opts = self._settings.rabbit
        return await Connection.open(
            endpoint.host,
            endpoint.port,
            username=endpoint.username,
            password=endpoint.password.get_secret_value(),
            virtual_host=endpoint.virtual_host,
            heartbeat=opts.heartbeat_timeout_threshold,
            heartbeat_rate=opts.heartbeat_rate,
            name=connection_name(),
            ssl_context=self._ssl,
            timeout=10,
        )


def robust_connection(
    settings: Settings,
    setup: Setup,
    *,
    on_lost: Listener | None = None,
    on_restored: Listener | None = None,
) -> RobustConnection:
    """The worker's connection to RabbitMQ, kept up with oslo's pacing."""
    return RobustConnection(
        BrokerConnector(settings),
        setup,
        pacing=pacing(settings.rabbit),
        on_lost=on_lost,
        on_restored=on_restored,
    )


async def connect(settings: Settings, *, attempts: int | None = None) -> Connection:
    """One connection to the first reachable broker, retrying with oslo's backoff.

    Refused credentials or a missing virtual host are boot errors: retrying cannot fix them.
    `attempts=None` retries forever, as oslo.messaging does.
    """
    connector = BrokerConnector(settings)
    delays = pacing(settings.rabbit).retry_delays()
    tried = 0
    while True:
        try:
            return await connector()
        except BrokerUnreachable as exc:
            tried += 1
            if attempts is not None and tried >= attempts:
                raise BootError(str(exc)) from None
            delay = next(delays)
            log.warning("%s; retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)


def _raise_refusal(endpoint: AmqpEndpoint, exc: BrokerClosed) -> None:
    if exc.code == _ACCESS_REFUSED:
        raise BootError(
            f"RabbitMQ at {endpoint.host}:{endpoint.port} refused user {endpoint.username!r}: {exc}"
        ) from exc
    if exc.code == _NOT_ALLOWED:
        raise BootError(
            f"RabbitMQ at {endpoint.host}:{endpoint.port}: virtual host "
            f"{endpoint.virtual_host!r} is not accessible: {exc}"
        ) from exc


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def ssl_context(opts: RabbitOptions) -> ssl.SSLContext | None:
    """[oslo_messaging_rabbit] ssl, ssl_ca_file, ssl_cert_file, ssl_key_file, as oslo reads them."""
    if not opts.ssl:
        return None
    context = ssl.create_default_context(cafile=opts.ssl_ca_file or None)
    if opts.ssl_cert_file:
        context.load_cert_chain(opts.ssl_cert_file, opts.ssl_key_file or None)
    return context
