"""One robust AMQP connection per worker, with oslo's retry pacing and boot-error detection."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import uuid

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from aio_pika.exceptions import AMQPConnectionError, ProbableAuthenticationError

from aioconductor.config.settings import AmqpEndpoint, Settings
from aioconductor.errors import BootError

log = logging.getLogger(__name__)


def connection_name() -> str:
    # Same shape as oslo's "<argv0>:<pid>:<uuid>", so `rabbitmqctl list_connections` reads alike.
    return f"aioconductor:{os.getpid()}:{uuid.uuid4()}"


async def connect(settings: Settings, *, attempts: int | None = None) -> AbstractRobustConnection:
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
            except ProbableAuthenticationError as exc:
                raise BootError(
                    f"RabbitMQ at {endpoint.host}:{endpoint.port} refused user "
                    f"{endpoint.username!r}: {exc}"
                ) from exc
            except (TimeoutError, OSError, AMQPConnectionError) as exc:
                if _is_vhost_error(exc):
                    raise BootError(
                        f"RabbitMQ at {endpoint.host}:{endpoint.port}: virtual host "
                        f"{endpoint.virtual_host!r} is not accessible: {exc}"
                    ) from exc
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


def _is_vhost_error(exc: BaseException) -> bool:
    text = str(exc)
    return "NOT_ALLOWED" in text or "vhost" in text.lower()


async def _connect_one(settings: Settings, endpoint: AmqpEndpoint) -> AbstractRobustConnection:
    opts = settings.rabbit
    return await aio_pika.connect_robust(
        endpoint.url(),
        heartbeat=opts.heartbeat_timeout_threshold,
        reconnect_interval=max(opts.kombu_reconnect_delay, 0.5),
        client_properties={"connection_name": connection_name()},
        timeout=10,
    )
