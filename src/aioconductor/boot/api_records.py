"""The boot path's API-database records: build requests, instance mappings and the
availability zone of a host (nova/objects/build_request.py, instance_mapping.py,
availability_zones.get_host_availability_zone)."""

from __future__ import annotations

import json
import logging
from typing import Any

from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.errors import InstanceMappingNotFound
from aioconductor.objects import cell_lookups
from aioconductor.objects import primitives as p
from aioconductor.objects.registry import ClassCall, UrlDefaults

log = logging.getLogger(__name__)

# the newest Instance a BuildRequest of nova 34 can load (an older minor is backported)
_INSTANCE_MAJOR, _INSTANCE_MINOR = 2, 8


async def build_request_exists(api_db: Database, ctx: RequestContext, uuid: str) -> bool:
    """BuildRequest.get_by_instance_uuid succeeds: the row is there and its instance loads
    (a NULL or too new instance is BuildRequestNotFound to nova too)."""
    row = await api_db.fetch_one(
        "SELECT instance FROM build_requests WHERE instance_uuid = %s LIMIT 1", (uuid,)
    )
    if row is None or row["instance"] is None:
        return False
    return _loadable(row["instance"])


def _loadable(text: str | bytes) -> bool:
    try:
        version = str(json.loads(text)["nova_object.version"])
        major, minor = (int(part) for part in version.split(".")[:2])
    except (ValueError, KeyError, TypeError):
        return True  # nova fails otherwise than with BuildRequestNotFound; not ours to guess
    return major == _INSTANCE_MAJOR and minor <= _INSTANCE_MINOR


async def destroy_build_request(api_db: Database, ctx: RequestContext, uuid: str) -> bool:
    """BuildRequest.destroy; False where nova raises BuildRequestNotFound (the user deleted
    the server meanwhile)."""
    deleted = await api_db.execute("DELETE FROM build_requests WHERE instance_uuid = %s", (uuid,))
    return deleted > 0


async def get_instance_mapping(
    api_db: Database,
    ctx: RequestContext,
    uuid: str,
    url_defaults: UrlDefaults | None = None,
) -> p.Primitive | None:
    """InstanceMapping.get_by_instance_uuid's primitive (its CellMapping's URL templates
    filled from `url_defaults`, as nova-conductor fills them), None for
    InstanceMappingNotFound."""
    call = ClassCall(ctx, api_db, "InstanceMapping", {}, url_defaults or UrlDefaults())
    try:
        return await cell_lookups.get_by_instance_uuid(call, uuid)
    except InstanceMappingNotFound:
        return None


async def map_instance_to_cell(
    api_db: Database, ctx: RequestContext, uuid: str, cell_mapping: p.Primitive
) -> None:
    """conductor `_map_instance_to_cell`: point the mapping at the cell (InstanceMapping
    .save of cell_mapping); InstanceMappingNotFound without a mapping."""
    cell_id = cell_mapping["nova_object.data"]["id"]
    row = await api_db.fetch_one(
        "SELECT m.id, m.cell_id, c.uuid AS cell_uuid FROM instance_mappings m "
        "LEFT OUTER JOIN cell_mappings c ON c.id = m.cell_id WHERE m.instance_uuid = %s "
        "LIMIT 1",
        (uuid,),
    )
    if row is None:
        raise InstanceMappingNotFound(uuid=uuid)
    if row["cell_id"] is not None:
        log.error(
            "During scheduling instance %s is already mapped to another cell: %s. This "
            "should not happen. Overwriting the mapping to point at cell %s.",
            uuid,
            row["cell_uuid"],
            cell_mapping["nova_object.data"].get("uuid"),
        )
    if row["cell_id"] == cell_id:
        return  # nothing changes: the ORM would write nothing (nor updated_at)
    await api_db.execute(
        "UPDATE instance_mappings SET cell_id = %s, updated_at = %s WHERE id = %s",
        (cell_id, p.utcnow(), row["id"]),
    )


async def destroy_instance_mapping(api_db: Database, ctx: RequestContext, uuid: str) -> None:
    """InstanceMapping.destroy; InstanceMappingNotFound when there is none."""
    deleted = await api_db.execute(
        "DELETE FROM instance_mappings WHERE instance_uuid = %s", (uuid,)
    )
    if not deleted:
        raise InstanceMappingNotFound(uuid=uuid)


async def host_availability_zone(
    api_db: Database, ctx: RequestContext, host: str, default_zone: str
) -> str:
    """availability_zones.get_host_availability_zone: the AZ of the first aggregate of the
    host that has one, else `[DEFAULT] default_availability_zone` (`default_zone`)."""
    row: dict[str, Any] | None = await api_db.fetch_one(
        "SELECT m.value FROM aggregates a "
        "JOIN aggregate_hosts h ON h.aggregate_id = a.id "
        "JOIN aggregate_metadata m ON m.aggregate_id = a.id "
        "WHERE h.host = %s AND m.`key` = 'availability_zone' ORDER BY a.id LIMIT 1",
        (host,),
    )
    return default_zone if row is None else str(row["value"])


async def destroy_request_spec(api_db: Database, ctx: RequestContext, uuid: str) -> bool:
    """RequestSpec.destroy: False when there was none (RequestSpecNotFound)."""
    deleted = await api_db.execute("DELETE FROM request_specs WHERE instance_uuid = %s", (uuid,))
    return bool(deleted)
