"""Helpers for the RPC client tests: a real oslo.messaging server in nova's virtualenv, and
our client on a connection of its own."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aioconductor.boot.rpc_client import RpcClient
from aioconductor.config.settings import Settings, load_settings
from aioconductor.messaging.amqp.connection import Connection
from aioconductor.messaging.connection import robust_connection
from aioconductor.novaenv import ensure_nova_venv
from tests import rabbit
from tests.compat.nova_processes import SCRIPTS


class OsloServer:
    """`legacy/oslo_rpc_server.py` running; `requests` receives what it was sent."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.requests: queue.Queue[dict[str, Any]] = queue.Queue()
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if value == "READY":
                self._ready.set()
            elif isinstance(value, dict):
                self.requests.put(value)

    def wait_ready(self, timeout: float = 60) -> None:
        if not self._ready.wait(timeout):
            raise AssertionError(f"oslo server not ready: {self.stderr()}")

    def next_request(self, timeout: float = 10) -> dict[str, Any]:
        return self.requests.get(timeout=timeout)

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read()[-3000:]


@contextmanager
def oslo_server(exchange: str, topic: str, server: str = "host1") -> Iterator[OsloServer]:
    proc = subprocess.Popen(
        [str(ensure_nova_venv().python), str(SCRIPTS / "oslo_rpc_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(
        json.dumps({"url": rabbit.url(), "exchange": exchange, "topic": topic, "server": server})
        + "\n"
    )
    proc.stdin.flush()
    peer = OsloServer(proc)
    try:
        peer.wait_ready()
        yield peer
    finally:
        proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def client_settings(exchange: str, url: str | None = None, **extra: str) -> Settings:
    env = {
        "AIOCONDUCTOR_DEFAULT__CONTROL_EXCHANGE": exchange,
        "AIOCONDUCTOR_DEFAULT__HOST": "testhost",
        "AIOCONDUCTOR_DEFAULT__TRANSPORT_URL": url or rabbit.url(),
        **extra,
    }
    return load_settings([], env=env)


async def _nothing_to_set_up(_: Connection) -> None:
    return None


@asynccontextmanager
async def our_client(settings: Settings, **options: Any) -> AsyncIterator[RpcClient]:
    connection = robust_connection(settings, _nothing_to_set_up)
    await connection.start(attempts=3)
    client = RpcClient(connection, settings.control_exchange, rabbit=settings.rabbit, **options)
    try:
        yield client
    finally:
        await client.close()
        await connection.close()
