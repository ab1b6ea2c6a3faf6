"""Instance.create: a new instance's rows in a cell database, as nova 34 writes them.

nova's `Instance.create` sends the object's changes to `db.instance_create`, which
  * makes sure the project has its `default` security group (its own transaction first),
  * inserts `instances`, an `instance_info_caches` row (always, empty without info_cache),
    `instance_extra` (JSON of the object fields stored there), the metadata and
    system_metadata rows and the `instance_id_mappings` row, in one transaction,
and then rebuilds the object from what it wrote (`_from_db_object`) and loads its EC2 ids.
The primitive returned is that object's `obj_to_primitive()`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aioconductor.boot.ec2_ids import ec2_ids_primitive
from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.db.engine import Database
from aioconductor.errors import InstanceExists, ObjectActionError
from aioconductor.objects import primitives as p
from aioconductor.objects._instance_build import (
    INSTANCE_VERSION,
    Children,
    build_instance,
    changed_children,
)
from aioconductor.objects._instance_tables import EXTRA_COLUMNS, INSTANCE_COLUMNS

_DATETIMES = ("created_at", "updated_at", "deleted_at", "launched_at", "terminated_at")
# instance_create's model defaults, applied where the value is missing or None
_COLUMN_DEFAULTS = {"shutdown_terminate": False, "disable_terminate": False, "cleaned": 0,
                    "hidden": False}  # fmt: skip
# Fields nova's create turns into rows of their own or into instance_extra JSON.
_JOINED = ("metadata", "system_metadata", "info_cache", "security_groups")
_EXTRA_OBJECTS = ("numa_topology", "device_metadata", "vcpu_model", "trusted_certs", "resources")
# Set on the object, not written, rebuilt from the stored flavor or reset after create.
_IGNORED = frozenset({"old_flavor", "new_flavor", "migration_context", "ec2_ids"})
_WRITABLE = frozenset(INSTANCE_COLUMNS) | frozenset(_JOINED) | frozenset(EXTRA_COLUMNS) | _IGNORED
_DEFAULT_FIELDS = ("metadata", "system_metadata", "info_cache", "security_groups")


async def create_instance(
    db: Database,
    ctx: RequestContext,
    instance: p.Primitive,
    *,
    unique_name_scope: str = "",
) -> p.Primitive:
    """Write `instance` (an Instance 2.8 primitive whose changes are what nova would send)
    into `db` and return the Instance primitive nova's object holds after create().

    `unique_name_scope`: `[DEFAULT] osapi_compute_unique_server_name_scope`.
    """
    obj = p.ObjectPrimitive.from_wire(instance)
    if obj.name != "Instance" or obj.version != INSTANCE_VERSION:
        raise not_native(f"Instance.create of {obj.name} {obj.version}")
    _check_creatable(obj)
    updates = {name: obj.data[name] for name in obj.changes | changed_children(obj.data)
               if name in obj.data}  # fmt: skip
    unknown = sorted(set(updates) - _WRITABLE)
    if unknown:
        raise not_native(f"Instance.create with {', '.join(unknown)} set")
    if _list_items(updates.get("security_groups")):
        # nova 34 always creates with an empty SecurityGroupList (neutron keeps them)
        raise not_native("Instance.create with security groups")
    await _ensure_default_security_group(db, ctx)
    columns = _instance_values(updates)
    info_cache = _info_cache_values(updates.get("info_cache"))
    extra = _extra_values(obj.data, updates)
    metadata = _pairs(updates.get("metadata"))
    system_metadata = _pairs(updates.get("system_metadata"))
    now = p.utcnow()

    async def work(conn: AsyncConnection) -> int:
        if unique_name_scope in ("project", "global") and updates.get("hostname") is not None:
            await _check_unique_name(conn, ctx, str(updates["hostname"]), unique_name_scope)
        uuid = columns["uuid"]
        instance_id = await raw.insert_row(conn, "instances", columns)
        born = {"instance_uuid": uuid, "created_at": now, "deleted": 0}
        await raw.insert_row(conn, "instance_info_caches", {**info_cache, **born})
        await raw.insert_row(conn, "instance_extra", {**extra, **born})
        for table, pairs in (("instance_metadata", metadata),
                             ("instance_system_metadata", system_metadata)):  # fmt: skip
            if pairs:
                await _insert_pairs(conn, table, pairs, uuid, now)
        await raw.insert_row(conn, "instance_id_mappings", {"uuid": uuid, **_born(now)})
        return instance_id

    instance_id = await db.run(work)
    row = _written_row(columns, instance_id, info_cache, extra, now)
    expected = [name for name in _DEFAULT_FIELDS if name in updates]
    expected += ["numa_topology", "pci_requests", "device_metadata", "vcpu_model",
                 "trusted_certs", "resources"]  # fmt: skip
    expected += [name for name in ("flavor", "keypairs") if name in extra]
    children = Children(metadata=dict(metadata), system_metadata=dict(system_metadata))
    rebuilt = build_instance(row, expected, children, with_info_cache_join=True)
    data = {**obj.data, **rebuilt["nova_object.data"]}
    if "info_cache" in updates:
        data["info_cache"] = _same_version(rebuilt["nova_object.data"]["info_cache"], updates)
    if extra.get("pci_requests") is None:
        data["pci_devices"] = None
    data["migration_context"] = None
    data["ec2_ids"] = await ec2_ids_primitive(db, data)
    return p.make("Instance", INSTANCE_VERSION, data, changed_children(data))


def _check_creatable(obj: p.ObjectPrimitive) -> None:
    if "id" in obj.data:
        raise ObjectActionError(action="create", reason="already created")
    if obj.data.get("deleted"):
        raise ObjectActionError(action="create", reason="already deleted")
    if "node" in obj.changes and "compute_id" not in obj.changes:
        # nova raises an ObjectActionError with a bare message here
        raise not_native("Instance.create with node but no compute_id")
    if "uuid" not in obj.data or not obj.data["uuid"]:
        raise not_native("Instance.create without a uuid")


def _list_items(value: Any) -> list[Any]:
    if not p.is_object(value):
        return []
    items = value["nova_object.data"].get("objects")
    return list(items) if isinstance(items, list) else []


def _truthy(value: Any) -> bool:
    """Python truthiness of the object nova holds: list-like objects are empty or not."""
    if not p.is_object(value):
        return bool(value)
    data = value["nova_object.data"]
    if isinstance(data.get("objects"), list):  # ObjectListBase
        return bool(data["objects"])
    if value["nova_object.name"] in ("InstanceNUMATopology", "NUMATopology"):
        return bool(data.get("cells"))
    return True


def _instance_values(updates: Mapping[str, Any]) -> dict[str, Any]:
    """The `instances` columns: values given (None means the column's default), deleted 0."""
    values: dict[str, Any] = {}
    for name in INSTANCE_COLUMNS:
        value = updates.get(name)
        if name in ("id", "deleted") or value is None:
            continue
        if name in _DATETIMES:
            value = p.dt_from_wire(value)
        elif name == "cleaned":
            value = int(bool(value))
        values[name] = value
    for name, default in _COLUMN_DEFAULTS.items():
        values.setdefault(name, default)
    values.setdefault("created_at", p.utcnow())
    values["deleted"] = 0
    return values


def _info_cache_values(info_cache: Any) -> dict[str, Any]:
    if not p.is_object(info_cache):
        return {}
    network_info = info_cache["nova_object.data"].get("network_info")
    # the field's primitive is NetworkInfo.json(), which is what nova stores
    return {} if network_info is None else {"network_info": network_info}


def _extra_values(data: Mapping[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """instance_extra's columns as Instance.create fills them (None: NULL)."""
    extra: dict[str, Any] = {"migration_context": None}
    for name in _EXTRA_OBJECTS:
        value = updates.get(name)
        extra[name] = json.dumps(value) if _truthy(value) else None
    requests: p.Primitive | None = updates.get("pci_requests")
    # InstancePCIRequests has no length: even an empty one is stored ("[]")
    extra["pci_requests"] = _pci_requests_json(requests) if requests is not None else None
    if _truthy(updates.get("flavor")):
        extra["flavor"] = json.dumps(_flavor_info(data))
    if updates.get("keypairs") is not None:
        extra["keypairs"] = json.dumps(updates["keypairs"])
    return extra


def _flavor_info(data: Mapping[str, Any]) -> dict[str, Any]:
    """{'cur', 'old', 'new'} flavor primitives with descriptions nulled (not removed)."""
    info = {"cur": data["flavor"], "old": data.get("old_flavor"), "new": data.get("new_flavor")}
    out: dict[str, Any] = {}
    for key, sent in info.items():
        if not sent:
            out[key] = None
            continue
        flavor = json.loads(json.dumps(sent))  # our own copy to null the description in
        fields = flavor["nova_object.data"]
        if "description" in fields:
            fields["description"] = None
        out[key] = flavor
    return out


def _pci_requests_json(requests: p.Primitive) -> str:
    """InstancePCIRequests.to_json: a plain list of the requests' fields."""
    keys = ("count", "spec", "alias_name", "is_new", "numa_policy", "request_id", "requester_id")
    blob = []
    for request in requests["nova_object.data"].get("requests") or []:
        fields = request["nova_object.data"]
        blob.append({key: fields.get(key) for key in keys})
    return json.dumps(blob)


def _pairs(value: Any) -> list[tuple[str, Any]]:
    return list(value.items()) if isinstance(value, dict) else []


def _born(now: Any) -> dict[str, Any]:
    return {"created_at": now, "deleted": 0}


async def _insert_pairs(
    conn: AsyncConnection, table: str, pairs: list[tuple[str, Any]], uuid: str, now: Any
) -> None:
    # one multi-row INSERT, in the dict's order as nova's flush inserts them
    rows = ", ".join(["(%s, %s, %s, %s, 0)"] * len(pairs))
    args = [a for key, value in pairs for a in (key, value, uuid, now)]
    sql = (f"INSERT INTO `{table}` (`key`, `value`, instance_uuid, created_at, deleted) "
           f"VALUES {rows}")  # fmt: skip
    await raw.execute(conn, sql, args)


async def _check_unique_name(
    conn: AsyncConnection, ctx: RequestContext, hostname: str, scope: str
) -> None:
    """_validate_unique_server_name: a live instance with the same hostname (any case)."""
    lowered = hostname.lower()
    sql = "SELECT COUNT(*) AS n FROM instances WHERE deleted = 0 AND lower(hostname) = %s"
    args: list[Any] = [lowered]
    if scope == "project":
        sql += " AND project_id <=> %s"
        args.append(ctx.project_id)
    row = await raw.fetch_one(conn, sql, args)
    if row is not None and int(row["n"]) > 0:
        raise InstanceExists(name=lowered)


async def _ensure_default_security_group(db: Database, ctx: RequestContext) -> None:
    """security_group_ensure_default, in a transaction of its own as nova runs it."""

    async def work(conn: AsyncConnection) -> None:
        found = await raw.fetch_one(
            conn,
            "SELECT id FROM security_groups WHERE deleted = 0 AND project_id <=> %s "
            "AND name IN ('default') LIMIT 1",
            (ctx.project_id,),
        )
        if found is None:
            values = {
                "name": "default",
                "description": "default",
                "user_id": ctx.user_id,
                "project_id": ctx.project_id,
                "created_at": p.utcnow(),
                "deleted": 0,
            }
            await raw.insert_row(conn, "security_groups", values)

    try:
        await db.run(work)
    except Exception as exc:  # a concurrent boot of the project made it first
        if not _duplicate(exc):
            raise


def _duplicate(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    return len(args) > 0 and args[0] == 1062  # ER_DUP_ENTRY


def _written_row(
    columns: Mapping[str, Any],
    instance_id: int,
    info_cache: Mapping[str, Any],
    extra: Mapping[str, Any],
    now: Any,
) -> dict[str, Any]:
    """The row nova's in-memory models hold after the insert, as build_instance reads rows."""
    row: dict[str, Any] = {name: columns.get(name) for name in INSTANCE_COLUMNS}
    row["id"] = instance_id
    row["deleted"] = 0
    row.update({"ic_id": 0, "ic_instance_uuid": columns["uuid"],
                "ic_network_info": info_cache.get("network_info"), "ic_created_at": now,
                "ic_updated_at": None, "ic_deleted_at": None, "ic_deleted": 0})  # fmt: skip
    row["ex_id"] = 0
    for name in EXTRA_COLUMNS:
        row[f"ex_{name}"] = extra.get(name)
    return row


def _same_version(info_cache: p.Primitive, updates: Mapping[str, Any]) -> p.Primitive:
    """The info cache keeps the object (and version) the caller sent; only its fields are
    reloaded from the row."""
    sent = updates["info_cache"]
    return p.make(
        "InstanceInfoCache", sent["nova_object.version"], dict(info_cache["nova_object.data"])
    )
