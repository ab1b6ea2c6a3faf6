"""Our mirror of nova's cell schema (db/schema.py) against the database nova 34.0.0's own
`nova-manage db sync` builds: same tables, columns, types, lengths, nullability, keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Boolean, Enum, String, create_engine, inspect
from sqlalchemy.engine import Inspector

from aioconductor.db import schema
from tests.compat.nova_processes import nova_database

pytestmark = [pytest.mark.connected, pytest.mark.compat]

# how MariaDB reports each SQLAlchemy type of ours
_REFLECTED = {"Integer": "INTEGER", "BigInteger": "BIGINT", "Boolean": "TINYINT",
              "DateTime": "DATETIME", "Text": "TEXT", "MEDIUMTEXT": "MEDIUMTEXT",
              "Float": "FLOAT", "String": "VARCHAR", "Enum": "ENUM"}  # fmt: skip


@pytest.fixture(scope="module")
def synced() -> Iterator[Inspector]:
    with nova_database("schema") as name:
        engine = create_engine(f"mysql+pymysql://root@127.0.0.1/{name}")
        try:
            yield inspect(engine)
        finally:
            engine.dispose()


def describe(column_type: Any) -> tuple[str, Any]:
    if isinstance(column_type, Enum):
        return "ENUM", tuple(column_type.enums)
    if isinstance(column_type, Boolean):
        return "TINYINT", None
    if isinstance(column_type, String) and type(column_type).__name__ in ("String", "VARCHAR"):
        return "VARCHAR", column_type.length
    name = type(column_type).__name__
    return _REFLECTED.get(name, name), None


def reflected(column_type: Any) -> tuple[str, Any]:
    name = type(column_type).__name__
    if name == "ENUM":
        return name, tuple(column_type.enums)
    if name == "VARCHAR":
        return name, column_type.length
    return name, None


@pytest.mark.parametrize("table", sorted(schema.metadata.tables))
def test_table_matches_nova_manage_db_sync(synced: Inspector, table: str) -> None:
    ours = schema.metadata.tables[table]
    theirs = {c["name"]: c for c in synced.get_columns(table)}
    assert [c.name for c in ours.columns] == list(theirs), "column names and order"
    primary = set(synced.get_pk_constraint(table)["constrained_columns"])
    assert {c.name for c in ours.primary_key.columns} == primary
    for column in ours.columns:
        nova = theirs[column.name]
        assert describe(column.type) == reflected(nova["type"]), column.name
        if not column.primary_key:
            assert column.nullable == nova["nullable"], column.name
