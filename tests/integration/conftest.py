"""Fixtures for `connected` tests: live RabbitMQ/MariaDB on 127.0.0.1, unique names per run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests import rabbit


@pytest.fixture
def exchange_name() -> str:
    return f"aioc_{uuid.uuid4().hex[:12]}"


class OsloClients:
    """nova's client side: oslo.messaging's RPCClient on the rabbit driver."""

    def __init__(self, exchange: str, url: str | None = None) -> None:
        import oslo_messaging
        from oslo_config import cfg

        self.om = oslo_messaging
        self.conf = cfg.CONF  # oslo registers its tracing options on the global CONF only
        self.conf([], project="aioc-tests")
        # what nova does (rpc.set_defaults): the default exchange is read when the
        # transport is built
        oslo_messaging.set_transport_defaults(control_exchange=exchange)
        self.transport = oslo_messaging.get_rpc_transport(self.conf, url=url or rabbit.url())

    def client(self, *, namespace: str | None = None, version: str = "1.0", **prepare: Any) -> Any:
        target = self.om.Target(topic="conductor", namespace=namespace, version=version)
        return self.om.get_rpc_client(self.transport, target).prepare(**prepare)

    def close(self) -> None:
        self.transport.cleanup()


@pytest.fixture
def oslo(exchange_name: str) -> Iterator[OsloClients]:
    clients = OsloClients(exchange_name)
    try:
        yield clients
    finally:
        clients.close()


@contextmanager
def schema_database(prefix: str) -> Iterator[str]:
    """A fresh database named `aioc_<prefix>_<random>` holding our schema's tables."""
    import sqlalchemy

    from aioconductor.db.schema import metadata
    from aioconductor.novaenv import create_database, drop_database

    name = f"aioc_{prefix}_{uuid.uuid4().hex[:10]}"
    create_database(name)
    engine = sqlalchemy.create_engine(f"mysql+pymysql://root@127.0.0.1/{name}")
    try:
        metadata.create_all(engine)
        yield name
    finally:
        engine.dispose()
        drop_database(name)
