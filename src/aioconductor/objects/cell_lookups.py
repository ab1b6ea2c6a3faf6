"""HostMapping.get_by_host and InstanceMapping.get_by_instance_uuid, on the API database:
which cell a compute host or an instance lives in. Both carry their CellMapping, read in
the same statement as nova's joinedload reads it.
"""

from __future__ import annotations

from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.errors import HostMappingNotFound, InstanceMappingNotFound
from aioconductor.objects import primitives as p
from aioconductor.objects.cell_mapping import (
    cell_primitive,
    cell_version,
    joined_columns,
    row_as,
)
from aioconductor.objects.registry import ClassCall, remotable_classmethod

HOST_MAPPING_VERSION = "1.0"
INSTANCE_MAPPING_VERSION = "1.2"
_CELL = joined_columns("c", "cell_")
_HOST_SQL = (
    f"SELECT h.id, h.host, h.created_at, h.updated_at, {_CELL} FROM host_mappings h "
    "LEFT OUTER JOIN cell_mappings c ON c.id = h.cell_id WHERE h.host = %s LIMIT 1"
)
_INSTANCE_COLUMNS = ("id", "instance_uuid", "project_id", "user_id", "queued_for_delete",
                     "created_at", "updated_at")  # fmt: skip
_INSTANCE_SQL = (
    f"SELECT {', '.join(f'm.{c}' for c in _INSTANCE_COLUMNS)}, {_CELL} "
    "FROM instance_mappings m LEFT OUTER JOIN cell_mappings c ON c.id = m.cell_id "
    "WHERE m.instance_uuid = %s LIMIT 1"
)


def _cell(call: ClassCall, row: dict[str, Any]) -> p.Primitive | None:
    if row["cell_id"] is None:
        return None
    return cell_primitive(call, row_as(row, "cell_"), cell_version(call))


@remotable_classmethod("HostMapping", "get_by_host", database="api")
async def get_by_host(call: ClassCall, host: str) -> p.Primitive:
    if call.version_of("HostMapping") != HOST_MAPPING_VERSION:
        raise not_native(f"HostMapping {call.version_of('HostMapping')}")
    row = await call.db.fetch_one(_HOST_SQL, (host,))
    if row is None:
        raise HostMappingNotFound(name=host)
    data = p.row_fields(row, ("id", "host", "created_at", "updated_at"))
    data["cell_mapping"] = _cell(call, row)  # cell_id is NOT NULL with a foreign key
    return p.make("HostMapping", HOST_MAPPING_VERSION, data)


@remotable_classmethod("InstanceMapping", "get_by_instance_uuid", database="api")
async def get_by_instance_uuid(call: ClassCall, instance_uuid: str) -> p.Primitive:
    version = call.version_of("InstanceMapping")
    if version != INSTANCE_MAPPING_VERSION:
        raise not_native(f"InstanceMapping {version}")
    row = await call.db.fetch_one(_INSTANCE_SQL, (instance_uuid,))
    if row is None:
        raise InstanceMappingNotFound(uuid=instance_uuid)
    data = p.row_fields(row, _INSTANCE_COLUMNS, booleans=("queued_for_delete",))
    data["cell_mapping"] = _cell(call, row)  # None: not scheduled to a cell yet
    data["queued_for_delete"] = bool(data["queued_for_delete"])  # NULL: the default, False
    if data["user_id"] is None:
        del data["user_id"]  # nova leaves the non-nullable field unset
    return p.make("InstanceMapping", version, data)
