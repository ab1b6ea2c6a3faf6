"""Build requests, instance mappings and host availability zones on the API database
against nova 34.0.0's own objects: same seed on both sides (by nova's code), the same calls,
results and rows compared."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aioconductor.boot import api_records
from aioconductor.errors import NovaError
from aioconductor.objects.registry import UrlDefaults
from tests.compat.boot_rows import (
    CTX,
    Pair,
    assert_same,
    assert_same_tables,
    database_pair,
    our_database,
    run_nova,
)

pytestmark = [pytest.mark.connected, pytest.mark.compat, pytest.mark.timeout(600)]

U = [f"{i}a{i}a{i}a{i}a-1111-4111-8111-11111111111{i}" for i in range(1, 6)]
MISSING = "9e9e9e9e-9999-4999-8999-999999999999"
CELL0 = "00000000-0000-0000-0000-000000000000"
CELL1 = "c1c1c1c1-1111-4111-8111-111111111111"
SEED: dict[str, Any] = {
    "aggregates": [
        ["zone-a", "az1", ["h1"]],
        ["plain", None, ["h1", "h2"]],
        ["zone-b", "az2", ["h3"]],
        ["zone-b-too", "az2", ["h3"]],
    ],
    "cases": [
        {"label": "two", "name": "pair", "count": 2, "uuids": U[:2]},
        {"label": "three", "name": "three", "count": 3, "uuids": U[2:]},
    ],
}
CALLS: list[list[Any]] = [
    ["exists", U[0]],
    ["exists", MISSING],
    ["destroy_build_request", U[1]],
    ["destroy_build_request", U[1]],
    ["exists", U[1]],
    ["get_mapping", U[0]],
    ["get_mapping", MISSING],
    ["map", [U[0], CELL1]],
    ["map", [U[0], CELL1]],
    ["get_mapping", U[0]],
    ["map", [U[2], CELL1]],
    ["map", [U[2], CELL0]],  # already mapped: logged and overwritten
    ["map", [MISSING, CELL0]],
    ["destroy_mapping", U[3]],
    ["destroy_mapping", U[3]],
    ["get_mapping", U[3]],
    ["az", "h1"],
    ["az", "h2"],
    ["az", "h3"],
    ["az", "nowhere"],
]


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with database_pair("boot_api", cell=False) as databases:
        yield databases


async def _ours(api_db: Any, cells: dict[str, Any], op: str, arg: Any) -> Any:
    defaults = UrlDefaults(database_connection="mysql+pymysql://root@127.0.0.1/x")
    if op == "exists":
        return await api_records.build_request_exists(api_db, CTX, arg)
    if op == "destroy_build_request":
        return await api_records.destroy_build_request(api_db, CTX, arg)
    if op == "get_mapping":
        return await api_records.get_instance_mapping(api_db, CTX, arg, defaults)
    if op == "map":
        uuid, cell_uuid = arg
        cell = cells["cell0" if cell_uuid == CELL0 else "cell1"]
        return await api_records.map_instance_to_cell(api_db, CTX, uuid, cell)
    if op == "destroy_mapping":
        return await api_records.destroy_instance_mapping(api_db, CTX, arg)
    assert op == "az"
    return await api_records.host_availability_zone(api_db, CTX, arg, "nova")


async def test_api_records_match_nova(pair: Pair) -> None:
    run_nova(pair.nova, "api_seed", **SEED)
    cells = run_nova(pair.ours, "api_seed", **SEED)["cells"]
    want = run_nova(pair.nova, "api_calls", calls=CALLS)
    async with our_database(pair.ours.api) as api_db:
        for (op, arg), expected in zip(CALLS, want, strict=True):
            try:
                got: dict[str, Any] = {"ok": await _ours(api_db, cells, op, arg)}
            except NovaError as exc:
                got = {"error": {"class": type(exc).__name__, "kwargs": exc.kwargs}}
            assert_same(got, expected, f"{op} {arg}")
    rows = assert_same_tables(pair, ["build_requests", "instance_mappings"], api=True)
    results = [w.get("ok", w.get("error")) for w in want]
    assert results[:5] == [True, False, True, False, False]
    assert want[12]["error"]["class"] == "InstanceMappingNotFound"
    assert results[16:] == ["az1", "nova", "az2", "nova"]
    mapped = {r["instance_uuid"]: r["cell_id"] for r in rows["instance_mappings"]}
    assert mapped[U[0]] == 2
    assert mapped[U[2]] == 1
    assert U[3] not in mapped
