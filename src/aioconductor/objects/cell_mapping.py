"""CellMapping and CellMappingList, on the API database: which cells exist and how to reach
them. A compute whose nova.conf has `[api_database] connection` reads the list at start-up
(nova.utils.raise_if_old_compute -> get_minimum_version_all_cells -> load_cells).

The URLs are returned as nova-conductor returns them: templates filled from this
conductor's own nova.conf (_cell_urls.py), passwords included.
"""

from __future__ import annotations

from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.errors import CellMappingNotFound
from aioconductor.objects import primitives as p
from aioconductor.objects._cell_urls import format_url
from aioconductor.objects.registry import ClassCall, remotable_classmethod

CELL_MAPPING_VERSION = "1.1"
CELL_MAPPING_LIST_VERSION = "1.1"
COLUMNS = ("id", "uuid", "name", "transport_url", "database_connection", "disabled",
           "created_at", "updated_at")  # fmt: skip
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM cell_mappings"


def cell_version(call: ClassCall) -> str:
    """The CellMapping version to build: nova 34's; another one is forwarded, not guessed."""
    version = call.version_of("CellMapping")
    if version != CELL_MAPPING_VERSION:
        raise not_native(f"CellMapping {version}")
    return version


def cell_primitive(call: ClassCall, row: dict[str, Any], version: str) -> p.Primitive:
    """CellMapping._from_db_object."""
    defaults = call.url_defaults
    stored_mq, stored_db = row["transport_url"], row["database_connection"]
    if stored_mq is None or stored_db is None:
        # nova's _from_db_object fails on the NULL (a ValueError): let it say so
        raise not_native("CellMapping without a transport_url or database_connection")
    data = p.row_fields(row, COLUMNS, booleans=("disabled",))
    data["transport_url"] = format_url(stored_mq, defaults.transport_url, "[DEFAULT] transport_url")
    data["database_connection"] = format_url(
        stored_db, defaults.database_connection, "[database] connection"
    )
    data["disabled"] = bool(data["disabled"])  # NULL: the field's default, False
    return p.make("CellMapping", version, data)


def row_as(row: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The cell_mappings columns of a joined row, selected as `<prefix><column>`."""
    return {name: row[f"{prefix}{name}"] for name in COLUMNS}


def joined_columns(alias: str, prefix: str) -> str:
    return ", ".join(f"{alias}.{name} AS {prefix}{name}" for name in COLUMNS)


@remotable_classmethod("CellMapping", "get_by_uuid", database="api")
async def get_by_uuid(call: ClassCall, uuid: str) -> p.Primitive:
    version = cell_version(call)
    row = await call.db.fetch_one(f"{_SELECT} WHERE uuid = %s LIMIT 1", (uuid,))
    if row is None:
        raise CellMappingNotFound(uuid=uuid)
    return cell_primitive(call, row, version)


def _cell_list(call: ClassCall, rows: list[dict[str, Any]]) -> p.Primitive:
    if call.version_of("CellMappingList") != CELL_MAPPING_LIST_VERSION:
        raise not_native(f"CellMappingList {call.version_of('CellMappingList')}")
    version = cell_version(call)
    objects = [cell_primitive(call, row, version) for row in rows]
    return p.make_list("CellMappingList", CELL_MAPPING_LIST_VERSION, objects)


@remotable_classmethod("CellMappingList", "get_all", database="api")
async def get_all(call: ClassCall) -> p.Primitive:
    return _cell_list(call, await call.db.fetch_all(f"{_SELECT} ORDER BY id ASC"))


@remotable_classmethod("CellMappingList", "get_by_disabled", database="api")
async def get_by_disabled(call: ClassCall, disabled: bool) -> p.Primitive:
    # nova filters `disabled = true` or `disabled = false`: a NULL row is in neither list
    sql = f"{_SELECT} WHERE disabled = %s ORDER BY id ASC"
    return _cell_list(call, await call.db.fetch_all(sql, (1 if disabled else 0,)))
