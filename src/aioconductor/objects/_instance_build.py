"""Rows of `instances` and its child tables -> the Instance 2.8 primitive nova 34 builds.

Mirrors `Instance._from_db_object` / `_extra_attributes_from_db_object`: plain columns are
coerced as ovo fields coerce them, optional attributes are set only when asked for, and
objects stored as JSON primitives in `instance_extra` are passed through as
`obj_from_primitive` + `obj_to_primitive` would (same version, data and changes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aioconductor.objects.primitives import Primitive, dt_to_wire, make, make_list

INSTANCE_VERSION = "2.8"
INSTANCE_LIST_VERSION = "2.6"

JOINED_FIELDS = (
    "metadata", "system_metadata", "info_cache", "security_groups", "pci_devices", "tags",
    "services", "fault",
)  # fmt: skip
NON_COLUMN_FIELDS = ("flavor", "old_flavor", "new_flavor", "ec2_ids")
EXTRA_FIELDS = (
    "numa_topology", "pci_requests", "flavor", "vcpu_model", "migration_context", "keypairs",
    "device_metadata", "trusted_certs", "resources",
)  # fmt: skip
OPTIONAL_ATTRS = frozenset(JOINED_FIELDS + NON_COLUMN_FIELDS + EXTRA_FIELDS)
DEFAULT_FIELDS = ("metadata", "system_metadata", "info_cache", "security_groups")
FLAVOR_FIELDS = ("flavor", "old_flavor", "new_flavor")
# Attributes whose loading we do not build natively (ec2_ids writes id mappings; services
# and pci_devices need other families' builders).
UNSUPPORTED_ATTRS = frozenset({"ec2_ids", "services", "pci_devices"})

_INT = ("id", "launch_index", "power_state", "memory_mb", "vcpus", "root_gb", "ephemeral_gb",
        "compute_id", "instance_type_id", "progress")  # fmt: skip
_DATETIME = ("launched_at", "terminated_at", "created_at", "updated_at", "deleted_at")
_BOOL_DEFAULT_FALSE = ("locked", "auto_disk_config", "shutdown_terminate",
                       "disable_terminate", "hidden")  # fmt: skip
_STR = (
    "user_id", "project_id", "image_ref", "kernel_id", "ramdisk_id", "hostname", "key_name",
    "key_data", "vm_state", "task_state", "ephemeral_key_uuid", "host", "node", "user_data",
    "reservation_id", "availability_zone", "display_name", "display_description",
    "launched_on", "locked_by", "os_type", "architecture", "vm_mode", "uuid",
    "root_device_name", "default_ephemeral_device", "default_swap_device", "config_drive",
    "access_ip_v4", "access_ip_v6", "cell_name",
)  # fmt: skip


@dataclass(slots=True)
class Children:
    """Child rows of one instance, as loaded for its expected attributes."""

    metadata: dict[str, str | None] = field(default_factory=dict)
    system_metadata: dict[str, str | None] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    fault: Mapping[str, Any] | None = None
    # the live metadata ("m") and all system_metadata ("s") rows (id, key, value), in id
    # order: what an in-place rewrite in the same transaction starts from
    rows: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)


class UnsupportedStoredValue(Exception):
    """A stored value nova would migrate (and write back) on load: not built natively."""


def expected_cols(expected_attrs: Iterable[str]) -> list[str]:
    """nova's `_expected_cols`: joined fields plus `extra.<field>` for extra fields."""
    attrs = list(expected_attrs)
    simple = [a for a in attrs if a in JOINED_FIELDS]
    complex_cols = [f"extra.{f}" for f in EXTRA_FIELDS if f in attrs]
    if complex_cols:
        simple.append("extra")
    cols = simple + complex_cols
    return sorted(set(cols), key=cols.index)


