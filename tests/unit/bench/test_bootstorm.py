"""Replaying a recorded boot for another instance: every identifier of the template is swapped,
nothing else is touched."""

from __future__ import annotations

import copy
import json
from typing import Any

from aioconductor.bench.bootstorm import boot_requests, call_label, substitute
from aioconductor.bench.fixture import Fixture, PoolInstance

TEMPLATE = {
    "uuid": "7e111111-1111-4111-8111-111111111111", "id": 1, "bdm_uuid": "b1", "bdm_id": 1,
    "node_uuid": "n-uuid", "node_id": 1, "service_id": 1, "host": "tmpl-host-0000",
    "node": "tmpl-node-0000", "port": "p-1", "mac": "fa:16:3e:7e:00:01",
    "boot_request_id": "req-boot",
}  # fmt: skip
POOL = PoolInstance(uuid="aa", id=42, bdm_uuid="b42", bdm_id=77, host="compute-0003",
                    node_id=9, node_uuid="n9", service_id=4, request_id="req-42", port="p-42",
                    mac="fa:16:3e:00:00:2a")  # fmt: skip


def _obj(name: str, **data: Any) -> dict[str, Any]:
    return {"nova_object.name": name, "nova_object.namespace": "nova",
            "nova_object.version": "1.0", "nova_object.data": data}  # fmt: skip


def _fixture(steps: list[dict[str, Any]]) -> Fixture:
    return Fixture("db", TEMPLATE, steps, [], [POOL])


def test_identifiers_are_swapped_even_inside_json_text() -> None:
    network_info = json.dumps([{"id": "p-1", "address": "fa:16:3e:7e:00:01"}])
    instance = _obj("Instance", id=1, uuid=TEMPLATE["uuid"], host="tmpl-host-0000",
                    node="tmpl-node-0000", compute_id=1, memory_mb=1, vcpus=1,
                    info_cache=_obj("InstanceInfoCache", instance_uuid=TEMPLATE["uuid"],
                                    network_info=network_info))  # fmt: skip
    step = {"label": "3 claim", "context": {"request_id": "req-boot"},
            "message": {"method": "object_action",
                        "args": {"objinst": instance, "objmethod": "save"}}}  # fmt: skip
    (replayed,) = boot_requests(_fixture([step]), POOL)
    data = replayed["message"]["args"]["objinst"]["nova_object.data"]
    assert (data["id"], data["uuid"], data["compute_id"]) == (42, "aa", 9)
    assert (data["host"], data["node"]) == ("compute-0003", "compute-0003")
    assert (data["memory_mb"], data["vcpus"]) == (1, 1)  # ints that are no ids stay
    cache = data["info_cache"]["nova_object.data"]
    assert cache["instance_uuid"] == "aa"
    assert json.loads(cache["network_info"]) == [{"id": "p-42", "address": "fa:16:3e:00:00:2a"}]
    assert replayed["context"]["request_id"] == "req-42"
    assert step["message"]["args"]["objinst"]["nova_object.data"]["id"] == 1  # template kept


def test_object_ids_change_only_where_they_are_the_templates() -> None:
    ids = {"BlockDeviceMapping": {"id": (1, 77)}, "ComputeNode": {"id": (1, 9)}}
    bdm = _obj("BlockDeviceMapping", id=1, boot_index=1)
    other = _obj("BlockDeviceMapping", id=2)
    node = _obj("ComputeNode", id=1, vcpus=1)
    out = substitute([bdm, other, node], [], ids)
    assert [o["nova_object.data"]["id"] for o in out] == [77, 2, 9]
    assert out[0]["nova_object.data"]["boot_index"] == 1
    assert out[2]["nova_object.data"]["vcpus"] == 1


def test_labels_name_the_object_call() -> None:
    action = {"message": {"args": {"objinst": _obj("Instance"), "objmethod": "save"}}}
    klass = {"message": {"args": {"objname": "Service", "objmethod": "get_by_compute_host"}}}
    assert call_label(action) == "Instance.save"
    assert call_label(copy.deepcopy(klass)) == "Service.get_by_compute_host"
