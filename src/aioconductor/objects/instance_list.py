"""InstanceList: get_by_host, get_by_host_and_node (update_available_resource, power sync,
scheduler sync) and get_uuids_by_host."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from aioconductor.conductor.endpoints import not_native
from aioconductor.objects import _instance_tables as t
from aioconductor.objects._instance_build import (
    INSTANCE_LIST_VERSION,
    UnsupportedStoredValue,
    build_instance,
    changed_children,
)
from aioconductor.objects._instance_get import check_attrs
from aioconductor.objects._instance_load import instance_select, load_children
from aioconductor.objects.primitives import Primitive, make
from aioconductor.objects.registry import ClassCall, remotable_classmethod


def _prepare(call: ClassCall, what: str, expected_attrs: list[str] | None) -> set[str]:
    if call.version_of("InstanceList") != INSTANCE_LIST_VERSION:
        raise not_native(f"{what} at InstanceList {call.version_of('InstanceList')}")
    attrs = check_attrs(expected_attrs or [], what)
    if "fault" in attrs:
        # nova joinedloads models.Instance.fault, which does not exist: AttributeError.
        raise not_native(f"{what} with expected_attrs ['fault']")
    return attrs


async def _instance_list(
    call: ClassCall, attrs: set[str], host: str, node: str | None
) -> Primitive:
    async def work(conn: AsyncConnection) -> list[Any]:
        i = t.instances
        query = instance_select(
            call.ctx, attrs, project_only=False, info_cache="info_cache" in attrs
        ).where(i.c.host == host)
        if node is not None:
            query = query.where(i.c.node == node)
        rows = (await conn.execute(query)).mappings().all()
        uuids = [r["uuid"] for r in rows]
        children = await load_children(conn, call.ctx, uuids, attrs, list_semantics=True)
        return [(r, children[r["uuid"]]) for r in rows]

    loaded = await call.db.run(work)
    try:
        objs = [
            build_instance(row, attrs, child, with_info_cache_join=True) for row, child in loaded
        ]
    except UnsupportedStoredValue as exc:
        raise not_native(f"InstanceList ({exc})") from None
    data = {"objects": objs}
    # obj_reset_changes() on the list; a nested change still shows as 'objects' changed.
    changes = {"objects"} if changed_children({str(n): o for n, o in enumerate(objs)}) else None
    return make("InstanceList", INSTANCE_LIST_VERSION, data, changes)


@remotable_classmethod("InstanceList", "get_by_host")
async def get_by_host(
    call: ClassCall, host: str, expected_attrs: list[str] | None = None, use_slave: bool = False
) -> Primitive:
    attrs = _prepare(call, "InstanceList.get_by_host", expected_attrs)
    return await _instance_list(call, attrs, host, None)


@remotable_classmethod("InstanceList", "get_by_host_and_node")
async def get_by_host_and_node(
    call: ClassCall, host: str, node: str, expected_attrs: list[str] | None = None
) -> Primitive:
    attrs = _prepare(call, "InstanceList.get_by_host_and_node", expected_attrs)
    return await _instance_list(call, attrs, host, node)


@remotable_classmethod("InstanceList", "get_uuids_by_host")
async def get_uuids_by_host(call: ClassCall, host: str) -> list[str]:
    i = t.instances

    async def work(conn: AsyncConnection) -> list[str]:
        query = select(i.c.uuid).where(i.c.deleted == 0, i.c.host.in_([host]))
        return [r[0] for r in await conn.execute(query)]

    return await call.db.run(work)
