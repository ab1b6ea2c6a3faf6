"""tests/integration/tcp_proxy.py's proxy, made to behave like the service behind it when
that service is down: an accepted connection whose upstream refuses is closed at once (a
refusal), instead of being left open and silent with a traceback in the log."""

from __future__ import annotations

import asyncio

from tests.integration.tcp_proxy import TcpProxy


class FaultProxy(TcpProxy):
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await super()._accept(reader, writer)
        except OSError:
            writer.transport.abort()
