"""The per-instance lists a libvirt spawn and a delete read: ShareMappingList, PciDeviceList,
ResourceList; plus PciDeviceList.get_by_compute_node (PCI tracker start-up)."""

from __future__ import annotations

import json
from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.objects import primitives as p
from aioconductor.objects.registry import ClassCall, remotable_classmethod

_TIMESTAMPS = ("created_at", "updated_at")
_PERSISTENT = (*_TIMESTAMPS, "deleted_at", "deleted")


def _deleted(ctx: RequestContext) -> str:
    return {"no": " AND deleted = 0", "only": " AND deleted != 0"}.get(ctx.read_deleted, "")


def _check(call: ClassCall, *pairs: tuple[str, str]) -> None:
    for objname, version in pairs:
        if call.version_of(objname) != version:
            raise not_native(f"{objname} {call.version_of(objname)}")


def _wire(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    data = p.row_fields(row, names)
    if "deleted" in data:
        data["deleted"] = bool(row["deleted"])
    return data


# --- ShareMappingList -----------------------------------------------------------------------

SHARE_VERSION = "1.2"
SHARE_LIST_VERSION = "1.1"
# access_type / access_to / access_key are ephemeral: never read from the table
SHARE_COLUMNS = ("id", "uuid", "instance_uuid", "share_id", "status", "tag",
                  "export_location", "share_proto", *_TIMESTAMPS)  # fmt: skip


async def share_mapping_rows(call: ClassCall, instance_uuid: str) -> list[dict[str, Any]]:
    """`db.share_mapping_get_by_instance_uuid`: the rows, in the database's order."""
    # share_mapping has no soft delete: nova's query has no deleted filter either
    sql = f"SELECT {', '.join(SHARE_COLUMNS)} FROM share_mapping WHERE instance_uuid = %s"
    return await call.db.fetch_all(sql, (instance_uuid,))


@remotable_classmethod("ShareMappingList", "get_by_instance_uuid")
async def share_mappings_by_instance(call: ClassCall, instance_uuid: str) -> p.Primitive:
    _check(call, ("ShareMappingList", SHARE_LIST_VERSION), ("ShareMapping", SHARE_VERSION))
    rows = await share_mapping_rows(call, instance_uuid)
    objects = [p.make("ShareMapping", SHARE_VERSION, _wire(r, SHARE_COLUMNS)) for r in rows]
    return p.make_list("ShareMappingList", SHARE_LIST_VERSION, objects)


# --- PciDeviceList --------------------------------------------------------------------------

PCI_VERSION = "1.7"
PCI_LIST_VERSION = "1.3"
PCI_COLUMNS = ("id", "uuid", "compute_node_id", "address", "vendor_id", "product_id",
                "dev_type", "status", "dev_id", "label", "instance_uuid", "request_id",
                "extra_info", "numa_node", "parent_addr", *_PERSISTENT)  # fmt: skip
_PCI_SELECT = f"SELECT {', '.join(PCI_COLUMNS)} FROM pci_devices"


def _pci_list(rows: list[dict[str, Any]]) -> p.Primitive:
    objects = []
    for row in rows:
        if row["uuid"] is None:  # nova would write a new uuid first (populate_dev_uuids)
            raise not_native("PciDevice without a uuid")
        data = _wire(row, PCI_COLUMNS)
        data["extra_info"] = json.loads(row["extra_info"])
        objects.append(p.make("PciDevice", PCI_VERSION, data))
    return p.make_list("PciDeviceList", PCI_LIST_VERSION, objects)


@remotable_classmethod("PciDeviceList", "get_by_compute_node")
async def pci_devices_by_node(call: ClassCall, node_id: int) -> p.Primitive:
    _check(call, ("PciDeviceList", PCI_LIST_VERSION), ("PciDevice", PCI_VERSION))
    sql = f"{_PCI_SELECT} WHERE compute_node_id = %s{_deleted(call.ctx)}"
    return _pci_list(await call.db.fetch_all(sql, (node_id,)))


@remotable_classmethod("PciDeviceList", "get_by_instance_uuid")
async def pci_devices_by_instance(call: ClassCall, uuid: str) -> p.Primitive:
    _check(call, ("PciDeviceList", PCI_LIST_VERSION), ("PciDevice", PCI_VERSION))
    sql = f"{_PCI_SELECT} WHERE status = 'allocated' AND instance_uuid = %s{_deleted(call.ctx)}"
    return _pci_list(await call.db.fetch_all(sql, (uuid,)))


# --- ResourceList ---------------------------------------------------------------------------

RESOURCE_LIST_VERSION = "1.0"


@remotable_classmethod("ResourceList", "get_by_instance_uuid")
async def resources_by_instance(call: ClassCall, instance_uuid: str) -> p.Primitive | None:
    _check(call, ("ResourceList", RESOURCE_LIST_VERSION), ("Resource", "1.0"))
    sql = f"SELECT resources FROM instance_extra WHERE instance_uuid = %s{_deleted(call.ctx)}"
    row = await call.db.fetch_one(sql, (instance_uuid,))
    if row is None or row["resources"] is None:
        return None
    stored: p.Primitive = json.loads(row["resources"])
    # the column holds the list's own primitive; sent back as stored when it is ours
    if stored.get("nova_object.version") != RESOURCE_LIST_VERSION or any(
        o.get("nova_object.version") != "1.0" for o in stored["nova_object.data"]["objects"]
    ):
        raise not_native("ResourceList stored at another version")
    return stored
