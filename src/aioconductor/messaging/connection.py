"""Open an AMQP connection to the first reachable broker, with oslo's retry pacing.

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

log = logging.getLogger(__name__)


def connection_name() -> str:
    # Same shape as oslo's "<argv0>:<pid>:<uuid>", so `rabbitmqctl list_connections` reads alike.
    return f"aioconductor:{os.getpid()}:{uuid.uuid4()}"


_ACCESS_REFUSED = 403
_NOT_ALLOWED = 530  # the virtual host does not exist or the user may not use it


async def connect(settings: Settings, *, attempts: int | None = None) -> Connection:
    """Connect to the first reachable broker, retrying with oslo's backoff.

    Refused credentials or a missing virtual host are boot errors: retrying cannot fix them.
    `attempts=None` retries forever, as oslo.messaging does.
    """
    endpoints = settings.amqp_endpoints()
    if len(endpoints) > 1:
        random.shuffle(endpoints)  # oslo shuffles multi-host URLs too
    opts = settings.rabbit
    delay = opts.rabbit_retry_interval
    tried = 0
    while True:
        for endpoint in endpoints:
            try:
                return await _connect_one(settings, endpoint)
            except BrokerClosed as exc:
                if exc.code == _ACCESS_REFUSED:
                    raise BootError(
                        f"RabbitMQ at {endpoint.host}:{endpoint.port} refused user "
                        f"{endpoint.username!r}: {exc}"
                    ) from exc
                if exc.code == _NOT_ALLOWED:
                    raise BootError(
                        f"RabbitMQ at {endpoint.host}:{endpoint.port}: virtual host "
                        f"{endpoint.virtual_host!r} is not accessible: {exc}"
                    ) from exc
                log.warning(
                    "RabbitMQ at %s:%s closed the connection (%s); retrying in %.1f s",
                    endpoint.host,
                    endpoint.port,
                    exc,
                    delay,
                )
            except (TimeoutError, OSError, AmqpError) as exc:
                log.warning(
                    "cannot reach RabbitMQ at %s:%s (%s); retrying in %.1f s",
                    endpoint.host,
                    endpoint.port,
                    str(exc) or type(exc).__name__,
                    delay,
                )
        tried += 1
        if attempts is not None and tried >= attempts:
            raise BootError(
                "RabbitMQ is not reachable at " + ", ".join(f"{e.host}:{e.port}" for e in endpoints)
            )
        await asyncio.sleep(delay)
        delay = min(delay + opts.rabbit_retry_backoff, opts.rabbit_interval_max)


async def _connect_one(settings: Settings, endpoint: AmqpEndpoint) -> Connection:
    opts = settings.rabbit
    return await Connection.open(
        endpoint.host,
        endpoint.port,
        username=endpoint.username,
        password=endpoint.password.get_secret_value(),
        virtual_host=endpoint.virtual_host,
        heartbeat=opts.heartbeat_timeout_threshold,
        name=connection_name(),
        ssl_context=ssl_context(opts),
        timeout=10,
    )


def ssl_context(opts: RabbitOptions) -> ssl.SSLContext | None:
    """[oslo_messaging_rabbit] ssl, ssl_ca_file, ssl_cert_file, ssl_key_file, as oslo reads them."""
    if not opts.ssl:
        return None
    context = ssl.create_default_context(cafile=opts.ssl_ca_file or None)
    if opts.ssl_cert_file:
        context.load_cert_chain(opts.ssl_cert_file, opts.ssl_key_file or None)
    return context
