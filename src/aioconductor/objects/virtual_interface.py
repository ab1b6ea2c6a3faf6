"""VirtualInterface create / delete_by_instance_uuid and VirtualInterfaceList.get_by_instance_uuid:
one VIF per port at boot, the list for libvirt's device metadata, the delete at teardown."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError

from aioconductor.conductor.endpoints import not_native
from aioconductor.errors import ObjectActionError, VirtualInterfaceCreateException
from aioconductor.objects import primitives as p
from aioconductor.objects.registry import ClassCall, InstanceCall, remotable, remotable_classmethod

VIF_VERSION = "1.3"
VIF_LIST_VERSION = "1.0"
COLUMNS = ("id", "address", "network_id", "instance_uuid", "uuid", "tag",
            "created_at", "updated_at", "deleted_at", "deleted")  # fmt: skip
_DATETIMES = {"created_at", "updated_at", "deleted_at"}
_WRITABLE = frozenset(COLUMNS) - {"id"}


def vif_data(row: dict[str, Any]) -> dict[str, Any]:
    """VirtualInterface._from_db_object: an empty network_id stays unset, no /suffix."""
    data: dict[str, Any] = {}
    for name in COLUMNS:
        value = row[name]
        if name == "network_id" and not value:
            continue
        if name in _DATETIMES:
            value = p.dt_to_wire(value)
        elif name == "deleted":
            value = bool(value)
        elif name == "address" and value and "/" in value:
            value = value.split("/", 1)[0]
        data[name] = value
    return data


@remotable("VirtualInterface", "create")
async def create(call: InstanceCall) -> None:
    obj = call.obj
    if obj.version != VIF_VERSION:
        raise not_native(f"VirtualInterface.create at {obj.version}")
    if "id" in obj.data:
        raise ObjectActionError(action="create", reason="already created")
    values: dict[str, Any] = {
        name: p.dt_from_wire(obj.data[name]) if name in _DATETIMES else obj.data[name]
        for name in sorted(obj.changes & _WRITABLE)
        if name in obj.data
    }
    values.setdefault("created_at", p.utcnow())
    values.setdefault("deleted", 0)

    try:
        vif_id = await call.db.insert_row("virtual_interfaces", values)
    except DBAPIError:  # e.g. a duplicate address: nova logs it and raises this
        raise VirtualInterfaceCreateException() from None
    row: dict[str, Any] = {**dict.fromkeys(COLUMNS), **values, "id": vif_id}
    call.load_row(vif_data(row))


@remotable_classmethod("VirtualInterface", "delete_by_instance_uuid")
async def delete_by_instance_uuid(call: ClassCall, instance_uuid: str) -> None:
    now = p.utcnow()
    # oslo.db soft_delete: deleted = id, updated_at left as it was
    sql = (
        "UPDATE virtual_interfaces SET deleted = id, deleted_at = %s "
        "WHERE instance_uuid = %s AND deleted = 0"
    )
    await call.db.execute(sql, (now, instance_uuid))


@remotable_classmethod("VirtualInterfaceList", "get_by_instance_uuid")
async def get_by_instance_uuid(
    call: ClassCall, instance_uuid: str, use_slave: bool = False
) -> p.Primitive:
    for objname, version in (("VirtualInterfaceList", VIF_LIST_VERSION),
                             ("VirtualInterface", VIF_VERSION)):  # fmt: skip
        if call.version_of(objname) != version:
            raise not_native(f"{objname} {call.version_of(objname)}")
    sql = (
        f"SELECT {', '.join(COLUMNS)} FROM virtual_interfaces "
        "WHERE instance_uuid = %s AND deleted = 0 ORDER BY created_at ASC, id ASC"
    )
    rows = await call.db.fetch_all(sql, (instance_uuid,))
    objects = [p.make("VirtualInterface", VIF_VERSION, vif_data(row)) for row in rows]
    return p.make_list("VirtualInterfaceList", VIF_LIST_VERSION, objects)
