"""The scheduler's select_destinations, sent as nova's SchedulerAPI (4.5) sends it.

nova-conductor always asks for Selection objects (`return_objects=True`), which needs RPC
4.5: a `[upgrade_levels] scheduler` cap below it makes nova's client raise
SelectionObjectsWithOldRPCVersionNotSupported before anything is sent, and so do we. The call
waits `long_rpc_timeout` in all, with call-monitor heartbeats due every
`rpc_response_timeout` (the scheduler sends them while it works).
"""

from __future__ import annotations

from typing import Any

from aioconductor.boot.rpc_client import RpcClient
from aioconductor.config.settings import Settings
from aioconductor.context import RequestContext
from aioconductor.errors import SelectionObjectsWithOldRPCVersionNotSupported
from aioconductor.messaging.versions import is_compatible
from aioconductor.objects.primitives import Primitive

TOPIC = "scheduler"
SELECTION_VERSION = "4.5"
# nova's SchedulerAPI.VERSION_ALIASES: release names an operator may pin to
VERSION_ALIASES = {
    "grizzly": "2.6",
    "havana": "2.9",
    "icehouse": "3.0",
    "juno": "3.0",
    "kilo": "4.2",
    "liberty": "4.2",
    "mitaka": "4.3",
    "newton": "4.3",
    "ocata": "4.3",
    "pike": "4.4",
}


def scheduler_version_cap(settings: Settings) -> str | None:
    level = settings.upgrade_levels.scheduler
    return None if level is None else VERSION_ALIASES.get(level, level)


def can_send_version(version_cap: str | None, version: str) -> bool:
    """oslo's RPCClient.can_send_version: no cap sends anything."""
    return version_cap is None or is_compatible(version_cap, version)


async def select_destinations(
    client: RpcClient,
    ctx: RequestContext,
    spec: Primitive,
    instance_uuids: list[str],
    *,
    return_alternates: bool,
    settings: Settings,
) -> list[list[Primitive]]:
    """The Selection primitives per instance (with alternates when asked); raises
    RemoteCallError (NoValidHost ...), RpcTimeout, RpcConnectionLost, or
    SelectionObjectsWithOldRPCVersionNotSupported for a scheduler pinned below 4.5."""
    cap = scheduler_version_cap(settings)
    if not can_send_version(cap, SELECTION_VERSION):
        raise SelectionObjectsWithOldRPCVersionNotSupported(version=cap)
    args: dict[str, Any] = {
        "instance_uuids": instance_uuids,
        "spec_obj": spec,
        "return_objects": True,
        "return_alternates": return_alternates,
    }
    result: list[list[Primitive]] = await client.call(
        ctx,
        TOPIC,
        "select_destinations",
        args,
        version=SELECTION_VERSION,
        timeout=settings.long_rpc_timeout,
        call_monitor_timeout=settings.rpc_response_timeout,
    )
    return result
