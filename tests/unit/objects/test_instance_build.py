"""Row -> Instance primitive builders, without services."""

from __future__ import annotations

import datetime
import json

import pytest

from aioconductor.objects import _instance_tables as t
from aioconductor.objects._instance_build import (
    Children,
    UnsupportedStoredValue,
    build_instance,
    expected_cols,
    what_changed,
)
from aioconductor.objects.instance_list import _list_primitive
from aioconductor.objects.primitives import dt_to_wire

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, 678)


def _row(**over: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(t.INSTANCE_COLUMNS)
    row.update(id=7, uuid="u-1", deleted=0, cleaned=1, locked=None, created_at=NOW, hidden=0)
    row.update(over)
    return row


def test_expected_cols_like_nova() -> None:
    assert expected_cols(["metadata", "flavor", "numa_topology", "metadata"]) == [
        "metadata", "extra", "extra.numa_topology", "extra.flavor",
    ]  # fmt: skip
    assert expected_cols([]) == []


def test_base_fields_coerced_as_ovo_does() -> None:
    data = build_instance(_row(), [], Children())["nova_object.data"]
    assert data["created_at"] == "2026-01-02T03:04:05Z"
    assert data["locked"] is False
    assert data["hidden"] is False
    assert data["cleaned"] is True
    assert data["deleted"] is False
    assert "metadata" not in data
    assert "info_cache" not in data
    assert build_instance(_row(deleted=7), [], Children())["nova_object.data"]["deleted"]


def test_stored_flavor_gets_defaults_and_reports_change() -> None:
    flavor = {"nova_object.name": "Flavor", "nova_object.namespace": "nova",
              "nova_object.version": "1.2", "nova_object.data": {"id": 1}}  # fmt: skip
    row = _row(ex_id=1, ex_flavor=json.dumps({"cur": flavor, "old": None, "new": None}))
    row.update({f"ex_{c}": row.get(f"ex_{c}") for c in t.EXTRA_COLUMNS})
    prim = build_instance(row, ["flavor"], Children())
    cur = prim["nova_object.data"]["flavor"]
    assert cur["nova_object.data"]["disabled"] is False
    assert sorted(cur["nova_object.changes"]) == ["disabled", "is_public"]
    assert prim["nova_object.data"]["old_flavor"] is None
    assert what_changed(prim) == {"flavor"}


def test_pci_requests_without_extra_row_is_none() -> None:
    row = _row(ex_id=None, **{f"ex_{c}": None for c in t.EXTRA_COLUMNS})
    data = build_instance(row, ["pci_requests", "keypairs"], Children())["nova_object.data"]
    assert data["pci_requests"] is None
    assert "keypairs" not in data


def test_legacy_numa_topology_is_not_built() -> None:
    row = _row(ex_id=1, **{f"ex_{c}": None for c in t.EXTRA_COLUMNS})
    row["ex_numa_topology"] = json.dumps({"cells": []})
    with pytest.raises(UnsupportedStoredValue):
        build_instance(row, ["numa_topology"], Children())


def test_datetime_primitive_is_utc_seconds_with_z() -> None:
    assert dt_to_wire(NOW) == "2026-01-02T03:04:05Z"
    assert dt_to_wire(datetime.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    aware = datetime.datetime(2026, 1, 2, 1, 0, tzinfo=plus_two)
    assert dt_to_wire(aware) == "2026-01-01T23:00:00Z"
    assert dt_to_wire(None) is None


def test_a_list_reports_objects_changed_only_when_an_instance_has_a_changed_child() -> None:
    flavor = {"nova_object.name": "Flavor", "nova_object.namespace": "nova",
              "nova_object.version": "1.2", "nova_object.data": {"id": 1}}  # fmt: skip
    stored = _row(ex_id=1, ex_flavor=json.dumps({"cur": flavor, "old": None, "new": None}))
    stored.update({f"ex_{c}": stored.get(f"ex_{c}") for c in t.EXTRA_COLUMNS})
    plain = build_instance(_row(), [], Children())
    with_flavor = build_instance(stored, ["flavor"], Children())
    assert "nova_object.changes" not in _list_primitive([plain, plain])
    assert _list_primitive([plain, with_flavor])["nova_object.changes"] == ["objects"]