def base_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The non-optional Instance fields from an `instances` row."""
    data: dict[str, Any] = {}
    for name in _STR:
        value = row[name]
        data[name] = None if value is None else str(value)
    for name in _INT:
        value = row[name]
        data[name] = None if value is None else int(value)
    for name in _DATETIME:
        data[name] = dt_to_wire(row[name])
    for name in _BOOL_DEFAULT_FALSE:
        data[name] = bool(row[name]) if row[name] is not None else False
    data["cleaned"] = row["cleaned"] == 1
    data["deleted"] = row["deleted"] == row["id"]
    return data


def info_cache_primitive(row: Mapping[str, Any]) -> Primitive:
    """InstanceInfoCache 1.5 from `instance_info_caches` columns (prefixed `ic_`).

    network_info is sent as the stored JSON text: the client hydrates it into the same
    NetworkInfo as nova's re-serialised form.
    """
    return make(
        "InstanceInfoCache",
        "1.5",
        {
            "instance_uuid": row["ic_instance_uuid"],
            "network_info": row["ic_network_info"],
            "created_at": dt_to_wire(row["ic_created_at"]),
            "updated_at": dt_to_wire(row["ic_updated_at"]),
            "deleted_at": dt_to_wire(row["ic_deleted_at"]),
            "deleted": bool(row["ic_deleted"]),
        },
    )


def fault_primitive(row: Mapping[str, Any]) -> Primitive:
    return make(
        "InstanceFault",
        "1.2",
        {
            "id": row["id"],
            "instance_uuid": row["instance_uuid"],
            "code": row["code"],
            "message": row["message"],
            "details": row["details"],
            "host": row["host"],
            "created_at": dt_to_wire(row["created_at"]),
            "updated_at": dt_to_wire(row["updated_at"]),
            "deleted_at": dt_to_wire(row["deleted_at"]),
            "deleted": bool(row["deleted"]),
        },
    )


def tag_list_primitive(uuid: str, tags: list[str]) -> Primitive:
    objs = [make("Tag", "1.1", {"resource_id": uuid, "tag": t}) for t in tags]
    return make_list("TagList", "1.1", objs)


def security_group_list_primitive() -> Primitive:
    # nova stopped loading security groups with nova-network: always an empty list.
    return make_list("SecurityGroupList", "1.1", [])


def build_instance(
    row: Mapping[str, Any],
    expected: Iterable[str],
    children: Children,
    *,
    with_info_cache_join: bool = False,
) -> Primitive:
    """One Instance primitive; `row` carries `ic_*` and `ex_*` columns when joined."""
    attrs = set(expected)
    data = base_fields(row)
    uuid = data["uuid"]
    if "metadata" in attrs:
        data["metadata"] = dict(children.metadata)
    if "system_metadata" in attrs:
        data["system_metadata"] = dict(children.system_metadata)
    if "fault" in attrs:
        data["fault"] = None if children.fault is None else fault_primitive(children.fault)
    if "info_cache" in attrs and with_info_cache_join:
        data["info_cache"] = None if row["ic_id"] is None else info_cache_primitive(row)
    if "security_groups" in attrs:
        data["security_groups"] = security_group_list_primitive()
    if "tags" in attrs:
        data["tags"] = tag_list_primitive(uuid, children.tags)
    _extra_fields(data, row, attrs, uuid)
    # _from_db_object resets only the instance's own changes: nested ones (a stored Flavor's)
    # still make the field count as changed.
    return make("Instance", INSTANCE_VERSION, data, changed_children(data))


def changed_children(data: Mapping[str, Any]) -> set[str]:
    """Fields holding an object that reports changes (ovo's obj_what_changed recursion)."""
    return {name for name, value in data.items() if _obj_changed(value)}


def _obj_changed(value: Any) -> bool:
    if not isinstance(value, dict) or "nova_object.name" not in value:
        return False
    if value.get("nova_object.changes"):
        return True
    inner = value.get("nova_object.data") or {}
    if isinstance(inner.get("objects"), list):
        return any(_obj_changed(v) for v in inner["objects"])
    return any(_obj_changed(v) for v in inner.values())


def what_changed(primitive: Mapping[str, Any]) -> set[str]:
    """obj_what_changed() of an object primitive: its own changes plus changed children."""
    data = primitive.get("nova_object.data") or {}
    return set(primitive.get("nova_object.changes") or []) | changed_children(data)


def _extra_fields(data: dict[str, Any], row: Mapping[str, Any], attrs: set[str], uuid: str) -> None:
    wanted = attrs.intersection(EXTRA_FIELDS + FLAVOR_FIELDS)
    if not wanted:
        return
    have_extra = row.get("ex_id") is not None
    for name in ("numa_topology", "device_metadata", "vcpu_model", "migration_context",
                 "trusted_certs", "resources"):  # fmt: skip
        if name in attrs:
            data[name] = _stored_object(name, row[f"ex_{name}"]) if have_extra else None
    if "pci_requests" in attrs:
        data["pci_requests"] = (
            pci_requests_primitive(uuid, row["ex_pci_requests"]) if have_extra else None
        )
    if "keypairs" in attrs and have_extra and row["ex_keypairs"]:
        data["keypairs"] = json.loads(row["ex_keypairs"])
    if attrs.intersection(FLAVOR_FIELDS) and have_extra and row["ex_flavor"]:
        info = json.loads(row["ex_flavor"])
        data["flavor"] = _flavor(info["cur"])
        data["old_flavor"] = _flavor(info["old"]) if info["old"] else None
        data["new_flavor"] = _flavor(info["new"]) if info["new"] else None


def _stored_object(name: str, text: str | None) -> Primitive | None:
    if text is None:
        return None
    primitive: Primitive = json.loads(text)
    if name == "numa_topology":
        _check_numa(primitive)
    return primitive


def _check_numa(primitive: Primitive) -> None:
    # nova migrates legacy topologies and pre-1.4 cells on load and writes them back.
    if "nova_object.name" not in primitive:
        raise UnsupportedStoredValue("legacy numa_topology")
    for cell in primitive.get("nova_object.data", {}).get("cells", []) or []:
        major, minor = (int(p) for p in cell["nova_object.version"].split("."))
        if (major, minor) < (1, 4):
            raise UnsupportedStoredValue("pre-1.4 InstanceNUMACell")


def hydrated_flavor(primitive: Primitive) -> Primitive:
    """A Flavor primitive as nova re-serialises it after `obj_from_primitive`.

    Flavor tracks extra_specs and projects against originals that its
    `_obj_from_primitive` only records when `obj_what_changed()` does not already list
    them, and that check compares against the empty originals: a non-empty extra_specs
    (or projects) always comes out changed.
    """
    data = primitive.get("nova_object.data") or {}
    changes = list(primitive.get("nova_object.changes") or [])
    for name in ("extra_specs", "projects"):
        if data.get(name) and name not in changes:
            changes.append(name)
    if changes:
        primitive["nova_object.changes"] = changes
    return primitive


def _flavor(primitive: Primitive) -> Primitive:
    """`_default_flavor_values`: setting a missing field marks it changed on the Flavor."""
    hydrated_flavor(primitive)
    data = primitive.setdefault("nova_object.data", {})
    changes = list(primitive.get("nova_object.changes") or [])
    for name, default in (("disabled", False), ("is_public", True)):
        if name not in data:
            data[name] = default
            if name not in changes:
                changes.append(name)
    if changes:
        primitive["nova_object.changes"] = changes
    return primitive


def pci_requests_primitive(uuid: str, text: str | None) -> Primitive:
    """`InstancePCIRequests.obj_from_db`: the column is a JSON list, not a primitive."""
    requests = json.loads(text) if text is not None else []
    objs = [
        make(
            "InstancePCIRequest",
            "1.4",
            {
                "count": r["count"],
                "spec": r["spec"],
                "alias_name": r["alias_name"],
                "is_new": False,
                "numa_policy": r.get("numa_policy", "legacy"),
                "request_id": r["request_id"],
                "requester_id": r.get("requester_id"),
            },
        )
        for r in requests
    ]
    return make("InstancePCIRequests", "1.1", {"requests": objs, "instance_uuid": uuid})
