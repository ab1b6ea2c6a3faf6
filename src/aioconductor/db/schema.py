"""SQLAlchemy Core tables mirroring nova 34.0.0's cell database (only what we touch).

`tests/compat/test_schema.py` compares these with a database built by nova's own
`nova-manage db sync`, so a drift is a failing test, not a surprise in production.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table

metadata = MetaData()

services = Table(
    "services",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255)),
    Column("binary", String(255)),
    Column("topic", String(255)),
    Column("report_count", Integer, nullable=False),
    Column("disabled", Boolean),
    Column("deleted", Integer),
    Column("disabled_reason", String(255)),
    Column("last_seen_up", DateTime),
    Column("forced_down", Boolean),
    Column("version", Integer),
    Column("uuid", String(36)),
)
