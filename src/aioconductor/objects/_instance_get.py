"""Instance.get_by_uuid as coroutines other handlers (refresh, save) reuse: the read of the
stored rows, and the primitive built from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.db.connection import AsyncConnection
from aioconductor.errors import InstanceNotFound
from aioconductor.objects._instance_build import (
    UNSUPPORTED_ATTRS,
    Children,
    UnsupportedStoredValue,
    build_instance,
)
from aioconductor.objects._instance_load import fetch_by_uuid, load_children
from aioconductor.objects.primitives import Primitive


def check_attrs(attrs: Iterable[str], what: str) -> set[str]:
    wanted = set(attrs)
    unsupported = wanted & UNSUPPORTED_ATTRS
    if unsupported:
        raise not_native(f"{what} with expected_attrs {sorted(unsupported)}")
    return wanted


@dataclass(slots=True)
class StoredInstance:
    """An instance row (with its info cache and extra columns when asked for) and children."""

    row: dict[str, Any]
    children: Children
    attrs: set[str]

    def build(self) -> Primitive:
        try:
            return build_instance(self.row, self.attrs, self.children, with_info_cache_join=True)
        except UnsupportedStoredValue as exc:
            raise not_native(f"Instance.get_by_uuid ({exc})") from None


async def read_instance(
    conn: AsyncConnection, ctx: RequestContext, uuid: str, expected_attrs: Iterable[str]
) -> StoredInstance:
    """`_instance_get_by_uuid` with its columns_to_join; InstanceNotFound when absent."""
    attrs = check_attrs(expected_attrs, "Instance.get_by_uuid")
    if "fault" in attrs:
        # nova joinedloads models.Instance.fault, which does not exist: AttributeError.
        raise not_native("Instance.get_by_uuid with expected_attrs ['fault']")
    row = await fetch_by_uuid(conn, ctx, uuid, attrs)
    if row is None:
        raise InstanceNotFound(instance_id=uuid)
    children = await load_children(conn, ctx, [uuid], attrs, list_semantics=False)
    return StoredInstance(row, children[uuid], attrs)


async def get_instance(
    conn: AsyncConnection, ctx: RequestContext, uuid: str, expected_attrs: Iterable[str]
) -> Primitive:
    return (await read_instance(conn, ctx, uuid, expected_attrs)).build()
