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
from collections.abc import Callable

from aioconductor.config.settings import SSL_VERSIONS, AmqpEndpoint, RabbitOptions, Settings
from aioconductor.errors import BootError
from aioconductor.messaging.amqp.connection import (
    AmqpError,
    BrokerClosed,
    Connection,
    LoginUnsupported,
)
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

    As oslo with kombu: a multi-host URL is shuffled once. `kombu_failover_strategy`
    round-robin then keeps that order, starting each round at the broker that last worked
    (kombu retries the current host first); shuffle draws a new order every round.
    TLS files are read here, once: a missing or bad one is a boot error, not a retry.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._endpoints = settings.amqp_endpoints()
        if len(self._endpoints) > 1:
            random.shuffle(self._endpoints)  # oslo shuffles multi-host URLs once
        self._shuffle = settings.rabbit.kombu_failover_strategy == "shuffle"
        self._ssl = ssl_context(settings.rabbit)
        self._first = 0

    def order(self) -> list[AmqpEndpoint]:
        """The brokers in the order the next round tries them."""
        if self._shuffle:
            return random.sample(self._endpoints, len(self._endpoints))
        return self._endpoints[self._first :] + self._endpoints[: self._first]

    async def __call__(self) -> Connection:
        failures = []
        for endpoint in self.order():
            try:
                connection = await self._open(endpoint)
            except LoginUnsupported as exc:
                raise BootError(f"RabbitMQ at {endpoint.host}:{endpoint.port}: {exc}") from None
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
            login_method=opts.rabbit_login_method,
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
    """[oslo_messaging_rabbit] ssl, ssl_version, ssl_ca_file, ssl_cert_file, ssl_key_file.

    Verification as nova's client does it (oslo's `_fetch_ssl_params`, kombu, py-amqp's
    `_wrap_socket_sni`): with `ssl_ca_file`, CERT_REQUIRED against that CA and the broker's
    host name checked (kombu fills in the host for multi-host URLs too). Without it, py-amqp's
    default context: the system's CAs, no host name check; and with `ssl_version` set
    (oslo's PROTOCOL_TLSv1_x context) no verification at all.
    A missing or unreadable file is a BootError naming the option.
    """
    if not opts.ssl:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, host names checked
    low, high = SSL_VERSIONS[opts.ssl_version]
    if low is not None:
        context.minimum_version = ssl.TLSVersion[low]
    if high is not None:
        context.maximum_version = ssl.TLSVersion[high]
    if opts.ssl_ca_file:
        _load(context.load_verify_locations, "ssl_ca_file", opts.ssl_ca_file)
    else:
        context.check_hostname = False
        if opts.ssl_version:
            context.verify_mode = ssl.CERT_NONE
        else:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if opts.ssl_key_file and not opts.ssl_cert_file:
        # py-amqp would ignore a key without its certificate: say so instead
        raise BootError("[oslo_messaging_rabbit] ssl_key_file: set without ssl_cert_file")
    if opts.ssl_cert_file:
        if opts.ssl_key_file:
            _readable("ssl_key_file", opts.ssl_key_file)
        _load(
            lambda path: context.load_cert_chain(path, opts.ssl_key_file or None),
            "ssl_cert_file",
            opts.ssl_cert_file,
            also="ssl_key_file" if opts.ssl_key_file else "",
        )
    return context


def _readable(option: str, path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise BootError(f"[oslo_messaging_rabbit] {option} {path}: {exc.strerror}") from None


def _load(load: Callable[[str], object], option: str, path: str, also: str = "") -> None:
    _readable(option, path)
    try:
        load(path)
    except (OSError, ssl.SSLError, ValueError) as exc:
        names = f"{option} / {also}" if also else option
        raise BootError(f"[oslo_messaging_rabbit] {names} {path}: cannot load: {exc}") from None
