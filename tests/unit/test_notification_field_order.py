"""The payload builders write every payload's fields in its nova class's order (the text of
a message, the log driver's line, is nova's). The rich request spec here has what the compat
oracle's specs lack: a CPU topology, a destination with a cell, retries, a group."""

from __future__ import annotations

from typing import Any

from aioconductor.notifications.exception_payload import exception_payload, nova_exception
from aioconductor.notifications.field_order import FIELD_ORDER
from aioconductor.notifications.request_spec_payload import request_spec_payload

UUID = "a2222222-2222-4222-8222-222222222222"


def _obj(name: str, data: dict[str, Any]) -> dict[str, Any]:
    # the caller's dicts in reverse: the builders must not depend on their order
    backwards = dict(reversed(data.items()))
    return {"nova_object.name": name, "nova_object.namespace": "nova",
            "nova_object.version": "1.0", "nova_object.data": backwards}  # fmt: skip


def _assert_nova_order(value: Any, path: str = "") -> int:
    """Every nested payload's keys in its class's field order; how many were checked."""
    checked = 0
    if isinstance(value, dict):
        data = value.get("nova_object.data")
        if isinstance(data, dict):
            order = FIELD_ORDER[value["nova_object.name"]]
            keys = list(data)
            assert keys == sorted(keys, key=order.index), (path, value["nova_object.name"], keys)
            checked += 1
        for key, item in (data if isinstance(data, dict) else value).items():
            checked += _assert_nova_order(item, f"{path}/{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            checked += _assert_nova_order(item, f"{path}[{n}]")
    return checked


def test_a_rich_request_spec_payload_is_in_novas_order() -> None:
    cell = _obj("InstanceNUMACell", {"id": 0, "cpuset": [], "pcpuset": [0, 1], "memory": 512,
                                     "cpu_topology": _obj("VirtCPUTopology", {"sockets": 1,
                                                                              "cores": 2,
                                                                              "threads": 1}),
                                     "cpu_policy": "dedicated"})  # fmt: skip
    spec = _obj("RequestSpec", {
        "instance_uuid": UUID, "project_id": "p", "user_id": "u", "availability_zone": "az",
        "num_instances": 1, "scheduler_hints": {"a": ["b"]}, "ignore_hosts": ["h0"],
        "force_hosts": ["h1"], "force_nodes": ["n1"],
        "flavor": _obj("Flavor", {"flavorid": "1", "name": "f", "memory_mb": 1, "vcpus": 1,
                                  "root_gb": 1, "ephemeral_gb": 0, "swap": 0}),
        "image": _obj("ImageMeta", {"id": UUID, "name": "i", "properties": _obj(
            "ImageMetaProps", {"hw_disk_bus": "virtio", "hw_architecture": "x86_64",
                               "os_distro": "cirros"})}),
        "numa_topology": _obj("InstanceNUMATopology", {"cells": [cell]}),
        "pci_requests": _obj("InstancePCIRequests", {"requests": [_obj(
            "InstancePCIRequest", {"count": 1, "spec": [{"vendor_id": "8086"}],
                                   "alias_name": "a", "request_id": None})]}),
        "requested_destination": _obj("Destination", {"host": "h", "node": "n", "cell": _obj(
            "CellMapping", {"uuid": UUID, "name": "c1", "disabled": False}),
            "aggregates": ["g"]}),
        "retry": _obj("SchedulerRetries", {"num_attempts": 2, "hosts": _obj(
            "ComputeNodeList", {"objects": [_obj("ComputeNode",
                                                 {"hypervisor_hostname": "n0"})]})}),
        "instance_group": _obj("InstanceGroup", {"uuid": UUID, "name": "g", "policy": "affinity",
                                                 "rules": {}, "members": [], "hosts": []}),
        "security_groups": _obj("SecurityGroupList", {"objects": [_obj("SecurityGroup",
                                                                       {"name": "default"})]}),
    })  # fmt: skip
    payload = request_spec_payload(spec)
    assert _assert_nova_order(payload) == 13  # every payload class a spec can nest
    data = payload["nova_object.data"]
    assert data["retry"]["nova_object.data"]["hosts"] == ["n0"]
    assert data["security_groups"] == ["default"]
    assert data["force_hosts"] == "h1"


def test_an_exception_payload_is_in_novas_order() -> None:
    try:
        raise ValueError("boom")
    except ValueError as exc:
        payload = exception_payload(exc, nova_exception(exc, ("m", "f")))
    assert _assert_nova_order(payload) == 1
