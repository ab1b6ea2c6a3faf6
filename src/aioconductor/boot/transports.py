"""An RPC client per cell, as nova's `rpc.get_cell_client` gives one per cell transport.

A cell whose `transport_url` is our own `[DEFAULT] transport_url` (the same brokers, users
and virtual host), or `none:` (cell0, which nova sends through the default transport), uses
the worker's own connection. Any other URL gets one connection of its own, shared by every
cell naming it, opened on first use: the client is handed out at once and its publishes wait
for the connection (bounded by their timeouts) while it is being opened, retried at oslo's
pace if the broker is down, as oslo's transport retries. All are closed on `close()`.
Template URLs (`{scheme}://{username}...`) are filled from our transport_url as nova does.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import SecretStr

from aioconductor.boot.rpc_client import RpcClient
from aioconductor.config.settings import RabbitOptions, Settings, parse_transport_url
from aioconductor.messaging.amqp.connection import Connection
from aioconductor.messaging.amqp.robust import RobustConnection
from aioconductor.messaging.connection import robust_connection
from aioconductor.objects._cell_urls import format_url
from aioconductor.objects.primitives import Primitive

log = logging.getLogger(__name__)


class CellTransports:
    def __init__(self, settings: Settings, own: RobustConnection) -> None:
        self._settings = settings
        self._own = own
        self._own_key = _broker_key(settings.transport_url.get_secret_value())
        self._clients: dict[object, RpcClient] = {}
        self._connections: list[RobustConnection] = []
        self._starting: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self._closed = False

    async def client_for(self, cell_mapping: Primitive) -> RpcClient:
        """The client for a CellMapping primitive's transport_url."""
        stored = cell_mapping["nova_object.data"].get("transport_url") or ""
        url = format_url(
            stored, self._settings.transport_url.get_secret_value(), "[DEFAULT] transport_url"
        )
        own = url.startswith("none") or _broker_key(url) == self._own_key
        key: object = "own" if own else _broker_key(url)
        async with self._lock:
            if self._closed:
                raise RuntimeError("cell transports are closed")
            client = self._clients.get(key)
            if client is None:
                client = self._own_client() if own else self._cell_client(url)
                self._clients[key] = client
            return client

    def own_client(self) -> RpcClient:
        """The client on the worker's own connection (the scheduler's, cell0's)."""
        client = self._clients.get("own")
        if client is None:
            client = self._clients["own"] = self._own_client()
        return client

    def _own_client(self) -> RpcClient:
        return RpcClient(
            self._own,
            self._settings.control_exchange,
            rabbit=self._settings.rabbit,
            publish_timeout=float(self._settings.rpc_response_timeout),
        )

    def _cell_client(self, url: str) -> RpcClient:
        settings = _settings_for(self._settings, url)
        connection = robust_connection(settings, _nothing_to_set_up)
        self._connections.append(connection)
        starting = asyncio.create_task(_start(connection, url), name="cell-transport")
        self._starting.append(starting)
        return RpcClient(
            connection,
            settings.control_exchange,
            rabbit=settings.rabbit,
            publish_timeout=float(settings.rpc_response_timeout),
        )

    async def close(self) -> None:
        """Close every client (their reply queues go) and the connections we opened."""
        async with self._lock:
            self._closed = True
            for task in self._starting:
                task.cancel()
            await asyncio.gather(*self._starting, return_exceptions=True)
            for client in self._clients.values():
                try:
                    await client.close()
                except Exception as exc:  # a cell broker gone: nothing of ours to clean
                    log.debug("closing a cell RPC client: %s", exc)
            for connection in self._connections:
                await connection.close()
            self._clients.clear()
            self._connections.clear()


def _broker_key(url: str) -> object:
    """What makes two transport URLs the same transport: brokers, users, vhost, options."""
    try:
        endpoints, options = parse_transport_url(url)
    except Exception:
        return url  # unparseable: only the same text is the same transport
    brokers = sorted(
        (e.host, e.port, e.username, e.password.get_secret_value(), e.virtual_host)
        for e in endpoints
    )
    return (tuple(brokers), tuple(sorted(options.items())))


def _settings_for(settings: Settings, url: str) -> Settings:
    """Our settings with the cell's transport_url (its query options over ours)."""
    _, options = parse_transport_url(url)
    rabbit = RabbitOptions.model_validate({**settings.rabbit.model_dump(), **options})
    return settings.model_copy(update={"transport_url": SecretStr(url), "rabbit": rabbit})


async def _nothing_to_set_up(_: Connection) -> None:
    return None


async def _start(connection: RobustConnection, url: str) -> None:
    try:
        await connection.start()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # refused login, missing vhost: calls to this cell time out
        log.error("cannot connect to the cell's RabbitMQ %s: %s", _masked(url), exc)


def _masked(url: str) -> str:
    from aioconductor.config.settings import mask_url

    return mask_url(url)
