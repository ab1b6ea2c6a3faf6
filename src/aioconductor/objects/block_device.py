"""BlockDeviceMapping.save and BlockDeviceMappingList.get_by_instance_uuid(s).

Three BDM list reads and two saves per boot, and `get_by_instance_uuids` every minute from
each libvirt host: the statements run raw on the driver (db/raw.py), with the same WHERE
clauses as nova's queries (no ORDER BY either, so rows come back in the same order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.errors import BDMNotFound, ObjectActionError
from aioconductor.objects import primitives as p
from aioconductor.objects.registry import ClassCall, InstanceCall, remotable, remotable_classmethod

BDM_VERSION = "1.21"
BDM_LIST_VERSION = "1.18"
COLUMNS = (
    "id", "uuid", "instance_uuid", "source_type", "destination_type", "guest_format",
    "device_type", "disk_bus", "boot_index", "device_name", "delete_on_termination",
    "snapshot_id", "volume_id", "volume_size", "image_id", "no_device", "connection_info",
    "tag", "attachment_id", "volume_type", "encrypted", "encryption_secret_uuid",
    "encryption_format", "encryption_options", "created_at", "updated_at", "deleted_at",
    "deleted",
)  # fmt: skip
_BOOLEANS = {"delete_on_termination", "no_device", "encrypted", "deleted"}
# BooleanField(default=False), not nullable: a NULL column reads as False in nova
_DEFAULT_FALSE = ("delete_on_termination", "no_device", "encrypted")
_DATETIMES = {"created_at", "updated_at", "deleted_at"}
_WRITABLE = frozenset(COLUMNS) - {"id"}
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM block_device_mapping"


def _deleted(ctx: RequestContext) -> str:
    return {"no": " AND deleted = 0", "only": " AND deleted != 0"}.get(ctx.read_deleted, "")


def bdm_data(row: dict[str, Any]) -> dict[str, Any]:
    """BlockDeviceMapping._from_db_object without the optional `instance`."""
    if not row["uuid"]:
        # nova would give the old row a uuid in its own transaction first
        raise not_native("BlockDeviceMapping without a uuid (populate_uuids)")
    data = p.row_fields(row, COLUMNS, booleans=_BOOLEANS)
    for name in _DEFAULT_FALSE:
        if data.get(name) is None:
            data[name] = False  # a non-nullable field set to None takes its default
    return data


def _check_versions(call: ClassCall) -> None:
    if call.version_of("BlockDeviceMappingList") != BDM_LIST_VERSION:
        raise not_native(f"BlockDeviceMappingList {call.version_of('BlockDeviceMappingList')}")
    if call.version_of("BlockDeviceMapping") != BDM_VERSION:
        raise not_native(f"BlockDeviceMapping {call.version_of('BlockDeviceMapping')}")


def _bdm_list(rows: Sequence[dict[str, Any]]) -> p.Primitive:
    objects = [p.make("BlockDeviceMapping", BDM_VERSION, bdm_data(row)) for row in rows]
    return p.make_list("BlockDeviceMappingList", BDM_LIST_VERSION, objects)


async def instance_rows(call: ClassCall, instance_uuid: str) -> list[dict[str, Any]]:
    """`db.block_device_mapping_get_all_by_instance`: the rows, in the database's order."""
    sql = f"{_SELECT} WHERE instance_uuid = %s{_deleted(call.ctx)}"
    return await call.db.fetch_all(sql, (instance_uuid,))


@remotable_classmethod("BlockDeviceMappingList", "get_by_instance_uuid")
async def get_by_instance_uuid(
    call: ClassCall, instance_uuid: str, use_slave: bool = False
) -> p.Primitive:
    _check_versions(call)
    return _bdm_list(await instance_rows(call, instance_uuid))


@remotable_classmethod("BlockDeviceMappingList", "get_by_instance_uuids")
async def get_by_instance_uuids(
    call: ClassCall, instance_uuids: list[str], use_slave: bool = False
) -> p.Primitive:
    _check_versions(call)
    uuids = list(instance_uuids or [])
    if not uuids:
        return _bdm_list([])
    sql = f"{_SELECT} WHERE instance_uuid IN ({raw.marks(len(uuids))}){_deleted(call.ctx)}"
    rows = await call.db.fetch_all(sql, uuids)
    return _bdm_list(rows)


@remotable("BlockDeviceMapping", "save")
async def save(call: InstanceCall) -> None:
    obj = call.obj
    if obj.version != BDM_VERSION:
        raise not_native(f"BlockDeviceMapping.save at {obj.version}")
    changes = {name for name in obj.changes if name in obj.data}
    if "instance" in changes:
        raise ObjectActionError(action="save", reason="instance changed")
    if "id" not in obj.data:
        raise not_native("BlockDeviceMapping.save without an id")  # nova: lazy-load error
    values = {
        name: p.dt_from_wire(obj.data[name]) if name in _DATETIMES else obj.data[name]
        for name in sorted(changes & _WRITABLE)
    }
    if values.get("volume_size") == "":
        del values["volume_size"]  # _scrub_empty_str_values
    bdm_id = obj.data["id"]
    deleted = _deleted(call.ctx)

    async def work(conn: AsyncConnection) -> dict[str, Any] | None:
        if values:
            stamped = {**values}
            stamped.setdefault("updated_at", p.utcnow())  # the column's onupdate
            where = f"id = %s{deleted}"
            await raw.update_row(conn, "block_device_mapping", stamped, where, (bdm_id,))
        return await raw.fetch_one(conn, f"{_SELECT} WHERE id = %s{deleted} LIMIT 1", (bdm_id,))

    row = await call.db.run(work)
    if row is None:
        raise BDMNotFound(id=bdm_id)
    call.load_row(bdm_data(row))
