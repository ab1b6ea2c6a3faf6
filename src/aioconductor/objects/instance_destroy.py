"""Instance.destroy: the last call of every delete; soft-deletes the instance and its children.

nova's `instance_destroy`: the instance row is read (project-scoped, InstanceNotFound), soft
deleted under the host constraint (no host on the object means the row must have none
either), then every child table is soft deleted and tags and console tokens hard deleted,
all in one transaction.
"""

from __future__ import annotations

from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.errors import InstanceNotFound, ObjectActionError
from aioconductor.objects import _instance_tables as t
from aioconductor.objects._instance_build import INSTANCE_VERSION, base_fields, changed_children
from aioconductor.objects._instance_save_sql import current_states
from aioconductor.objects.primitives import is_object, utcnow
from aioconductor.objects.registry import InstanceCall, remotable

# soft-deleted with the instance, keyed by instance_uuid (instance_id_mappings by uuid)
CHILD_TABLES = (
    "security_group_instance_association", "instance_info_caches", "instance_metadata",
    "instance_faults", "instance_extra", "instance_system_metadata", "block_device_mapping",
    "migrations", "virtual_interfaces",
)  # fmt: skip
_DELETED = {"no": " AND deleted = 0", "only": " AND deleted != 0"}
_SELECT = f"SELECT {', '.join(t.INSTANCE_COLUMNS)} FROM instances WHERE uuid = %s LIMIT 1"


@remotable("Instance", "destroy")
async def destroy(call: InstanceCall, hard_delete: bool = False) -> None:
    obj = call.obj
    if obj.version != INSTANCE_VERSION:
        raise not_native(f"Instance.destroy at Instance {obj.version}")
    if hard_delete:
        raise not_native("Instance.destroy(hard_delete=True)")
    data = obj.data
    if "id" not in data:
        raise ObjectActionError(action="destroy", reason="already destroyed")
    if "uuid" not in data:
        raise ObjectActionError(action="destroy", reason="no uuid")
    uuid = data["uuid"]
    ctx = call.ctx
    deleted = _DELETED.get(ctx.read_deleted, "")
    host_constraint = "" if data.get("host") else " AND host IS NULL"

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        await current_states(conn, ctx, uuid)  # InstanceNotFound, project-scoped
        now = utcnow()
        matched = await raw.execute(
            conn,
            "UPDATE instances SET deleted = id, deleted_at = %s "
            f"WHERE uuid = %s{deleted}{host_constraint}",
            (now, uuid),
        )
        if not matched:
            await current_states(conn, ctx, uuid)
            raise ObjectActionError(action="destroy", reason="host changed")
        for table in CHILD_TABLES:
            await raw.execute(
                conn,
                f"UPDATE {table} SET deleted = id, deleted_at = %s "
                f"WHERE instance_uuid = %s{deleted}",
                (now, uuid),
            )
        await raw.execute(
            conn,
            "UPDATE instance_id_mappings SET deleted = id, deleted_at = %s "
            f"WHERE uuid = %s{deleted}",
            (now, uuid),
        )
        await raw.execute(conn, "DELETE FROM tags WHERE resource_id = %s", (uuid,))
        await raw.execute(conn, "DELETE FROM console_auth_tokens WHERE instance_uuid = %s", (uuid,))
        row = await raw.fetch_one(conn, _SELECT, (uuid,))
        if row is None:  # only a concurrent hard delete could do this
            raise InstanceNotFound(instance_id=uuid)
        return row

    fresh = base_fields(await call.db.run(work))
    # _from_db_object(no expected attrs) then `del instance.id`: the caller keeps its id
    fresh.pop("id", None)
    for name, value in fresh.items():
        if data.get(name) != value:
            call.set_field(name, value)
    for name, value in list(data.items()):
        if is_object(value) and name not in call.updates:
            call.set_field(name, value)  # compared by identity in nova's conductor
    call.reset_changes()
    obj.changes.update(changed_children(data))
