"""InstanceInfoCache: get_by_instance_uuid, refresh and save (boot, delete, network-changed
events)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import ReadDeleted, RequestContext
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.db.prepared import PreparedSql, prepare
from aioconductor.errors import InstanceInfoCacheNotFound, InstanceNotFound
from aioconductor.objects import _instance_tables as t
from aioconductor.objects._instance_load import deleted_filter
from aioconductor.objects.primitives import Primitive, dt_to_wire, make, utcnow
from aioconductor.objects.registry import ClassCall, InstanceCall, remotable, remotable_classmethod

VERSION = "1.5"


@lru_cache(maxsize=4)
def _cache_row_sql(read_deleted: ReadDeleted) -> PreparedSql:
    ic = t.instance_info_caches
    query = select(*ic.c).where(ic.c.instance_uuid == bindparam("uuid"))
    cond = deleted_filter(ic.c.deleted, read_deleted)
    if cond is not None:
        query = query.where(cond)
    return prepare(query.limit(1))


def _cache_row_query(ctx: RequestContext, instance_uuid: str) -> tuple[str, tuple[Any, ...]]:
    """`instance_info_cache_get`: the row, honouring the context's read_deleted."""
    prepared = _cache_row_sql(ctx.read_deleted)
    return prepared.sql, prepared.args({"uuid": instance_uuid})


async def _fetch(call: ClassCall, instance_uuid: str) -> dict[str, Any]:
    """`instance_info_cache_get` + `_from_db_object`; InstanceInfoCacheNotFound if absent."""
    row = await call.db.fetch_one(*_cache_row_query(call.ctx, instance_uuid))
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


async def write_network_info(
    conn: AsyncConnection, ctx: RequestContext, instance_uuid: str, network_info: str
) -> dict[str, Any]:
    """`instance_info_cache_update`: the cache row as nova's ORM object holds it afterwards.

    A missing row is re-created; an unchanged value issues no UPDATE (the ORM writes only
    what moved, so updated_at stays); a soft-deleted row read with read_deleted=yes is
    InstanceInfoCacheNotFound.
    """
    found = await raw.fetch_one(conn, *_cache_row_query(ctx, instance_uuid))
    if found is not None and found["deleted"]:
        raise InstanceInfoCacheNotFound(instance_uuid=instance_uuid)
    now = utcnow()
    if found is None:
        row: dict[str, Any] = {"instance_uuid": instance_uuid, "network_info": network_info,
                               "created_at": now, "updated_at": None, "deleted_at": None,
                               "deleted": 0}  # fmt: skip
        names = ("instance_uuid", "network_info", "created_at", "deleted")
        try:
            await raw.insert(
                conn,
                f"INSERT INTO instance_info_caches ({', '.join(names)}) VALUES (%s, %s, %s, %s)",
                tuple(row[n] for n in names),
            )
        except IntegrityError as exc:
            if "foreign key" in str(exc.orig).lower():
                raise InstanceNotFound(instance_id=instance_uuid) from None
            # a racing writer re-created it first: nova keeps going with its own object
        return row
    row = dict(found)
    if row["network_info"] != network_info:
        await raw.execute(
            conn,
            "UPDATE instance_info_caches SET network_info = %s, updated_at = %s WHERE id = %s",
            (network_info, now, row["id"]),
        )
        row.update(network_info=network_info, updated_at=now)
    return row


def cache_data(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "instance_uuid": row["instance_uuid"],
        "network_info": row["network_info"],
        "created_at": dt_to_wire(row["created_at"]),
        "updated_at": dt_to_wire(row["updated_at"]),
        "deleted_at": dt_to_wire(row["deleted_at"]),
        "deleted": bool(row["deleted"]),
    }


@remotable("InstanceInfoCache", "save")
async def save(call: InstanceCall, update_cells: bool = True) -> None:
    obj = call.obj
    if obj.version != VERSION:
        raise not_native(f"InstanceInfoCache.save at {obj.version}")
    if "network_info" in obj.changes and "network_info" in obj.data:
        if "instance_uuid" not in obj.data:
            raise not_native("InstanceInfoCache.save without instance_uuid")
        network_info = obj.data["network_info"]
        if network_info is not None and not isinstance(network_info, str):
            network_info = json.dumps(network_info)
        row = await call.db.run(
            lambda conn: write_network_info(conn, call.ctx, obj.data["instance_uuid"], network_info)
        )
        call.load_row(cache_data(row))
    call.reset_changes()
