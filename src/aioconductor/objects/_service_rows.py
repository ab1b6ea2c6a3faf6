"""services rows <-> Service primitives, and the queries nova's service_* DB API runs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.db.schema import services
from aioconductor.errors import ServiceBinaryExists, ServiceNotFound, ServiceTopicExists
from aioconductor.messaging.versions import parse_version
from aioconductor.objects import primitives as p

SERVICE_VERSION = "1.22"
# Columns a Service primitive may write; the rest (compute_node, availability_zone) are not
# stored in the services table.
WRITABLE = (
    "uuid",
    "host",
    "binary",
    "topic",
    "report_count",
    "disabled",
    "disabled_reason",
    "last_seen_up",
    "forced_down",
    "version",
)
_DATETIMES = {"last_seen_up", "created_at", "updated_at", "deleted_at"}


def service_data(row: Mapping[str, Any]) -> dict[str, Any]:
    """What nova's Service._from_db_object sets (compute_node stays lazy, uuid when set)."""
    data: dict[str, Any] = {"id": row["id"]}
    if row["uuid"]:
        data["uuid"] = row["uuid"]
    data.update(
        host=row["host"],
        binary=row["binary"],
        topic=row["topic"],
        report_count=row["report_count"],
        disabled=bool(row["disabled"]),
        disabled_reason=row["disabled_reason"],
        last_seen_up=p.dt_to_wire(row["last_seen_up"]),
        forced_down=bool(row["forced_down"]),
        version=row["version"],
        created_at=p.dt_to_wire(row["created_at"]),
        updated_at=p.dt_to_wire(row["updated_at"]),
        deleted_at=p.dt_to_wire(row["deleted_at"]),
        deleted=bool(row["deleted"]),
    )
    return data


def backport(data: dict[str, Any], target: str) -> dict[str, Any]:
    """Service.obj_make_compatible_from_manifest for the versions we can build."""
    version = parse_version(target)[:2]
    if version < (1, 10):
        raise not_native(f"Service backport to {target} (needs compute_node)")
    drops = [
        ("uuid", (1, 21)),
        ("version", (1, 16)),
        ("forced_down", (1, 14)),
        ("last_seen_up", (1, 13)),
    ]
    return {k: v for k, v in data.items() if not any(k == f and version < m for f, m in drops)}


def service_primitive(row: Mapping[str, Any], target: str = SERVICE_VERSION) -> p.Primitive:
    return p.make("Service", target, backport(service_data(row), target))


def to_column(name: str, value: Any) -> Any:
    return p.dt_from_wire(value) if name in _DATETIMES else value


_COLUMNS = ", ".join(f"`{c.name}`" for c in services.c)
# model_query(read_deleted="no") is forced by every service_* query we serve
_BY_ID = f"SELECT {_COLUMNS} FROM services WHERE id = %s AND deleted = 0"
BY_HOST_AND_BINARY = (
    f"SELECT {_COLUMNS} FROM services WHERE host = %s AND `binary` = %s AND deleted = 0 LIMIT 1"
)


async def by_host_and_binary(
    conn: AsyncConnection, ctx: RequestContext, host: str, binary: str
) -> dict[str, Any] | None:
    # get_by_compute_host runs on every resource-tracker update: raw, like the heartbeat
    return await raw.fetch_one(conn, BY_HOST_AND_BINARY, (host, binary))


async def by_id(conn: AsyncConnection, service_id: int) -> dict[str, Any]:
    # the heartbeat's read: straight on the driver (db/raw.py says why)
    row = await raw.fetch_one(conn, _BY_ID, (service_id,))
    if row is None:
        raise ServiceNotFound(service_id=service_id)
    return row


async def minimum_versions(conn: AsyncConnection, binaries: list[str]) -> dict[str, int]:
    query = (
        select(services.c.binary, func.min(services.c.version))
        .where(
            services.c.binary.in_(binaries),
            services.c.deleted == 0,
            services.c.forced_down.is_(False),
        )
        .group_by(services.c.binary)
    )
    return {b: v or 0 for b, v in (await conn.execute(query)).all()}


async def update_service(
    conn: AsyncConnection, service_id: int, values: dict[str, Any]
) -> dict[str, Any]:
    """nova's service_update: last_seen_up moves only when report_count grows.

    Two statements: the row is read once and the row after the UPDATE is built from it and
    the values written (this is the heartbeat: the hottest write there is).
    """
    current = await by_id(conn, service_id)
    values = dict(values)
    now = p.utcnow()
    if "report_count" in values and values["report_count"] > current["report_count"]:
        values["last_seen_up"] = now
    changed = {k: v for k, v in values.items() if current[k] != v}
    if changed:  # the ORM only issues an UPDATE (and bumps updated_at) when something changed
        changed["updated_at"] = now
        await raw.update_row(conn, "services", changed, "id = %s", (service_id,))
    return {**current, **changed}


async def create_service(conn: AsyncConnection, values: dict[str, Any]) -> dict[str, Any]:
    values = {
        "report_count": 0,
        "disabled": False,
        "forced_down": False,
        "version": 0,
        **values,
        "created_at": p.utcnow(),
        "deleted": 0,
    }
    values.setdefault("uuid", str(uuid.uuid4()))
    try:
        result = await conn.execute(insert(services).values(values))
    except IntegrityError as exc:
        if "binary" in str(exc.orig):
            raise ServiceBinaryExists(
                host=values.get("host"), binary=values.get("binary")
            ) from None
        raise ServiceTopicExists(host=values.get("host"), topic=values.get("topic")) from None
    key = result.inserted_primary_key
    assert key is not None
    return await by_id(conn, int(key[0]))
