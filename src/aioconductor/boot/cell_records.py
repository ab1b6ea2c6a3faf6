"""The boot path's other cell-database writes: the instance's block device mappings
(conductor `_create_block_device_mapping`: `_volume_size` + BlockDeviceMapping
`update_or_create`) and its tags (conductor `_create_tags`: TagList.create)."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.db.engine import Database
from aioconductor.errors import InstanceNotFound, ObjectActionError
from aioconductor.objects import primitives as p
from aioconductor.objects._instance_build import tag_list_primitive
from aioconductor.objects.block_device import BDM_VERSION, COLUMNS, bdm_data

_BDM_SELECT = f"SELECT {', '.join(COLUMNS)} FROM block_device_mapping"
_DATETIMES = ("created_at", "updated_at", "deleted_at")


def volume_size(flavor: p.Primitive, bdm: dict[str, Any]) -> Any:
    """conductor `_volume_size`: blank local disks without a size take the flavor's swap
    or ephemeral size."""
    size = _field(bdm, "volume_size")
    if (
        size is None
        and _field(bdm, "source_type") == "blank"
        and _field(bdm, "destination_type") == "local"
    ):
        flavor_data = flavor["nova_object.data"]
        if _field(bdm, "guest_format") == "swap":
            size = flavor_data.get("swap", 0)
        else:
            size = flavor_data.get("ephemeral_gb", 0)
    return size


def _field(bdm: dict[str, Any], name: str) -> Any:
    if name not in bdm:
        # bdm.get() lazy-loads an unset field, which nova refuses (ObjectActionError)
        raise not_native(f"a block device mapping without {name}")
    return bdm[name]


async def create_block_device_mappings(
    db: Database,
    ctx: RequestContext,
    flavor: p.Primitive,
    instance_uuid: str,
    bdms: p.Primitive,
) -> p.Primitive:
    """Each BDM of the list written for `instance_uuid`; the list primitive nova returns
    (a copy of the one given, each BDM reloaded from its row)."""
    listed = p.ObjectPrimitive.from_wire(bdms)
    written = []
    for item in listed.data.get("objects") or []:
        bdm = p.ObjectPrimitive.from_wire(item)
        if bdm.name != "BlockDeviceMapping" or bdm.version != BDM_VERSION:
            raise not_native(f"{bdm.name} {bdm.version} in a boot")
        row = await _update_or_create(db, ctx, flavor, instance_uuid, bdm)
        written.append(p.make("BlockDeviceMapping", bdm.version, bdm_data(row)))
    return p.make(listed.name, listed.version, {**listed.data, "objects": written}, listed.changes)


async def _update_or_create(
    db: Database,
    ctx: RequestContext,
    flavor: p.Primitive,
    instance_uuid: str,
    bdm: p.ObjectPrimitive,
) -> dict[str, Any]:
    if "id" in bdm.data:
        raise ObjectActionError(action="create", reason="already created")
    if "instance" in bdm.data and "instance" in bdm.changes:
        raise ObjectActionError(action="create", reason="instance assigned")
    data = dict(bdm.data)
    data["volume_size"] = volume_size(flavor, data)
    data["instance_uuid"] = instance_uuid
    changed = bdm.changes | {"volume_size", "instance_uuid"}
    values = {name: data[name] for name in COLUMNS if name in changed and name in data}
    if values.get("volume_size") == "":
        del values["volume_size"]  # _scrub_empty_str_values
    for name in _DATETIMES:
        if values.get(name):
            values[name] = p.dt_from_wire(values[name])
    if "device_name" not in values:
        raise not_native("a block device mapping without device_name")  # nova: KeyError
    deleted = " AND deleted = 0" if ctx.read_deleted == "no" else ""

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        found = None
        if "uuid" in values:
            found = await raw.fetch_one(
                conn,
                f"{_BDM_SELECT} WHERE instance_uuid = %s AND uuid = %s{deleted} LIMIT 1",
                (instance_uuid, values["uuid"]),
            )
        if found is None and values["device_name"]:
            found = await raw.fetch_one(
                conn,
                f"{_BDM_SELECT} WHERE instance_uuid = %s AND device_name = %s{deleted} LIMIT 1",
                (instance_uuid, values["device_name"]),
            )
        if found is not None:
            bdm_id = found["id"]
            changes = {k: v for k, v in values.items() if found.get(k) != v}
            if changes:
                changes.setdefault("updated_at", p.utcnow())  # the column's onupdate
                await raw.update_row(conn, "block_device_mapping", changes, "id = %s", (bdm_id,))
        else:
            if not values.get("uuid"):
                values["uuid"] = str(uuidlib.uuid4())
            row = {name: value for name, value in values.items() if value is not None}
            row.setdefault("delete_on_termination", False)
            row.setdefault("encrypted", False)
            row.setdefault("created_at", p.utcnow())
            row["deleted"] = 0
            bdm_id = await raw.insert_row(conn, "block_device_mapping", row)
        if _is_swap(values):
            # one swap disk per instance: the others go (soft-deleted)
            now = p.utcnow()
            await raw.execute(
                conn,
                "UPDATE block_device_mapping SET deleted = id, deleted_at = %s, "
                "updated_at = updated_at WHERE instance_uuid = %s AND source_type = 'blank' "
                f"AND guest_format = 'swap' AND id != %s{deleted}",
                (now, instance_uuid, bdm_id),
            )
        stored = await raw.fetch_one(conn, f"{_BDM_SELECT} WHERE id = %s", (bdm_id,))
        assert stored is not None
        return stored

    return await db.run(work)


def _is_swap(values: dict[str, Any]) -> bool:
    return (
        values.get("source_type") == "blank"
        and values.get("destination_type") == "local"
        and values.get("guest_format") == "swap"
    )


async def create_tags(
    db: Database, ctx: RequestContext, instance_uuid: str, tags: p.Primitive | None
) -> p.Primitive | None:
    """conductor `_create_tags`: TagList.create with the tags' names, or `tags` itself
    when there are none (None or an empty list)."""
    if tags is None:
        return None
    names = [item["nova_object.data"]["tag"] for item in tags["nova_object.data"]["objects"]]
    if not names:
        return tags

    async def work(conn: AsyncConnection) -> list[str]:
        await _check_instance_in_project(conn, ctx, instance_uuid)
        rows = await raw.fetch_all(
            conn, "SELECT tag FROM tags WHERE resource_id = %s", (instance_uuid,)
        )
        existing = {row["tag"] for row in rows}
        wanted = set(names)
        gone = sorted(existing - wanted)
        if gone:
            await raw.execute(
                conn,
                f"DELETE FROM tags WHERE resource_id = %s AND tag IN ({raw.marks(len(gone))})",
                (instance_uuid, *gone),
            )
        new = [tag for tag in dict.fromkeys(names) if tag not in existing]
        if new:
            values = ", ".join(["(%s, %s)"] * len(new))
            args = [a for tag in new for a in (instance_uuid, tag)]
            await raw.execute(conn, f"INSERT INTO tags (resource_id, tag) VALUES {values}", args)
        stored = await raw.fetch_all(
            conn, "SELECT tag FROM tags WHERE resource_id = %s", (instance_uuid,)
        )
        return [row["tag"] for row in stored]

    return tag_list_primitive(instance_uuid, await db.run(work))


async def _check_instance_in_project(
    conn: AsyncConnection, ctx: RequestContext, instance_uuid: str
) -> None:
    """_check_instance_exists_in_project: a live instance, the caller's own unless admin."""
    sql = "SELECT id FROM instances WHERE uuid = %s AND deleted = 0"
    args: list[Any] = [instance_uuid]
    if not ctx.is_admin and ctx.user_id is not None and ctx.project_id is not None:
        sql += " AND project_id = %s"
        args.append(ctx.project_id)
    if await raw.fetch_one(conn, sql + " LIMIT 1", args) is None:
        raise InstanceNotFound(instance_id=instance_uuid)
