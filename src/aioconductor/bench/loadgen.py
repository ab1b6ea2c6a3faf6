"""A load generator that speaks oslo's wire protocol itself, on asyncio.

oslo.messaging's own client spends several CPU-ms per call, more than the target we measure,
so the generator builds the same envelope (checked against oslo's client in the tests) with
plain dict and json work, and reports its own CPU so a saturated generator is visible.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from pamqp import commands

from aioconductor.config.settings import parse_transport_url
from aioconductor.messaging.amqp import frames
from aioconductor.messaging.amqp.connection import Connection, Delivery

ADMIN_CONTEXT: dict[str, Any] = {
    "user": None,
    "project_id": None,
    "system_scope": None,
    "project": None,
    "domain": None,
    "user_domain": None,
    "project_domain": None,
    "is_admin": True,
    "read_only": False,
    "show_deleted": False,
    "auth_token": None,
    "request_id": "req-bench",
    "global_request_id": None,
    "resource_uuid": None,
    "roles": [],
    "user_identity": "- - - - -",
    "is_admin_project": True,
    "user_id": None,
    "read_deleted": "no",
    "remote_address": None,
    "timestamp": "2026-11-24T00:00:00.000000",
    "quota_class": None,
    "user_name": None,
    "service_catalog": [],
    "project_name": None,
}


def request_body(
    method: str,
    args: dict[str, Any],
    *,
    namespace: str | None,
    version: str,
    msg_id: str,
    reply_q: str,
    context: dict[str, Any] | None = None,
) -> bytes:
    """The exact inner dict oslo's RPCClient.call sends (key order included)."""
    inner: dict[str, Any] = {"method": method, "args": args}
    if namespace is not None:
        inner["namespace"] = namespace
    inner["version"] = version
    inner.update(_msg_id=msg_id, _reply_q=reply_q, _timeout=None, _unique_id=uuid.uuid4().hex)
    ctx = ADMIN_CONTEXT if context is None else context
    inner.update({f"_context_{k}": v for k, v in ctx.items()})
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()


class RpcFailed(Exception):
    pass


class WireClient:
    """One connection, one reply queue, requests published unconfirmed (as oslo's client
    does), on the worker's own AMQP client: through aio-pika the generator spent about as
    much CPU per call as the conductor it drives, on the same two cores."""

    def __init__(self, url: str, exchange: str, timeout: float = 60) -> None:
        self.url, self.exchange_name, self.timeout = url, exchange, timeout
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reply_q = f"reply_{uuid.uuid4().hex}"

    async def __aenter__(self) -> WireClient:
        endpoint = parse_transport_url(self.url)[0][0]
        self._connection = await Connection.open(
            endpoint.host,
            endpoint.port,
            username=endpoint.username,
            password=endpoint.password.get_secret_value(),
            virtual_host=endpoint.virtual_host,
            heartbeat=60,
            name="aioconductor-bench",
        )
        channel = self._channel = await self._connection.channel()
        await channel.call(
            commands.Queue.Declare(
                queue=self._reply_q, auto_delete=True, arguments={"x-expires": 1800000}
            )
        )
        await channel.consume(self._reply_q, self._on_reply, no_ack=True)
        await channel.call(
            commands.Exchange.Declare(exchange=self.exchange_name, exchange_type="topic")
        )
        self._publish = frames.method(
            channel.id,
            commands.Basic.Publish(exchange=self.exchange_name, routing_key="conductor"),
        )
        self._content = frames.ContentTemplate(
            channel.id,
            commands.Basic.Properties(
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                expiration=str(int(self.timeout * 1000)),
            ),
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._connection.close()

    async def delete_queues(self, names: list[str]) -> None:
        for name in names:
            await self._channel.call(commands.Queue.Delete(queue=name))

    def _on_reply(self, delivery: Delivery) -> None:
        inner = json.loads(json.loads(delivery.body)["oslo.message"])
        if inner.get("ending"):
            waiter = self._waiters.pop(inner["_msg_id"], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(inner)

    async def call(
        self,
        method: str,
        args: dict[str, Any],
        *,
        namespace: str | None = None,
        version: str = "3.0",
        context: dict[str, Any] | None = None,
    ) -> Any:
        msg_id = uuid.uuid4().hex
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[msg_id] = waiter
        body = request_body(
            method,
            args,
            namespace=namespace,
            version=version,
            msg_id=msg_id,
            reply_q=self._reply_q,
            context=context,
        )
        self._channel.publish_unconfirmed(self._publish, self._content, body)
        try:
            reply = await asyncio.wait_for(waiter, self.timeout)
        finally:
            self._waiters.pop(msg_id, None)
        if reply.get("failure"):
            raise RpcFailed(json.loads(reply["failure"]).get("message", "failure"))
        return reply.get("result")

    async def wait_ready(self, deadline: float) -> None:
        while True:
            try:
                await asyncio.wait_for(
                    self.call("ping", {"arg": "ready"}, namespace="baseapi", version="1.0"), 2
                )
                return
            except (TimeoutError, RpcFailed):
                if time.monotonic() > deadline:
                    raise
