"""ComputeNode and ComputeNodeList: the resource tracker's reads and its `save` (every claim,
every delete and every minute per node; ~25 % of all conductor bytes).

The JSON columns are handed over as nova stores them: `stats` as a dict, `supported_instances`
as HVSpec objects (fresh objects, so their primitives carry changes, as nova's do),
`pci_stats` as the PciDevicePoolList primitive it was stored as. Rows that nova would rewrite
while reading them (a zero allocation ratio, a legacy NUMA topology, no host) are left to
nova: that is a write inside a read, not ours to guess.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from sqlalchemy.exc import IntegrityError

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.errors import ComputeHostNotFound, ObjectActionError
from aioconductor.objects import primitives as p
from aioconductor.objects._instance_build import changed_children
from aioconductor.objects.registry import ClassCall, InstanceCall, remotable, remotable_classmethod

NODE_VERSION = "1.19"
NODE_LIST_VERSION = "1.17"
HV_SPEC_VERSION = "1.2"
_POOL_VERSIONS = {"PciDevicePoolList": "1.1", "PciDevicePool": "1.1"}
COLUMNS = (
    "id", "service_id", "host", "uuid", "vcpus", "memory_mb", "local_gb", "vcpus_used",
    "memory_mb_used", "local_gb_used", "hypervisor_type", "hypervisor_version",
    "hypervisor_hostname", "free_ram_mb", "free_disk_gb", "current_workload", "running_vms",
    "cpu_info", "disk_available_least", "host_ip", "supported_instances", "metrics",
    "pci_stats", "extra_resources", "stats", "numa_topology", "ram_allocation_ratio",
    "cpu_allocation_ratio", "disk_allocation_ratio", "mapped",
    "created_at", "updated_at", "deleted_at", "deleted",
)  # fmt: skip
_PLAIN = frozenset(COLUMNS) - {"supported_instances", "pci_stats", "extra_resources", "stats",
                                "host_ip", "mapped"}  # fmt: skip
_RATIOS = ("cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio")
_DATETIMES = {"created_at", "updated_at", "deleted_at"}
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM compute_nodes"
# object fields that are columns under another name or form (see _to_columns)
_FIELD_COLUMNS = (frozenset(COLUMNS) - {"supported_instances", "pci_stats", "extra_resources",
                  "id"}) | {"supported_hv_specs", "pci_device_pools"}  # fmt: skip


def node_data(row: dict[str, Any]) -> dict[str, Any]:
    """ComputeNode._from_db_object, for rows it would not rewrite."""
    data: dict[str, Any] = {}
    for name in _PLAIN:
        value = row[name]
        if name in _RATIOS:
            if value in (None, 0.0):
                raise not_native("ComputeNode with an unset allocation ratio (nova fills it in)")
            value = float(value)
        elif name == "numa_topology" and value and "nova_object.name" not in value:
            raise not_native("ComputeNode with a legacy NUMA topology (nova rewrites it)")
        elif name in _DATETIMES:
            value = p.dt_to_wire(value)
        elif name == "deleted":
            value = bool(value)
        data[name] = value
    if row["host"] is None:
        raise not_native("ComputeNode without a host (nova looks the service up)")
    data["mapped"] = 0 if row["mapped"] is None else row["mapped"]
    data["host_ip"] = None if row["host_ip"] is None else str(ipaddress.ip_address(row["host_ip"]))
    if row["stats"]:
        stats = json.loads(row["stats"])
        data["stats"] = {k: None if v is None else str(v) for k, v in stats.items()}
    if row["supported_instances"]:
        data["supported_hv_specs"] = [
            _hv_spec(spec) for spec in json.loads(row["supported_instances"])
        ]
    data["pci_device_pools"] = _pci_pools(row["pci_stats"])
    return data


def _hv_spec(spec: list[Any]) -> p.Primitive:
    arch, hv_type, vm_mode = spec
    if any(v is not None and v != v.lower() for v in spec):
        raise not_native("supported_instances needing canonicalisation")
    # HVSpec.from_list builds a new object: every field is a change
    data = {"arch": arch, "hv_type": hv_type, "vm_mode": vm_mode}
    return p.make("HVSpec", HV_SPEC_VERSION, data, set(data))


def _pci_pools(stored: str | None) -> p.Primitive | None:
    if stored is None:
        return None
    try:
        pools = json.loads(stored)
    except ValueError:
        pools = None
    if not pools or "nova_object.namespace" not in pools:
        raise not_native("ComputeNode with legacy or empty pci_stats")
    inner = pools["nova_object.data"].get("objects", [])
    if pools.get("nova_object.version") != _POOL_VERSIONS["PciDevicePoolList"] or any(
        o.get("nova_object.version") != _POOL_VERSIONS["PciDevicePool"] for o in inner
    ):
        raise not_native("pci_stats stored at another PciDevicePool version")
    return pools  # type: ignore[no-any-return]


def _to_columns(changes: dict[str, Any]) -> dict[str, Any]:
    """ComputeNode._convert_*_to_db_format on the changed fields (primitives)."""
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "stats":
            if value is not None:
                values["stats"] = json.dumps(value)
        elif name == "host_ip":
            if value:
                values["host_ip"] = str(value)
        elif name == "supported_hv_specs":
            if value is not None:
                specs = [[s["nova_object.data"].get(k) for k in ("arch", "hv_type", "vm_mode")]
                         for s in value]  # fmt: skip
                values["supported_instances"] = json.dumps(specs)
        elif name == "pci_device_pools":
            values["pci_stats"] = None if value is None else json.dumps(value)
        elif name in _DATETIMES:
            values[name] = p.dt_from_wire(value)
        else:
            values[name] = value
    return values


def _changes(call: InstanceCall) -> dict[str, Any]:
    obj = call.obj
    return {name: obj.data[name] for name in sorted(obj.changes & _FIELD_COLUMNS)
            if name in obj.data}  # fmt: skip


def _finish(call: InstanceCall, row: dict[str, Any]) -> None:
    """_from_db_object + obj_reset_changes (nested objects with changes still report them)."""
    call.load_row(node_data(row))
    call.obj.changes.update(changed_children(call.obj.data))


def _deleted(ctx: RequestContext) -> str:
    return {"no": " AND deleted = 0", "only": " AND deleted != 0"}.get(ctx.read_deleted, "")


def _check_version(version: str, what: str) -> None:
    if version != NODE_VERSION:
        raise not_native(f"{what} at ComputeNode {version}")


def _node(row: dict[str, Any]) -> p.Primitive:
    data = node_data(row)
    return p.make("ComputeNode", NODE_VERSION, data, changed_children(data))


def _node_list(rows: list[dict[str, Any]]) -> p.Primitive:
    return p.make_list("ComputeNodeList", NODE_LIST_VERSION, [_node(r) for r in rows])


def _check_list(call: ClassCall) -> None:
    if call.version_of("ComputeNodeList") != NODE_LIST_VERSION:
        raise not_native(f"ComputeNodeList {call.version_of('ComputeNodeList')}")
    _check_version(call.version_of("ComputeNode"), "ComputeNodeList")


async def _by_uuids(call: ClassCall, uuids: list[str]) -> list[dict[str, Any]]:
    if not uuids:
        return []
    sql = f"{_SELECT} WHERE uuid IN ({raw.marks(len(uuids))}){_deleted(call.ctx)}"
    return await call.db.fetch_all(sql, uuids)


def _by_host_sql(ctx: RequestContext, nodename: bool) -> str:
    # nova's _compute_node_select: only read_deleted "no" filters, always ORDER BY id
    deleted = " AND deleted = 0" if ctx.read_deleted == "no" else ""
    node = " AND hypervisor_hostname = %s" if nodename else ""
    return f"{_SELECT} WHERE host = %s{node}{deleted} ORDER BY id ASC"


@remotable_classmethod("ComputeNodeList", "get_all_by_uuids")
async def get_all_by_uuids(call: ClassCall, compute_uuids: list[str]) -> p.Primitive:
    _check_list(call)
    return _node_list(await _by_uuids(call, list(compute_uuids)))


@remotable_classmethod("ComputeNodeList", "get_all_by_host")
async def get_all_by_host(call: ClassCall, host: str, use_slave: bool = False) -> p.Primitive:
    _check_list(call)
    sql = _by_host_sql(call.ctx, nodename=False)
    rows = await call.db.fetch_all(sql, (host,))
    if not rows:
        raise ComputeHostNotFound(host=host)
    return _node_list(rows)


@remotable_classmethod("ComputeNode", "get_by_uuid")
async def get_by_uuid(call: ClassCall, compute_uuid: str) -> p.Primitive:
    _check_version(call.version_of("ComputeNode"), "ComputeNode.get_by_uuid")
    rows = await _by_uuids(call, [compute_uuid])
    if not rows:
        raise ComputeHostNotFound(host=compute_uuid)
    return _node(rows[0])


@remotable_classmethod("ComputeNode", "get_by_host_and_nodename")
async def get_by_host_and_nodename(call: ClassCall, host: str, nodename: str) -> p.Primitive:
    _check_version(call.version_of("ComputeNode"), "ComputeNode.get_by_host_and_nodename")
    sql = _by_host_sql(call.ctx, nodename=True)
    row = await call.db.fetch_one(sql, (host, nodename))
    if row is None:
        raise ComputeHostNotFound(host=host)
    return _node(row)


@remotable_classmethod("ComputeNode", "get_by_id")
async def get_by_id(call: ClassCall, compute_id: int) -> p.Primitive:
    _check_version(call.version_of("ComputeNode"), "ComputeNode.get_by_id")
    sql = f"{_SELECT} WHERE id = %s{_deleted(call.ctx)} LIMIT 1"
    row = await call.db.fetch_one(sql, (compute_id,))
    if row is None:
        raise ComputeHostNotFound(host=compute_id)
    return _node(row)


@remotable("ComputeNode", "save")
async def save(call: InstanceCall, prune_stats: bool = False) -> None:
    obj = call.obj
    _check_version(obj.version, "ComputeNode.save")
    if "id" not in obj.data:
        raise not_native("ComputeNode.save without an id")
    node_id = obj.data["id"]
    values = _to_columns(_changes(call))
    values.pop("id", None)
    # nova always bumps updated_at, "to invalidate the scheduler cache in case of races"
    values["updated_at"] = p.utcnow()
    deleted = _deleted(call.ctx)

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        row = await raw.fetch_one(conn, f"{_SELECT} WHERE id = %s{deleted} LIMIT 1", (node_id,))
        if row is None:
            raise ComputeHostNotFound(host=node_id)
        await raw.update_row(conn, "compute_nodes", values, "id = %s", (node_id,))
        # the ORM object nova returns holds the values it was given, not re-read ones
        return {**row, **values}

    _finish(call, await call.db.run(work))


@remotable("ComputeNode", "create")
async def create(call: InstanceCall) -> None:
    obj = call.obj
    _check_version(obj.version, "ComputeNode.create")
    if "id" in obj.data:
        raise ObjectActionError(action="create", reason="already created")
    changes = _changes(call)
    if "uuid" not in changes:
        raise not_native("ComputeNode.create without a uuid")  # nova makes one up
    values = _to_columns(changes)
    values.setdefault("created_at", p.utcnow())
    values.setdefault("deleted", 0)
    values.setdefault("stats", "{}")  # the column's default
    values.setdefault("mapped", 0)

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        node_id = await raw.insert_row(conn, "compute_nodes", values)
        return {**dict.fromkeys(COLUMNS), **values, "id": node_id}

    try:
        row = await call.db.run(work)
    except IntegrityError:  # nova revives a soft-deleted node with this uuid, or refuses
        raise not_native("ComputeNode.create of an existing uuid") from None
    _finish(call, row)
