"""InstanceList: get_by_host, get_by_host_and_node (update_available_resource, power sync,
scheduler sync), get_uuids_by_host and get_by_filters (the periodic tasks' filters)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from aioconductor.conductor.endpoints import not_native
from aioconductor.db.connection import AsyncConnection
from aioconductor.objects import _instance_tables as t
from aioconductor.objects._instance_build import (
    INSTANCE_LIST_VERSION,
    UnsupportedStoredValue,
    build_instance,
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
    i = t.instances
    query = instance_select(
        call.ctx, attrs, project_only=False, info_cache="info_cache" in attrs
    ).where(i.c.host == host)
    if node is not None:
        query = query.where(i.c.node == node)
    return await _load_list(call, attrs, query)


async def _load_list(call: ClassCall, attrs: set[str], query: Any) -> Primitive:
    """Run an instance_select query, load the children, build the InstanceList."""

    async def work(conn: AsyncConnection) -> list[Any]:
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
    return _list_primitive(objs)


def _list_primitive(objs: list[Primitive]) -> Primitive:
    data = {"objects": objs}
    # obj_reset_changes() on the list; a nested change still shows as 'objects' changed.
    # build_instance already lists each instance's changed children as its own changes, so
    # the instances need no second walk down to their flavors' fields.
    changes = {"objects"} if any("nova_object.changes" in obj for obj in objs) else None
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


# --- get_by_filters -------------------------------------------------------------------------

# instance_get_all_by_filters_sort's exact-match keys (metadata/system_metadata aside)
_EXACT_FILTERS = ("project_id", "user_id", "image_ref", "vm_state", "instance_type_id", "uuid",
                  "host", "task_state", "locked")  # fmt: skip
_UNSERVED_FILTERS = ("metadata", "system_metadata", "tags", "tags-any", "not-tags",
                     "not-tags-any", "changes-since", "changes-before")  # fmt: skip


def _filter_clauses(call: ClassCall, given: dict[str, Any]) -> list[Any] | None:
    """nova's filter semantics as WHERE clauses; None when an empty IN() short-circuits."""
    i = t.instances
    filters = dict(given)
    served = [k for k in _UNSERVED_FILTERS if filters.get(k)]
    if served:
        raise not_native(f"InstanceList.get_by_filters with {', '.join(served)}")
    clauses: list[Any] = []
    if "deleted" in filters:
        if filters.pop("deleted"):
            if filters.pop("soft_deleted", True):
                clauses.append(or_(i.c.deleted == i.c.id, i.c.vm_state == "soft-delete"))
            else:
                clauses.append(i.c.deleted == i.c.id)
        else:
            clauses.append(i.c.deleted == 0)
            if not filters.pop("soft_deleted", False):
                clauses.append(or_(i.c.vm_state != "soft-delete", i.c.vm_state.is_(None)))
    if "cleaned" in filters:
        clauses.append(i.c.cleaned == (1 if filters.pop("cleaned") else 0))
    ctx = call.ctx
    if not ctx.is_admin:
        if ctx.project_id:
            filters["project_id"] = ctx.project_id
        else:
            filters["user_id"] = ctx.user_id
    if filters.pop("hidden", False):
        clauses.append(i.c.hidden == 1)
    else:
        clauses.append(or_(i.c.hidden == 0, i.c.hidden.is_(None)))
    for key in _EXACT_FILTERS:
        if key not in filters:
            continue
        value = filters.pop(key)
        if isinstance(value, list | tuple | set | frozenset):
            if not value:
                return None
            clauses.append(i.c[key].in_(list(value)))
        elif value is None:
            clauses.append(i.c[key].is_(None))
        else:
            clauses.append(i.c[key] == value)
    regex = [k for k in filters if k in t.INSTANCE_COLUMNS]
    if regex:  # the rest would be REGEXP matches; keys that are no column are ignored
        raise not_native(f"InstanceList.get_by_filters with regex filters {regex}")
    return clauses


@remotable_classmethod("InstanceList", "get_by_filters")
async def get_by_filters(
    call: ClassCall,
    filters: dict[str, Any],
    sort_key: str = "created_at",
    sort_dir: str = "desc",
    limit: int | None = None,
    marker: str | None = None,
    expected_attrs: list[str] | None = None,
    use_slave: bool = False,
    sort_keys: list[str] | None = None,
    sort_dirs: list[str] | None = None,
) -> Primitive:
    attrs = _prepare(call, "InstanceList.get_by_filters", expected_attrs)
    if sort_keys or sort_dirs or marker is not None:
        raise not_native("InstanceList.get_by_filters with sort_keys or a marker")
    if (sort_key, sort_dir) != ("created_at", "desc"):
        raise not_native(f"InstanceList.get_by_filters sorted by {sort_key} {sort_dir}")
    if limit == 0:
        return _list_primitive([])
    clauses = _filter_clauses(call, filters or {})
    if clauses is None:
        return _list_primitive([])
    i = t.instances
    # nova queries the session directly here: no read_deleted, no project scoping
    query = (
        instance_select(
            call.ctx,
            attrs,
            project_only=False,
            read_deleted="yes",
            info_cache="info_cache" in attrs,
        )
        .where(*clauses)
        .order_by(i.c.created_at.desc(), i.c.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return await _load_list(call, attrs, query)
