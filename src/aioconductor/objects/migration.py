"""MigrationList reads from the resource tracker (every minute per node), from start-up and
the incomplete-migration cleanup, and from the anti-affinity check of a build in a server
group (`get_in_progress_by_host_and_node`)."""

from __future__ import annotations

from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.db import raw
from aioconductor.objects import primitives as p
from aioconductor.objects.registry import ClassCall, remotable_classmethod

MIGRATION_VERSION = "1.8"
MIGRATION_LIST_VERSION = "1.5"
COLUMNS = (
    "id", "uuid", "source_compute", "dest_compute", "source_node", "dest_node",
    "dest_compute_id", "dest_host", "old_instance_type_id", "new_instance_type_id",
    "instance_uuid", "status", "migration_type", "hidden", "memory_total", "memory_processed",
    "memory_remaining", "disk_total", "disk_processed", "disk_remaining", "cross_cell_move",
    "user_id", "project_id", "created_at", "updated_at", "deleted_at", "deleted",
)  # fmt: skip
_BOOLEANS = {"hidden", "cross_cell_move", "deleted"}
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM migrations"
_FINISHED = ("confirmed", "reverted", "failed", "completed", "cancelled", "done")
# get_in_progress_by_host_and_node leaves failed ones out too
_FINISHED_OR_ERROR = (*_FINISHED, "error")
# get_by_filters keys that take a plain equality; nova ignores keys it does not know
_EQUAL_FILTERS = ("migration_type", "hidden", "instance_uuid", "user_id", "project_id")


def _deleted(ctx: RequestContext) -> str:
    return {"no": " AND deleted = 0", "only": " AND deleted != 0"}.get(ctx.read_deleted, "")


def migration_data(row: dict[str, Any]) -> dict[str, Any]:
    """Migration._from_db_object (a row without a uuid is not ours to fix: nova writes one)."""
    if row["uuid"] is None:
        raise not_native("Migration without a uuid (nova would generate and save one)")
    data = p.row_fields(row, COLUMNS, booleans=_BOOLEANS)
    if data["migration_type"] is None:
        same = row["old_instance_type_id"] == row["new_instance_type_id"]
        data["migration_type"] = "migration" if same else "resize"
    return data


def _check(call: ClassCall) -> None:
    for objname, version in (("MigrationList", MIGRATION_LIST_VERSION),
                             ("Migration", MIGRATION_VERSION)):  # fmt: skip
        if call.version_of(objname) != version:
            raise not_native(f"{objname} {call.version_of(objname)}")


def _migration_list(rows: list[dict[str, Any]]) -> p.Primitive:
    objects = [p.make("Migration", MIGRATION_VERSION, migration_data(row)) for row in rows]
    return p.make_list("MigrationList", MIGRATION_LIST_VERSION, objects)


async def _on_host_and_node(
    call: ClassCall, host: str, node: str, finished: tuple[str, ...]
) -> p.Primitive:
    _check(call)
    # nova's `~status.in_(...)` is `status NOT IN (...)`: NULL statuses are left out too
    sql = (
        f"{_SELECT} WHERE ((source_compute = %s AND source_node = %s) OR "
        f"(dest_compute = %s AND dest_node = %s)) AND status NOT IN ({raw.marks(len(finished))})"
        f"{_deleted(call.ctx)}"
    )
    args = (host, node, host, node, *finished)
    return _migration_list(await call.db.fetch_all(sql, args))


@remotable_classmethod("MigrationList", "get_in_progress_and_error")
async def get_in_progress_and_error(call: ClassCall, host: str, node: str) -> p.Primitive:
    return await _on_host_and_node(call, host, node, _FINISHED)


@remotable_classmethod("MigrationList", "get_in_progress_by_host_and_node")
async def get_in_progress_by_host_and_node(call: ClassCall, host: str, node: str) -> p.Primitive:
    return await _on_host_and_node(call, host, node, _FINISHED_OR_ERROR)


@remotable_classmethod("MigrationList", "get_by_filters")
async def get_by_filters(
    call: ClassCall,
    filters: dict[str, Any],
    sort_keys: list[str] | None = None,
    sort_dirs: list[str] | None = None,
    limit: int | None = None,
    marker: str | None = None,
) -> p.Primitive:
    _check(call)
    if limit == 0:
        return _migration_list([])
    if limit or marker or sort_keys or sort_dirs:
        raise not_native("MigrationList.get_by_filters with paging or sorting")
    if filters.get("changes-since") or filters.get("changes-before"):
        raise not_native("MigrationList.get_by_filters with changes-since/before")
    where: list[str] = []
    args: list[Any] = []

    def one_of(column: str, value: Any) -> None:
        values = [value] if isinstance(value, str) else list(value)
        if not values:
            where.append("0 = 1")  # IN () matches nothing
            return
        where.append(f"{column} IN ({raw.marks(len(values))})")
        args.extend(values)

    if "uuid" in filters:
        one_of("uuid", filters["uuid"])
    if "status" in filters:
        one_of("status", filters["status"])
    if "host" in filters:
        where.append("(source_compute = %s OR dest_compute = %s)")
        args += [filters["host"], filters["host"]]
    elif "source_compute" in filters:
        where.append("source_compute = %s")
        args.append(filters["source_compute"])
    if "node" in filters:
        where.append("(source_node = %s OR dest_node = %s)")
        args += [filters["node"], filters["node"]]
    for name in _EQUAL_FILTERS:
        if name in filters:
            where.append(f"{name} <=> %s")  # nova's `== None` is IS NULL
            args.append(filters[name])
    sql = f"{_SELECT} WHERE 1 = 1{''.join(f' AND {w}' for w in where)}{_deleted(call.ctx)}"
    return _migration_list(await call.db.fetch_all(sql, args))
