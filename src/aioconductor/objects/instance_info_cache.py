"""InstanceInfoCache: get_by_instance_uuid and refresh (boot, network-changed events)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from aioconductor.conductor.endpoints import not_native
from aioconductor.errors import InstanceInfoCacheNotFound
from aioconductor.objects import _instance_tables as t
from aioconductor.objects._instance_load import deleted_filter
from aioconductor.objects.primitives import Primitive, dt_to_wire, make
from aioconductor.objects.registry import ClassCall, InstanceCall, remotable, remotable_classmethod

VERSION = "1.5"


async def _fetch(call: ClassCall, instance_uuid: str) -> dict[str, Any]:
    """`instance_info_cache_get` + `_from_db_object`; InstanceInfoCacheNotFound if absent."""
    ic = t.instance_info_caches

    async def work(conn: AsyncConnection) -> Any:
        query = select(*ic.c).where(ic.c.instance_uuid == instance_uuid)
        cond = deleted_filter(ic.c.deleted, call.ctx.read_deleted)
        if cond is not None:
            query = query.where(cond)
        return (await conn.execute(query.limit(1))).mappings().first()

    row = await call.db.run(work)
    if row is None:
        raise InstanceInfoCacheNotFound(instance_uuid=instance_uuid)
    return {
        "instance_uuid": row["instance_uuid"],
        "network_info": row["network_info"],  # JSON text, as NetworkModelField sends it
        "created_at": dt_to_wire(row["created_at"]),
        "updated_at": dt_to_wire(row["updated_at"]),
        "deleted_at": dt_to_wire(row["deleted_at"]),
        "deleted": bool(row["deleted"]),
    }


@remotable_classmethod("InstanceInfoCache", "get_by_instance_uuid")
async def get_by_instance_uuid(call: ClassCall, instance_uuid: str) -> Primitive:
    if call.version_of("InstanceInfoCache") != VERSION:
        raise not_native(f"InstanceInfoCache {call.version_of('InstanceInfoCache')}")
    return make("InstanceInfoCache", VERSION, await _fetch(call, instance_uuid))


@remotable("InstanceInfoCache", "refresh")
async def refresh(call: InstanceCall) -> None:
    if call.obj.version != VERSION:
        raise not_native(f"InstanceInfoCache.refresh at {call.obj.version}")
    current = await _fetch(call, call.obj.data.get("instance_uuid", ""))
    for name in list(call.obj.data):
        if name in current and call.obj.data[name] != current[name]:
            call.set_field(name, current[name])
    call.reset_changes()
