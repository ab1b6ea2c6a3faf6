"""Run an aioconductor RpcServer in a background thread, for tests driven by oslo's client.

oslo.messaging's client is synchronous (kombu), so the test thread stays synchronous and our
server runs on its own uvloop loop in a thread, exactly as it would in its own process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

import uvloop

from aioconductor.conductor.endpoints import conductor_endpoints
from aioconductor.conductor.fallback import LegacyForwarder
from aioconductor.config.settings import Settings
from aioconductor.messaging.dispatcher import Dispatcher, Endpoint
from aioconductor.messaging.server import RpcServer


class ServerThread:
    """`endpoints`: instead of nova's conductor endpoints (a stand-in legacy conductor);
    `forwarder`: a LegacyForwarder, attached to the server's connection at start."""

    def __init__(
        self,
        settings: Settings,
        extra_endpoints: Sequence[Endpoint] = (),
        *,
        endpoints: Sequence[Endpoint] | None = None,
        forwarder: LegacyForwarder | None = None,
    ) -> None:
        self.settings = settings
        self.loop = uvloop.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        served = [*(conductor_endpoints(None) if endpoints is None else endpoints)]
        self.forwarder = forwarder
        self.server = RpcServer(
            settings,
            Dispatcher([*served, *extra_endpoints]),
            forwarder=forwarder,
            connect_attempts=3,
        )

    def run(self, coro: Any, timeout: float = 30) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def start(self) -> ServerThread:
        self._thread.start()
        self.run(self.server.start())
        if self.forwarder is not None:
            self.run(self.forwarder.attach(self.server.connection))
        return self

    def stop(self, drain_timeout: float = 10) -> bool:
        try:
            drained: bool = self.run(self.server.stop(drain_timeout), timeout=drain_timeout + 15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
        return drained
