"""RequestSpecPayload 1.1 and what it nests, from a RequestSpec primitive (nova 34.0.0's
nova/notifications/objects/request_spec.py, image.py, server_group.py).

A field the spec does not carry is null in the payload, as `populate_schema` leaves what it
cannot read; `security_groups` lazy-loads to an empty list. The NUMA topology and PCI
requests get the spec's instance uuid when they have none (nova sets it on the spec's own
objects while building the payload).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aioconductor.notifications.field_order import FIELD_ORDER
from aioconductor.notifications.instance_payloads import flavor_payload, payload
from aioconductor.notifications.legacy_primitive import in_order

REQUEST_SPEC_PAYLOAD_VERSION = "1.1"
IMAGE_PROPS_PAYLOAD_VERSION = "1.20"
_IMAGE_FIELDS = ("id", "name", "status", "visibility", "protected", "checksum", "owner", "size",
                 "virtual_size", "container_format", "disk_format", "created_at", "updated_at",
                 "tags", "direct_url", "min_ram", "min_disk")  # fmt: skip
_IMAGE_PROPS_LEFT_OUT = ("hw_ephemeral_encryption_secret_uuid",)
_CELL_FIELDS = ("id", "cpuset", "pcpuset", "cpuset_reserved", "memory", "pagesize",
                "cpu_pinning_raw", "cpu_policy", "cpu_thread_policy")  # fmt: skip
_CELL_ORDER = ("id", "cpuset", "pcpuset", "cpuset_reserved", "memory", "pagesize",
               "cpu_topology", "cpu_pinning_raw", "cpu_policy", "cpu_thread_policy")  # fmt: skip
_PCI_REQUEST_FIELDS = ("count", "spec", "alias_name", "request_id", "numa_policy")
_GROUP_FIELDS = ("uuid", "name", "user_id", "project_id", "policies", "members", "hosts",
                 "policy", "rules")  # fmt: skip


def _data(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        found = value.get("nova_object.data")
        if isinstance(found, dict):
            return found
    return {}


def request_spec_payload(spec: Mapping[str, Any]) -> dict[str, Any]:
    data = _data(spec)
    uuid = data.get("instance_uuid")
    flavor = data.get("flavor")
    image = data.get("image")
    numa, pci = data.get("numa_topology"), data.get("pci_requests")
    hosts, nodes = data.get("force_hosts"), data.get("force_nodes")
    groups = _data(data.get("security_groups")).get("objects") or []
    out = {
        "instance_uuid": uuid,
        "project_id": data.get("project_id"),
        "user_id": data.get("user_id"),
        "availability_zone": data.get("availability_zone"),
        "flavor": flavor_payload(flavor) if flavor is not None else None,
        "force_hosts": hosts[0] if hosts else None,
        "force_nodes": nodes[0] if nodes else None,
        "ignore_hosts": data.get("ignore_hosts"),
        "instance_group": _group(data.get("instance_group")),
        "image": image_payload(image) if image else None,
        "numa_topology": _numa(numa, uuid) if numa is not None else None,
        "pci_requests": _pci(pci, uuid) if pci is not None else None,
        "num_instances": data.get("num_instances", 1),
        "requested_destination": _destination(data.get("requested_destination")),
        "retry": _retry(data.get("retry")),
        "scheduler_hints": data.get("scheduler_hints"),
        "security_groups": [_identifier(g) for g in groups],
    }
    return payload("RequestSpecPayload", REQUEST_SPEC_PAYLOAD_VERSION, out)


def image_payload(image: Mapping[str, Any]) -> dict[str, Any]:
    """ImageMetaPayload 1.0; its properties only those the image has (set_none=False)."""
    data = _data(image)
    props = {
        k: v for k, v in _data(data.get("properties")).items() if k not in _IMAGE_PROPS_LEFT_OUT
    }
    props = in_order(props, FIELD_ORDER["ImageMetaPropsPayload"])  # the caller's may differ
    out = {k: data.get(k) for k in _IMAGE_FIELDS}
    out["properties"] = payload("ImageMetaPropsPayload", IMAGE_PROPS_PAYLOAD_VERSION, props)
    return payload("ImageMetaPayload", "1.0", out)


def _identifier(group: Any) -> Any:
    """SecurityGroup.identifier: the uuid when set, else the name."""
    data = _data(group)
    return data.get("uuid") or data.get("name")


def _numa(numa: Any, uuid: Any) -> dict[str, Any]:
    data = _data(numa)
    cells = [_cell(cell) for cell in data.get("cells") or []]
    out = {
        "instance_uuid": data.get("instance_uuid", uuid),
        "cells": cells,
        "emulator_threads_policy": data.get("emulator_threads_policy"),
    }
    return payload("InstanceNUMATopologyPayload", "1.0", out)


def _cell(cell: Any) -> dict[str, Any]:
    data = _data(cell)
    out: dict[str, Any] = {k: data.get(k) for k in _CELL_FIELDS}
    topology = data.get("cpu_topology")
    if topology is not None:
        values = _data(topology)
        out["cpu_topology"] = payload(
            "VirtCPUTopologyPayload",
            "1.0",
            {k: values.get(k) for k in ("sockets", "cores", "threads")},
        )
    else:
        out["cpu_topology"] = None
    return payload("InstanceNUMACellPayload", "1.2", {k: out[k] for k in _CELL_ORDER})


def _pci(pci: Any, uuid: Any) -> dict[str, Any]:
    data = _data(pci)
    requests = [
        payload(
            "InstancePCIRequestPayload", "1.1", {k: _data(r).get(k) for k in _PCI_REQUEST_FIELDS}
        )
        for r in data.get("requests") or []
    ]
    out = {"instance_uuid": data.get("instance_uuid", uuid), "requests": requests}
    return payload("InstancePCIRequestsPayload", "1.0", out)


def _group(group: Any) -> dict[str, Any] | None:
    if not group:
        return None
    data = _data(group)
    out = {k: data.get(k) for k in _GROUP_FIELDS}
    return payload("ServerGroupPayload", "1.1", out)


def _destination(destination: Any) -> dict[str, Any] | None:
    if not destination:
        return None
    data = _data(destination)
    out: dict[str, Any] = {}  # host, node and cell only when set, then aggregates
    if data.get("host") is not None:
        out["host"] = data["host"]
    if data.get("node") is not None:
        out["node"] = data["node"]
    if data.get("cell") is not None:
        cell = _data(data["cell"])
        out["cell"] = payload(
            "CellMappingPayload",
            "2.0",
            {"uuid": cell.get("uuid"), "name": cell.get("name"), "disabled": cell.get("disabled")},
        )
    out["aggregates"] = data.get("aggregates")
    return payload("DestinationPayload", "1.0", out)


def _retry(retry: Any) -> dict[str, Any] | None:
    if not retry:
        return None
    data = _data(retry)
    hosts = [_data(node).get("hypervisor_hostname") for node in _list(data.get("hosts"))]
    out = {"num_attempts": data.get("num_attempts"), "hosts": hosts}
    return payload("SchedulerRetriesPayload", "1.0", out)


def _list(value: Any) -> list[Any]:
    """An object list primitive's objects."""
    found = _data(value).get("objects")
    return found if isinstance(found, list) else []
