"""Instance.get_by_uuid as a coroutine other handlers (refresh, save) reuse."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.errors import InstanceNotFound
from aioconductor.objects import _instance_tables as t
from aioconductor.objects._instance_build import (
    UNSUPPORTED_ATTRS,
    UnsupportedStoredValue,
    build_instance,
)
from aioconductor.objects._instance_load import instance_select, load_children
from aioconductor.objects.primitives import Primitive


def check_attrs(attrs: Iterable[str], what: str) -> set[str]:
    wanted = set(attrs)
    unsupported = wanted & UNSUPPORTED_ATTRS
    if unsupported:
        raise not_native(f"{what} with expected_attrs {sorted(unsupported)}")
    return wanted


async def fetch_row(conn: AsyncConnection, ctx: RequestContext, uuid: str, attrs: set[str]) -> Any:
    """`_instance_get_by_uuid`: project-scoped, honours read_deleted; None when absent."""
    query = instance_select(ctx, attrs, project_only=True, info_cache="info_cache" in attrs).where(
        t.instances.c.uuid == uuid
    )
    result = await conn.execute(query.order_by(t.instances.c.id).limit(1))
    return result.mappings().first()


async def get_instance(
    conn: AsyncConnection, ctx: RequestContext, uuid: str, expected_attrs: Iterable[str]
) -> Primitive:
    attrs = check_attrs(expected_attrs, "Instance.get_by_uuid")
    if "fault" in attrs:
        # nova joinedloads models.Instance.fault, which does not exist: AttributeError.
        raise not_native("Instance.get_by_uuid with expected_attrs ['fault']")
    row = await fetch_row(conn, ctx, uuid, attrs)
    if row is None:
        raise InstanceNotFound(instance_id=uuid)
    children = await load_children(conn, ctx, [uuid], attrs, list_semantics=False)
    try:
        return build_instance(row, attrs, children[uuid], with_info_cache_join=True)
    except UnsupportedStoredValue as exc:
        raise not_native(f"Instance.get_by_uuid ({exc})") from None
