"""CellTransports against the real RabbitMQ: our own connection for our own URL (however the
cell mapping spells it: the same URL, a template, `none:`), one more connection per other
URL, casts through it reaching the exchange, an unreachable cell broker failing its casts in
time instead of hanging, and everything closed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aio_pika
import pytest

from aioconductor.boot.rpc_client import RpcTimeout
from aioconductor.boot.transports import CellTransports
from aioconductor.context import RequestContext
from aioconductor.messaging.amqp.connection import Connection
from aioconductor.messaging.connection import robust_connection
from tests import rabbit
from tests.compat.rpc_peer import client_settings

pytestmark = pytest.mark.connected

CTX = RequestContext.from_wire({"request_id": "req-1"})


def cell(transport_url: str) -> dict[str, Any]:
    return {
        "nova_object.name": "CellMapping",
        "nova_object.namespace": "nova",
        "nova_object.version": "1.1",
        "nova_object.data": {"uuid": str(uuid.uuid4()), "transport_url": transport_url},
    }


async def _nothing(_: Connection) -> None:
    return None


async def test_cells_share_our_connection_or_get_their_own() -> None:
    exchange = f"aioc_{uuid.uuid4().hex[:12]}"
    settings = client_settings(exchange, AIOCONDUCTOR_DEFAULT__RPC_RESPONSE_TIMEOUT="2")
    own = robust_connection(settings, _nothing)
    await own.start(attempts=3)
    capture = await aio_pika.connect(rabbit.url("amqp"))
    transports = CellTransports(settings, own)
    try:
        channel = await capture.channel()
        ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC)
        queue = await channel.declare_queue(f"{exchange}.capture", auto_delete=True)
        await queue.bind(ex, "compute.node1")

        ours = transports.own_client()
        template = "{scheme}://{username}:{password}@{hostname}:{port}/" + rabbit.vhost()
        for url in (rabbit.url(), "none:///", template.replace("/" + rabbit.vhost(), "/{path}")):
            assert await transports.client_for(cell(url)) is ours, url
        # the same broker under another name is another transport, as nova sees it
        other_url = rabbit.url().replace("127.0.0.1", "localhost")
        other = await transports.client_for(cell(other_url))
        assert other is not ours
        assert await transports.client_for(cell(other_url)) is other
        await other.cast(
            CTX, "compute", "build_and_run_instance", {}, version="6.0", server="node1"
        )
        await ours.cast(CTX, "compute", "build_and_run_instance", {}, version="6.0", server="node1")
        got = 0
        for _ in range(100):
            if await queue.get(no_ack=True, fail=False) is not None:
                got += 1
                if got == 2:
                    break
            else:
                await asyncio.sleep(0.05)
        assert got == 2
    finally:
        await transports.close()
        await own.close()
        await capture.close()


async def test_an_unreachable_cell_broker_fails_casts_in_time() -> None:
    settings = client_settings(
        f"aioc_{uuid.uuid4().hex[:12]}", AIOCONDUCTOR_DEFAULT__RPC_RESPONSE_TIMEOUT="1"
    )
    own = robust_connection(settings, _nothing)
    await own.start(attempts=3)
    transports = CellTransports(settings, own)
    try:
        client = await transports.client_for(cell("rabbit://guest:guest@127.0.0.1:1/"))
        with pytest.raises(RpcTimeout, match="not accepted"):
            await asyncio.wait_for(
                client.cast(
                    CTX, "compute", "build_and_run_instance", {}, version="6.0", server="node1"
                ),
                10,
            )
    finally:
        await asyncio.wait_for(transports.close(), 10)
        await own.close()
