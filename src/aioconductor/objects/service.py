"""Service: the heartbeat (`save`, ~31% of all conductor traffic), lookups and create.

nova-conductor enables Service's minimum-version cache for its whole life
(`Service.enable_min_version_cache()`); we keep the same per-worker cache, so the
`_check_minimum_version` that every save runs costs no query after the first.
"""

from __future__ import annotations

from typing import Any

from aioconductor.db.connection import AsyncConnection
from aioconductor.errors import ComputeHostNotFound, ObjectActionError, ServiceTooOld
from aioconductor.notifications.service_status import STATUS_FIELDS, notify_status
from aioconductor.objects import _service_rows as rows
from aioconductor.objects.primitives import Primitive
from aioconductor.objects.registry import (
    ClassCall,
    InstanceCall,
    remotable,
    remotable_classmethod,
)

_MIN_VERSION_CACHE: dict[str, int] = {}


def clear_min_version_cache() -> None:
    """What SIGHUP (`reset`) does in nova-conductor."""
    _MIN_VERSION_CACHE.clear()


async def _minimum_version(conn: AsyncConnection, binaries: list[str]) -> int:
    if not all(b.startswith("nova-") for b in binaries):
        raise ObjectActionError(action="get_minimum_version", reason="Invalid binary prefix")
    missing = [b for b in binaries if b not in _MIN_VERSION_CACHE]
    if missing:
        _MIN_VERSION_CACHE.update(await rows.minimum_versions(conn, missing))
    found = [_MIN_VERSION_CACHE[b] for b in binaries if b in _MIN_VERSION_CACHE]
    return int(min(found)) if found else 0


# the same read, with the same cache, for the boot path's compute RPC version cap
minimum_version = _minimum_version


async def _check_minimum_version(conn: AsyncConnection, data: dict[str, Any]) -> None:
    if "version" not in data or "binary" not in data:
        return
    minimum = await _minimum_version(conn, [data["binary"]])
    if minimum > data["version"]:
        raise ServiceTooOld(thisver=data["version"], minver=minimum)


@remotable_classmethod("Service", "get_minimum_version")
async def get_minimum_version(call: ClassCall, binary: str, use_slave: bool = False) -> int:
    return await call.db.run(lambda conn: _minimum_version(conn, [binary]))


@remotable_classmethod("Service", "get_minimum_version_multi")
async def get_minimum_version_multi(
    call: ClassCall, binaries: list[str], use_slave: bool = False
) -> int:
    return await call.db.run(lambda conn: _minimum_version(conn, list(binaries)))


@remotable_classmethod("Service", "get_by_host_and_binary")
async def get_by_host_and_binary(call: ClassCall, host: str, binary: str) -> Primitive | None:
    row = await call.db.fetch_one(rows.BY_HOST_AND_BINARY, (host, binary))
    return None if row is None else rows.service_primitive(row, call.version_of("Service"))


@remotable_classmethod("Service", "get_by_compute_host")
async def get_by_compute_host(call: ClassCall, host: str, use_slave: bool = False) -> Primitive:
    row = await call.db.fetch_one(rows.BY_HOST_AND_BINARY, (host, "nova-compute"))
    if row is None:
        raise ComputeHostNotFound(host=host)
    return rows.service_primitive(row, call.version_of("Service"))


def _record_refresh(call: InstanceCall, data: dict[str, Any]) -> None:
    """_from_db_object then reset: return every field whose value moved."""
    for name, value in data.items():
        if call.obj.data.get(name, _MISSING) != value:
            call.set_field(name, value)
    call.reset_changes()


_MISSING = object()


def _changed_columns(call: InstanceCall) -> dict[str, Any]:
    """Only what the caller changed (`nova_object.changes`) is written, as obj_get_changes."""
    obj = call.obj
    return {
        name: rows.to_column(name, obj.data[name])
        for name in obj.changes
        if name in rows.WRITABLE and name in obj.data
    }


@remotable("Service", "save")
async def save(call: InstanceCall) -> None:
    obj = call.obj
    if "id" not in obj.data:
        raise ObjectActionError(action="save", reason="id is not set")
    values = _changed_columns(call)

    async def work(conn: AsyncConnection) -> Any:
        await _check_minimum_version(conn, obj.data)
        return await rows.update_service(conn, obj.data["id"], values)

    status_changed = not STATUS_FIELDS.isdisjoint(obj.changes)
    row = await call.db.run(work)
    data = rows.service_data(row)
    _record_refresh(call, rows.backport(data, obj.version))
    if status_changed:  # nova: the fields the caller set, whether or not their values moved
        notify_status(call.notifier, call.ctx, data, "update")


@remotable("Service", "create")
async def create(call: InstanceCall) -> None:
    obj = call.obj
    if "id" in obj.data:
        raise ObjectActionError(action="create", reason="already created")
    values = _changed_columns(call)

    async def work(conn: AsyncConnection) -> Any:
        await _check_minimum_version(conn, obj.data)
        return await rows.create_service(conn, values)

    row = await call.db.run(work)
    data = rows.service_data(row)
    _record_refresh(call, rows.backport(data, obj.version))
    notify_status(call.notifier, call.ctx, data, "create")
