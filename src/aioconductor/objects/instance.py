"""Instance: get_by_uuid, refresh (power-state sync, 15 % of traffic), save, destroy."""

from __future__ import annotations

from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.db.connection import AsyncConnection
from aioconductor.errors import InstanceInfoCacheNotFound
from aioconductor.objects._instance_build import INSTANCE_VERSION, OPTIONAL_ATTRS, changed_children
from aioconductor.objects._instance_get import get_instance
from aioconductor.objects.primitives import Primitive, is_object
from aioconductor.objects.registry import ClassCall, InstanceCall, remotable, remotable_classmethod


def _check_version(version: str, what: str) -> None:
    # nova backports an older requested Instance with the caller's manifest: not built here.
    if version != INSTANCE_VERSION:
        raise not_native(f"{what} at Instance {version}")


@remotable_classmethod("Instance", "get_by_uuid")
async def get_by_uuid(
    call: ClassCall, uuid: str, expected_attrs: list[str] | None = None, use_slave: bool = False
) -> Primitive:
    _check_version(call.version_of("Instance"), "Instance.get_by_uuid")
    attrs = ["info_cache"] if expected_attrs is None else list(expected_attrs)

    async def work(conn: AsyncConnection) -> Primitive:
        return await get_instance(conn, call.ctx, uuid, attrs)

    return await call.db.run(work)


@remotable("Instance", "refresh")
async def refresh(call: InstanceCall, use_slave: bool = False) -> None:
    obj = call.obj
    _check_version(obj.version, "Instance.refresh")
    data = obj.data
    extra = [name for name in OPTIONAL_ATTRS if name in data]
    if "info_cache" in data and not is_object(data["info_cache"]):
        raise not_native("Instance.refresh with info_cache None")  # nova: AttributeError

    async def work(conn: AsyncConnection) -> Primitive:
        return await get_instance(conn, call.ctx, data["uuid"], extra)

    current = (await call.db.run(work))["nova_object.data"]
    for name in list(data):
        if name not in current:
            continue
        new = current[name]
        if name == "info_cache":
            call.set_field(name, _refreshed_info_cache(data[name], new, call.ctx.read_deleted))
        elif is_object(new) or data[name] != new:
            # nova compares objects by identity, so every object field is sent back.
            call.set_field(name, new)
    reset_changes(call)


def reset_changes(call: InstanceCall) -> None:
    """obj_reset_changes(); obj_what_changed() still reports objects with nested changes."""
    call.reset_changes()
    call.obj.changes.update(changed_children(call.obj.data))


def _refreshed_info_cache(old: Primitive, current: Primitive | None, read_deleted: str) -> Any:
    """`InstanceInfoCache.refresh()` on the instance's cache: set fields take DB values."""
    old_data = old["nova_object.data"]
    if current is None or (read_deleted == "no" and current["nova_object.data"]["deleted"]):
        raise InstanceInfoCacheNotFound(instance_uuid=old_data.get("instance_uuid"))
    cur_data = current["nova_object.data"]
    data = {name: cur_data.get(name, value) for name, value in old_data.items()}
    refreshed = {k: v for k, v in old.items() if k != "nova_object.changes"}
    refreshed["nova_object.data"] = data  # obj_reset_changes(): no changes left
    return refreshed
