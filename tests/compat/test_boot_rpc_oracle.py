"""select_destinations and build_and_run_instance as nova's own SchedulerAPI and ComputeAPI
send them (nova 34.0.0 in its virtualenv), against ours: both captured from the exchange,
equal but for the message ids, under the same [upgrade_levels], rpc_response_timeout and
long_rpc_timeout; build_and_run_instance under no cap, ussuri (5.11) and queens (5.0)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aio_pika
import pytest

from aioconductor.boot import compute_client, scheduler_client
from aioconductor.context import RequestContext
from tests import rabbit
from tests.compat.nova_processes import run_nova_script
from tests.compat.rpc_peer import client_settings, our_client

pytestmark = [pytest.mark.connected, pytest.mark.compat]

_IDS = ("_msg_id", "_reply_q", "_unique_id")
_PROPERTIES = (
    "content_type",
    "content_encoding",
    "headers",
    "delivery_mode",
    "priority",
    "expiration",
    "message_id",
    "correlation_id",
    "reply_to",
)

# what nova-api's RequestContext.to_dict() sends the conductor (nova 34's keys)
API_CONTEXT: dict[str, Any] = {
    "user": "u1",
    "project_id": "p1",
    "system_scope": None,
    "project": "p1",
    "domain": None,
    "user_domain": "default",
    "project_domain": "default",
    "is_admin": False,
    "read_only": False,
    "show_deleted": False,
    "auth_token": "gAAAAAB-token",
    "request_id": "req-6d6bb2f4-6c4f-4a55-9f3a-1e1a2f3b4c5d",
    "global_request_id": "req-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "resource_uuid": None,
    "roles": ["member", "reader"],
    "user_identity": "u1 p1 - default default",
    "is_admin_project": True,
    "user_id": "u1",
    "read_deleted": "no",
    "remote_address": "10.0.0.5",
    "timestamp": "2026-12-06T01:02:03.456789",
    "quota_class": None,
    "user_name": "demo",
    "service_catalog": [
        {
            "type": "image",
            "name": "glance",
            "endpoints": [{"region": "RegionOne", "publicURL": "http://glance:9292"}],
        }
    ],
    "project_name": "demo",
}
COMPUTE_LEVELS = [None, "ussuri", "queens"]


class _Collector:
    """Takes every message of a queue as it arrives: a call's copy expires (its AMQP
    expiration is the call's timeout) if left waiting in the queue."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.messages: list[Any] = []

    async def __call__(self, message: Any) -> None:
        self.messages.append(message)

    async def take(self, count: int) -> list[Any]:
        for _ in range(400):
            if len(self.messages) >= count:
                taken, self.messages = self.messages[:count], self.messages[count:]
                return taken
            await asyncio.sleep(0.05)
        raise AssertionError(f"{len(self.messages)} of {count} messages on {self.name}")


def _seen(message: Any) -> tuple[list[tuple[str, Any]], dict[str, Any], str]:
    inner = json.loads(json.loads(message.body)["oslo.message"])
    body = [(k, "<id>" if k in _IDS else v) for k, v in inner.items()]
    return body, {p: getattr(message, p) for p in _PROPERTIES}, message.routing_key


async def test_boot_rpcs_leave_as_novas_own_clients_send_them() -> None:
    exchange = f"aioc_{uuid.uuid4().hex[:12]}"
    connection = await aio_pika.connect(rabbit.url("amqp"))
    try:
        channel = await connection.channel()
        ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC)
        queues = {}
        for key in ("scheduler", "compute.node1"):
            queue = await channel.declare_queue(f"{exchange}.{key}", auto_delete=True)
            await queue.bind(ex, key)
            queues[key] = _Collector(queue.name)
            await queue.consume(queues[key], no_ack=True)

        sent = await asyncio.to_thread(
            run_nova_script,
            "nova_boot_rpc.py",
            {
                "url": rabbit.url(),
                "exchange": exchange,
                "context": API_CONTEXT,
                "rpc_response_timeout": 2,
                "long_rpc_timeout": 3,
                "compute_levels": COMPUTE_LEVELS,
                "scheduler_level": None,
            },
        )
        nova_call = (await queues["scheduler"].take(1))[0]
        nova_casts = await queues["compute.node1"].take(len(COMPUTE_LEVELS))

        settings = client_settings(
            exchange,
            AIOCONDUCTOR_DEFAULT__RPC_RESPONSE_TIMEOUT="2",
            AIOCONDUCTOR_DEFAULT__LONG_RPC_TIMEOUT="3",
        )
        ctx = RequestContext.from_wire(sent["context"])
        async with our_client(settings) as client:
            with pytest.raises(Exception, match="Timed out"):
                await scheduler_client.select_destinations(
                    client,
                    ctx,
                    sent["spec"],
                    sent["instance_uuids"],
                    return_alternates=True,
                    settings=settings,
                )
            for level in COMPUTE_LEVELS:
                cap = None if level is None else compute_client.VERSION_ALIASES[level]
                await compute_client.build_and_run_instance(
                    client, ctx, version_cap=cap, **sent["build"]
                )
            our_call = (await queues["scheduler"].take(1))[0]
            our_casts = await queues["compute.node1"].take(len(COMPUTE_LEVELS))

        # nova re-sends the caller's context unchanged: ctx.raw is what goes out
        assert sent["context"] == API_CONTEXT
        assert _seen(our_call) == _seen(nova_call)
        versions = []
        for ours, novas in zip(our_casts, nova_casts, strict=True):
            assert _seen(ours) == _seen(novas)
            versions.append(json.loads(json.loads(ours.body)["oslo.message"])["version"])
        assert versions == ["6.0", "5.11", "5.0"]
    finally:
        await connection.close()
