"""The statements behind Instance.save: nova's `_instance_update` compare-and-set, the
in-place metadata / system_metadata rewrite, and `instance_extra_update_by_uuid`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aioconductor.context import RequestContext
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.errors import (
    InstanceNotFound,
    InstanceUpdateConflict,
    UnexpectedDeletingTaskStateError,
    UnexpectedTaskStateError,
    UnknownInstanceUpdateConflict,
)
from aioconductor.objects._instance_load import is_user_context
from aioconductor.objects.primitives import utcnow

_DELETED = {"no": " AND deleted = 0", "only": " AND deleted != 0"}


def _scope(ctx: RequestContext) -> tuple[str, list[Any]]:
    """model_query(project_only=True) with the context's read_deleted."""
    sql = _DELETED.get(ctx.read_deleted, "")
    if is_user_context(ctx):
        return f"{sql} AND project_id = %s", [ctx.project_id]
    return sql, []


async def current_states(conn: AsyncConnection, ctx: RequestContext, uuid: str) -> dict[str, Any]:
    """The states of the row (Instance.destroy's check); InstanceNotFound if absent."""
    scope, args = _scope(ctx)
    row = await raw.fetch_one(
        conn,
        "SELECT id, task_state, vm_state, updated_at FROM instances "
        f"WHERE uuid = %s{scope} LIMIT 1",
        (uuid, *args),
    )
    if row is None:
        raise InstanceNotFound(instance_id=uuid)
    return row


async def compare_and_set(
    conn: AsyncConnection,
    ctx: RequestContext,
    uuid: str,
    values: Mapping[str, Any],
    expected: Mapping[str, list[Any]],
    original: Mapping[str, Any],
) -> None:
    """oslo.db's update_on_match: UPDATE only while the expected states hold, else nova's
    conflict errors built from the row read before."""
    sets = {"updated_at": utcnow(), **values}  # the column's onupdate, unless given
    where, args = _scope(ctx)
    for field, allowed in expected.items():
        parts = []
        if None in allowed:
            parts.append(f"{field} IS NULL")
        concrete = [v for v in allowed if v is not None]
        if concrete:
            parts.append(f"{field} IN ({raw.marks(len(concrete))})")
            args += concrete
        where += f" AND ({' OR '.join(parts) or '0 = 1'})"
    matched = await raw.update_row(conn, "instances", sets, f"uuid = %s{where}", (uuid, *args))
    if matched:
        return
    conflicts_expected = {}
    conflicts_actual = {}
    for field, allowed in expected.items():
        if original[field] not in allowed:
            conflicts_expected[field] = allowed
            conflicts_actual[field] = original[field]
    props: dict[str, Any] = {
        "instance_uuid": uuid,
        "expected": conflicts_expected,
        "actual": conflicts_actual,
    }
    if not conflicts_actual:
        raise UnknownInstanceUpdateConflict(**props)
    if "task_state" in conflicts_actual:
        if conflicts_actual["task_state"] == "deleting":
            raise UnexpectedDeletingTaskStateError(**props)
        raise UnexpectedTaskStateError(**props)
    raise InstanceUpdateConflict(**props)


async def rewrite_metadata(
    conn: AsyncConnection,
    uuid: str,
    table: str,
    stored: Sequence[Mapping[str, Any]],
    wanted: Mapping[str, Any],
) -> None:
    """`_instance_metadata_update_in_place` over the rows read earlier in this transaction
    (live ones for metadata, all for system_metadata): changed values updated, missing keys
    deleted (soft for metadata, hard for system_metadata), new keys inserted, all of them
    in one multi-row INSERT where nova's flush sends one per row."""
    system = table == "instance_system_metadata"
    now = utcnow()
    remaining = dict(wanted)
    for row in stored:
        key = row["key"]
        if key in remaining:
            value = remaining.pop(key)
            if value != row["value"]:
                await raw.execute(
                    conn,
                    f"UPDATE {table} SET value = %s, updated_at = %s WHERE id = %s",
                    (value, now, row["id"]),
                )
        elif system:
            await raw.execute(conn, f"DELETE FROM {table} WHERE id = %s", (row["id"],))
        else:
            await raw.execute(
                conn,
                f"UPDATE {table} SET deleted = id, deleted_at = %s, updated_at = %s WHERE id = %s",
                (now, now, row["id"]),
            )
    if remaining:
        rows = ", ".join(["(%s, %s, %s, %s, 0)"] * len(remaining))
        args = [v for key, value in remaining.items() for v in (key, value, uuid, now)]
        await raw.execute(
            conn,
            f"INSERT INTO {table} (`key`, value, instance_uuid, created_at, deleted) VALUES {rows}",
            args,
        )


async def update_extra(
    conn: AsyncConnection, ctx: RequestContext, uuid: str, values: Mapping[str, Any]
) -> None:
    """`instance_extra_update_by_uuid`: update, or create the row when there is none."""
    now = utcnow()
    sets = {**values, "updated_at": now}
    where = f"instance_uuid = %s{_DELETED.get(ctx.read_deleted, '')}"
    matched = await raw.update_row(conn, "instance_extra", sets, where, (uuid,))
    if matched:
        return
    created = {**values, "instance_uuid": uuid, "created_at": now, "deleted": 0}
    await raw.insert_row(conn, "instance_extra", created)
