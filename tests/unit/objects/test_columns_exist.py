"""Every column the object modules' SQL names exists in our schema mirror (which the compat
tier checks against nova-manage db sync): a typo fails here, not on a compute's request."""

from __future__ import annotations

import pytest
from sqlalchemy.sql import TableClause

from aioconductor.db import schema
from aioconductor.objects import (
    _instance_tables,
    block_device,
    compute_node,
    instance_action,
    instance_destroy,
    instance_devices,
    migration,
    virtual_interface,
)

USED: list[tuple[str, tuple[str, ...]]] = [
    ("block_device_mapping", block_device.COLUMNS),
    ("compute_nodes", compute_node.COLUMNS),
    ("migrations", migration.COLUMNS),
    ("virtual_interfaces", virtual_interface.COLUMNS),
    ("share_mapping", instance_devices.SHARE_COLUMNS),
    ("pci_devices", instance_devices.PCI_COLUMNS),
    ("instance_actions", instance_action.ACTION_COLUMNS),
    ("instance_actions_events", instance_action.EVENT_COLUMNS),
    ("instances", _instance_tables.INSTANCE_COLUMNS),
    ("instance_extra", _instance_tables.EXTRA_COLUMNS),
] + [
    (table, ("id", "instance_uuid", "deleted", "deleted_at"))
    for table in instance_destroy.CHILD_TABLES
]
CLAUSES = [v for v in vars(_instance_tables).values() if isinstance(v, TableClause)]


@pytest.mark.parametrize(("table", "columns"), USED, ids=[t for t, _ in USED])
def test_selected_columns_exist(table: str, columns: tuple[str, ...]) -> None:
    known = set(schema.metadata.tables[table].columns.keys())
    assert set(columns) - known == set()


@pytest.mark.parametrize("clause", CLAUSES, ids=[c.name for c in CLAUSES])
def test_lightweight_tables_name_real_columns(clause: TableClause) -> None:
    known = set(schema.metadata.tables[clause.name].columns.keys())
    assert {c.name for c in clause.columns} - known == set()
