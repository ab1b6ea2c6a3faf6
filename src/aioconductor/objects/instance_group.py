"""InstanceGroup (a server group) on the API database: what nova-compute reads through the
conductor on every build with a group (`_validate_instance_group_policy`: `get_by_hint`,
which is `get_by_uuid` or `get_by_name`, `get_by_instance_uuid`, and `get_hosts` for an
affinity group) and what the boot's `setup_instance_group` reads.

The group comes with its first policy and its members (nova's two joinedloads); `hosts` is
lazy-loaded and never read here. Without an admin context nova scopes the lookup to the
caller's project. `get_hosts` runs on the cell database: nova runs it with the caller's
untargeted context, so on the conductor's own `[database]`.
"""

from __future__ import annotations

import json
from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.errors import InstanceGroupNotFound, ObjectActionError
from aioconductor.objects import instance_list
from aioconductor.objects import primitives as p
from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS
from aioconductor.objects.registry import (
    ClassCall,
    InstanceCall,
    remotable,
    remotable_classmethod,
)

VERSION = "1.11"
_COLUMNS = ("id", "user_id", "project_id", "uuid", "name", "created_at", "updated_at")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM instance_groups"


def _version(call: ClassCall) -> str:
    version = call.version_of("InstanceGroup")
    if version != VERSION:
        raise not_native(f"InstanceGroup {version}")
    return version


async def _read(
    db: Database, ctx: RequestContext, where: str, args: tuple[Any, ...], not_found: Any
) -> p.Primitive:
    """`_instance_group_get_query(...).first()` and `_from_db_object`."""
    sql = f"{_SELECT} WHERE {where}"
    if not ctx.is_admin:
        sql += " AND project_id <=> %s"  # nova's filter_by(project_id=...): NULL is IS NULL
        args += (ctx.project_id,)
    row = await db.fetch_one(sql + " ORDER BY id LIMIT 1", args)
    if row is None:
        raise InstanceGroupNotFound(group_uuid=not_found)
    policies = await db.fetch_all(
        "SELECT policy, rules FROM instance_group_policy WHERE group_id = %s ORDER BY id",
        (row["id"],),
    )
    members = await db.fetch_all(
        "SELECT instance_uuid FROM instance_group_member WHERE group_id = %s ORDER BY id",
        (row["id"],),
    )
    data = p.row_fields(row, _COLUMNS)
    data["deleted"] = False  # the API tables have no soft delete
    data["deleted_at"] = None
    data["members"] = [m["instance_uuid"] for m in members]
    first = policies[0] if policies else None  # nova reads the first one only
    data["policy"] = first["policy"] if first else None
    data["policies"] = [data["policy"]] if first else []
    rules = json.loads(first["rules"]) if first and first["rules"] else {}
    # a DictOfStringsField: every value coerced to a string
    data["_rules"] = {str(key): str(value) for key, value in rules.items()}
    return p.make("InstanceGroup", VERSION, data)


async def read_by_uuid(db: Database, ctx: RequestContext, uuid: str) -> p.Primitive:
    return await _read(db, ctx, "uuid = %s", (uuid,), uuid)


async def read_by_instance_uuid(
    db: Database, ctx: RequestContext, instance_uuid: str
) -> p.Primitive:
    member = await db.fetch_one(
        "SELECT group_id FROM instance_group_member WHERE instance_uuid = %s ORDER BY id LIMIT 1",
        (instance_uuid,),
    )
    if member is None:
        raise InstanceGroupNotFound(group_uuid="")
    group_id = member["group_id"]
    return await _read(db, ctx, "id = %s", (group_id,), group_id)


@remotable_classmethod("InstanceGroup", "get_by_uuid", database="api")
async def get_by_uuid(call: ClassCall, uuid: str) -> p.Primitive:
    _version(call)
    return await read_by_uuid(call.db, call.ctx, uuid)


@remotable_classmethod("InstanceGroup", "get_by_name", database="api")
async def get_by_name(call: ClassCall, name: str) -> p.Primitive:
    _version(call)
    return await _read(call.db, call.ctx, "name = %s", (name,), name)


@remotable_classmethod("InstanceGroup", "get_by_instance_uuid", database="api")
async def get_by_instance_uuid(call: ClassCall, instance_uuid: str) -> p.Primitive:
    _version(call)
    return await read_by_instance_uuid(call.db, call.ctx, instance_uuid)


async def hosts_of(
    db: Database, ctx: RequestContext, members: Any, exclude: Any = None
) -> list[str]:
    """InstanceGroup.get_hosts on one cell database: the hosts of the members not deleted,
    through nova's own InstanceList.get_by_filters (its project scoping, its soft-delete
    rule). nova returns them in a set's order; here sorted."""
    uuids = members
    if exclude:
        uuids = set(members) - set(exclude)
    call = ClassCall(ctx=ctx, db=db, objname="InstanceList", versions=dict(NOVA_OBJECT_VERSIONS))
    found = await instance_list.get_by_filters(
        call, filters={"uuid": uuids, "deleted": False}, expected_attrs=[]
    )
    objects = found["nova_object.data"]["objects"]
    return sorted({o["nova_object.data"]["host"] for o in objects if o["nova_object.data"]["host"]})


@remotable("InstanceGroup", "get_hosts")
async def get_hosts(call: InstanceCall, exclude: Any = None) -> list[str]:
    if call.obj.version != VERSION:
        raise not_native(f"InstanceGroup {call.obj.version}")
    if "members" not in call.obj.data:  # nova lazy-loads nothing but hosts
        raise ObjectActionError(action="obj_load_attr", reason="unable to load members")
    return await hosts_of(call.db, call.ctx, call.obj.data["members"], exclude)
