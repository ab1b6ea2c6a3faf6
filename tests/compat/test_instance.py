"""Instance.get_by_uuid / refresh against nova 34.0.0's own objects on the same database."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from aioconductor.conductor.endpoints import ConductorEndpoint
from aioconductor.db.engine import Database
from aioconductor.objects import load_all
from tests.compat.instance_oracle import harness

pytestmark = [pytest.mark.connected, pytest.mark.compat]

MANIFEST = json.loads(
    (Path("/work/shared/spec/nova-version-manifests.txt").read_text().splitlines()[1]).split(
        " ", 2
    )[2]
)
LIST_MANIFEST = json.loads(
    Path("/work/shared/spec/nova-version-manifests.txt")
    .read_text()
    .splitlines()[0]
    .split(" ", 2)[2]
)
U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"
U3 = "33333333-3333-4333-8333-333333333333"
U_DELETED = "44444444-4444-4444-8444-444444444444"
U_OTHER_PROJECT = "55555555-5555-4555-8555-555555555555"
MISSING = "99999999-9999-4999-8999-999999999999"
NW = [{"id": "vif1", "address": "aa:bb:cc:dd:ee:ff"}]

SEED = {
    "instances": [
        {"uuid": U1, "host": "h1", "node": "n1", "compute_id": 1, "metadata": {"a": "1"},
         "system_metadata": {"image_hw_disk_bus": "virtio", "owner": "x"}, "tags": ["t1", "t2"],
         "fault": True, "network_info": NW, "vm_state": "active"},
        {"uuid": U2, "host": "h1", "node": "n1", "compute_id": 1},
        {"uuid": U3, "host": "h1", "node": "n2", "compute_id": 2, "task_state": "spawning"},
        {"uuid": U_DELETED, "host": "h1", "node": "n1", "compute_id": 1, "deleted": True},
        {"uuid": U_OTHER_PROJECT, "host": "h2", "node": "n3", "compute_id": 3,
         "project_id": "p2"},
    ]
}  # fmt: skip

ALL_ATTRS = [
    "metadata", "system_metadata", "info_cache", "security_groups", "tags",
    "flavor", "old_flavor", "new_flavor", "numa_topology", "pci_requests", "vcpu_model",
    "migration_context", "keypairs", "device_metadata", "trusted_certs", "resources",
]  # fmt: skip


@pytest.fixture(scope="module")
def nova_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = harness.create_nova_db(tmp_path_factory.mktemp("novadb"))
    try:
        harness.nova(name, "seed", SEED)
        yield name
    finally:
        harness.drop_db(name)


@pytest.fixture
async def endpoint(nova_db: str) -> AsyncIterator[ConductorEndpoint]:
    load_all()
    db = Database.from_url(f"mysql+aiomysql://root@127.0.0.1/{nova_db}", pool_size=2)
    try:
        yield ConductorEndpoint(db)
    finally:
        await db.close()


def normalise(value: Any) -> Any:
    """Primitives compared as data: change lists as sets, network_info parsed."""
    if isinstance(value, dict):
        out = {k: normalise(v) for k, v in value.items()}
        if "nova_object.changes" in out:
            out["nova_object.changes"] = sorted(out["nova_object.changes"])
        if "obj_what_changed" in out:
            out["obj_what_changed"] = sorted(out["obj_what_changed"])
        if out.get("nova_object.name") == "InstanceInfoCache":
            ni = out["nova_object.data"].get("network_info")
            if isinstance(ni, str):
                out["nova_object.data"]["network_info"] = _hydrated(json.loads(ni))
        return out
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def _hydrated(vifs: list[dict[str, Any]]) -> list[str]:
    # nova re-serialises network_info through its model (adds default keys); compare ids
    return sorted(v["id"] for v in vifs)


async def compare(nova_db: str, endpoint: ConductorEndpoint, calls: list[dict[str, Any]]) -> None:
    expected = harness.nova(nova_db, "call", {"calls": copy.deepcopy(calls)})
    got = await harness.ours(endpoint, copy.deepcopy(calls), MANIFEST)
    for call, want, have in zip(calls, expected, got, strict=True):
        assert normalise(have) == normalise(want), (call, _diff(normalise(have), normalise(want)))


def _diff(have: Any, want: Any, path: str = "") -> list[str]:
    if isinstance(have, dict) and isinstance(want, dict):
        out: list[str] = []
        for key in sorted(set(have) | set(want)):
            if key not in have or key not in want:
                out.append(f"{path}/{key}: ours={have.get(key, '-')!r} nova={want.get(key, '-')!r}")
            else:
                out += _diff(have[key], want[key], f"{path}/{key}")
        return out
    return [] if have == want else [f"{path}: ours={have!r} nova={want!r}"]


def get(uuid: str, attrs: list[str] | None = None, **ctx: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {} if attrs is None else {"expected_attrs": attrs}
    return {"kind": "class", "obj": "Instance", "method": "get_by_uuid", "args": [uuid],
            "kwargs": kwargs, "ctx": ctx}  # fmt: skip


async def test_get_by_uuid_matches_nova(nova_db: str, endpoint: ConductorEndpoint) -> None:
    calls = [
        get(U1),
        get(U1, []),
        get(U1, ALL_ATTRS),
        get(U2, ALL_ATTRS),
        get(U3, ["flavor", "pci_requests", "numa_topology", "system_metadata"]),
        get(U1, ["metadata", "system_metadata", "info_cache", "security_groups"]),
        get(MISSING),
        get(U_DELETED, []),
        get(U_DELETED, ["system_metadata", "metadata", "info_cache"], read_deleted="yes"),
        get(U_OTHER_PROJECT, [], is_admin=False),
        get(U_OTHER_PROJECT, [], is_admin=False, project_id="p2"),
    ]
    await compare(nova_db, endpoint, calls)


async def test_refresh_matches_nova(nova_db: str, endpoint: ConductorEndpoint) -> None:
    # the objects nova-compute holds: from get_by_uuid with the attrs it loads
    base = harness.nova(nova_db, "call", {"calls": [get(U1, []), get(U1, ALL_ATTRS)]})
    plain, full = (r["ok"] for r in base)
    stale = copy.deepcopy(full)
    stale["nova_object.data"]["vm_state"] = "building"
    stale["nova_object.data"]["metadata"] = {"old": "x"}
    stale["nova_object.changes"] = ["vm_state"]
    calls = [
        {"kind": "inst", "objinst": obj, "method": "refresh", "args": [], "kwargs": {}}
        for obj in (plain, full, stale)
    ]
    gone = copy.deepcopy(plain)
    gone["nova_object.data"]["uuid"] = MISSING
    calls.append({"kind": "inst", "objinst": gone, "method": "refresh", "args": [], "kwargs": {}})
    await compare(nova_db, endpoint, calls)


def lst(method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    ctx = kwargs.pop("ctx", {})
    return {"kind": "class", "obj": "InstanceList", "method": method, "args": list(args),
            "kwargs": kwargs, "ctx": ctx}  # fmt: skip


def _sorted_objects(results: list[Any]) -> list[Any]:
    # nova's list queries have no ORDER BY: compare the members, not the order
    for r in results:
        data = r.get("ok", {})
        if isinstance(data, dict) and data.get("nova_object.name") == "InstanceList":
            data["nova_object.data"]["objects"].sort(key=lambda o: o["nova_object.data"]["uuid"])
        elif isinstance(data, list):
            data.sort()
    return results


async def test_instance_list_matches_nova(nova_db: str, endpoint: ConductorEndpoint) -> None:
    init_host = ["info_cache", "metadata", "system_metadata", "numa_topology", "flavor"]
    rt = ["flavor", "migration_context", "resources", "system_metadata", "numa_topology",
          "pci_requests"]  # fmt: skip
    calls = [
        lst("get_by_host", "h1"),
        lst("get_by_host", "h1", expected_attrs=[]),
        lst("get_by_host", "h1", expected_attrs=init_host),
        lst("get_by_host", "h1", expected_attrs=ALL_ATTRS),
        lst("get_by_host", "h1", expected_attrs=[], ctx={"read_deleted": "yes"}),
        lst("get_by_host", "nohost"),
        lst("get_by_host_and_node", "h1", "n1", expected_attrs=rt),
        lst("get_by_host_and_node", "h1", "n2"),
        lst("get_by_host_and_node", "h1", "n1", expected_attrs=ALL_ATTRS),
        lst("get_uuids_by_host", "h1"),
        lst("get_uuids_by_host", "h2"),
    ]
    manifest = LIST_MANIFEST
    expected = _sorted_objects(harness.nova(nova_db, "call", {"calls": copy.deepcopy(calls)}))
    got = _sorted_objects(await harness.ours(endpoint, copy.deepcopy(calls), manifest))
    for call, want, have in zip(calls, expected, got, strict=True):
        assert normalise(have) == normalise(want), (call, _diff(normalise(have), normalise(want)))


async def test_info_cache_matches_nova(nova_db: str, endpoint: ConductorEndpoint) -> None:
    def by_uuid(uuid: str, **ctx: Any) -> dict[str, Any]:
        return {"kind": "class", "obj": "InstanceInfoCache", "method": "get_by_instance_uuid",
                "args": [uuid], "kwargs": {}, "ctx": ctx}  # fmt: skip

    cache = harness.nova(nova_db, "call", {"calls": [by_uuid(U1)]})[0]["ok"]
    stale = copy.deepcopy(cache)
    stale["nova_object.data"]["network_info"] = "[]"
    stale["nova_object.changes"] = ["network_info"]
    gone = copy.deepcopy(cache)
    gone["nova_object.data"]["instance_uuid"] = MISSING
    calls = [
        by_uuid(U1),
        by_uuid(MISSING),
        by_uuid(U_DELETED),
        by_uuid(U_DELETED, read_deleted="yes"),
        {"kind": "inst", "objinst": stale, "method": "refresh", "args": [], "kwargs": {}},
        {"kind": "inst", "objinst": gone, "method": "refresh", "args": [], "kwargs": {}},
    ]
    await compare(nova_db, endpoint, calls)
