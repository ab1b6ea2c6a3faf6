"""A RequestSpec to nova's legacy dicts and back, as a reschedule does it.

nova-conductor's `build_instances` turns the RequestSpec a compute sends back into the
legacy request-spec dict (`to_legacy_request_spec_dict`) and builds the spec it casts to the
next host from that dict and the filter properties (`RequestSpec.from_primitives`). The
round trip is lossy, and the compute reads what survives it (and sends it back on the next
reschedule), so both directions follow nova 34.0.0 field by field:

- every field of the new spec is set by its constructor or a setter, so every one of them
  is in its `nova_object.changes`, and so are those of the objects made anew (the image,
  its properties, the retry, the limits);
- objects carried over unchanged (the flavor, the NUMA topology, the PCI requests, the
  requested destination) keep their own changes, as nova keeps the very same object;
- the image goes through `obj_to_primitive` and `ImageMeta.from_dict`: the NUMA fields and
  `traits_required` of its properties do not survive it (nova reads only their legacy
  dotted and `trait:` keys there);
- what the legacy dicts have no room for (the spec's id, security groups, network metadata,
  whether it boots from volume, ...) is gone: the compute lazy-loads it as nova does.

Objects stay in their wire form inside the legacy dicts (nova holds objects there), except
the image, which nova holds as the plain dict `obj_to_primitive` makes.
"""

from __future__ import annotations

import copy
from typing import Any

from aioconductor.boot import server_groups
from aioconductor.boot.legacy_filters import data
from aioconductor.objects import primitives as p
from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS
from aioconductor.objects.primitives import Primitive

# ImageMeta fields nova turns from None into '' or 0 in from_dict
_NULLABLE_STRINGS = ("name", "checksum", "owner", "container_format", "disk_format")
_NULLABLE_INTEGERS = ("size", "virtual_size")
# ImageMetaProps fields from_dict does not read under their own name
_PROPS_NOT_READ = ("hw_numa_mem", "hw_numa_cpus", "traits_required")
_INSTANCE_FIELDS = ("numa_topology", "pci_requests", "project_id", "user_id", "availability_zone")
_FLAVOR_FIELDS = ("root_gb", "ephemeral_gb", "memory_mb", "vcpus")


def plain(value: Any) -> Any:
    """nova's `obj_to_primitive`: an object as the dict of its set fields, recursively;
    a list object as the list of its objects."""
    if p.is_object(value):
        fields = data(value)
        if set(fields) == {"objects"} and str(value["nova_object.name"]).endswith("List"):
            return [plain(item) for item in fields["objects"]]
        return {name: plain(field) for name, field in fields.items()}
    return value


def legacy_request_spec(spec: Primitive) -> dict[str, Any]:
    """RequestSpec.to_legacy_request_spec_dict."""
    fields = data(spec)
    image = fields.get("image")
    return {
        "num_instances": fields.get("num_instances", 1),
        "image": plain(image) if image else {},
        "instance_properties": _legacy_instance(fields),
        "instance_type": fields.get("flavor", {}),
    }


def _legacy_instance(fields: dict[str, Any]) -> dict[str, Any]:
    instance = {name: fields[name] for name in _INSTANCE_FIELDS if name in fields}
    if "instance_uuid" in fields:
        instance["uuid"] = fields["instance_uuid"]
    if "flavor" not in fields:
        return instance
    flavor = data(fields["flavor"])
    for name in _FLAVOR_FIELDS:
        instance[name] = flavor.get(name)
    return instance


def spec_from_legacy(legacy: dict[str, Any], filter_properties: dict[str, Any]) -> Primitive:
    """RequestSpec.from_primitives: a new spec from the legacy dicts."""
    fields: dict[str, Any] = {"num_instances": legacy.get("num_instances", 1)}
    image = legacy.get("image")
    fields["image"] = _image_from_dict(image) if isinstance(image, dict) else None
    instance = legacy.get("instance_properties")
    if isinstance(instance, dict):
        fields["numa_topology"] = instance.get("numa_topology")
        fields["pci_requests"] = instance.get("pci_requests")
        fields["instance_uuid"] = instance.get("uuid")
        for name in ("project_id", "user_id", "availability_zone"):
            fields[name] = instance.get(name)
    flavor = legacy.get("instance_type")
    if p.is_object(flavor):
        fields["flavor"] = flavor
    for name in ("ignore_hosts", "force_hosts", "force_nodes"):
        fields[name] = filter_properties.get(name)
    retry = filter_properties.get("retry", {})
    fields["retry"] = _retry_from_dict(retry) if retry else None
    fields["limits"] = _limits_from_dict(filter_properties.get("limits", {}))
    fields["instance_group"] = server_groups.group_from_legacy(filter_properties)
    hints = filter_properties.get("scheduler_hints", {})
    fields["scheduler_hints"] = (
        None
        if hints is None
        else {name: value if isinstance(value, list) else [value] for name, value in hints.items()}
    )
    fields["requested_destination"] = filter_properties.get("requested_destination")
    fields["requested_resources"] = None  # obj_set_defaults()
    return p.make("RequestSpec", NOVA_OBJECT_VERSIONS["RequestSpec"], fields, set(fields))


def _image_from_dict(image: dict[str, Any]) -> Primitive:
    """ImageMeta.from_dict of an obj_to_primitive'd image."""
    fields = copy.deepcopy(image)
    props = fields.get("properties", {})
    fields["properties"] = _props_from_dict(props if isinstance(props, dict) else {})
    for name in _NULLABLE_STRINGS:
        if name in fields and fields[name] is None:
            fields[name] = ""
    for name in _NULLABLE_INTEGERS:
        if name in fields and fields[name] is None:
            fields[name] = 0
    return p.make("ImageMeta", NOVA_OBJECT_VERSIONS["ImageMeta"], fields, set(fields))


def _props_from_dict(props: dict[str, Any]) -> Primitive:
    fields = {name: value for name, value in props.items() if name not in _PROPS_NOT_READ}
    return p.make("ImageMetaProps", NOVA_OBJECT_VERSIONS["ImageMetaProps"], fields, set(fields))


def _retry_from_dict(retry: dict[str, Any]) -> Primitive:
    """SchedulerRetries.from_dict: empty unless the dict has `hosts` (nova tests
    `('num_attempts' and 'hosts') in retry`, which is `'hosts' in retry`)."""
    version = NOVA_OBJECT_VERSIONS["SchedulerRetries"]
    if "hosts" not in retry:
        return p.make("SchedulerRetries", version, {})
    nodes = [
        p.make(
            "ComputeNode",
            NOVA_OBJECT_VERSIONS["ComputeNode"],
            {"host": host, "hypervisor_hostname": node},
            {"host", "hypervisor_hostname"},
        )
        for host, node in retry.get("hosts") or []
    ]
    hosts = p.make(
        "ComputeNodeList", NOVA_OBJECT_VERSIONS["ComputeNodeList"], {"objects": nodes}, {"objects"}
    )
    fields = {"num_attempts": retry.get("num_attempts"), "hosts": hosts}
    return p.make("SchedulerRetries", version, fields, set(fields))


def _limits_from_dict(limits: Any) -> Any:
    """SchedulerLimits.from_dict: the given limits, every other one None."""
    if not isinstance(limits, dict):
        return limits  # already a SchedulerLimits
    fields = {"numa_topology": None, "vcpu": None, "disk_gb": None, "memory_mb": None}
    fields.update(limits)
    return p.make("SchedulerLimits", NOVA_OBJECT_VERSIONS["SchedulerLimits"], fields, set(fields))
