"""A legacy notification's payload as nova's notifier serialises it, from objects we hold as
primitives.

nova's legacy notifier passes the payload through `jsonutils.to_primitive(payload,
convert_instances=True)` (rpc.JsonPayloadSerializer): a dict-compatible nova object becomes
the dict of its set fields, any other object the dict of its attributes (`_context`,
`_changed_fields`, `VERSION` and `_obj_<field>`), a datetime `%Y-%m-%dT%H:%M:%S.%f`, a set
a list, and below three object levels everything is None. An exception becomes its repr
(exception_payload.legacy_repr). The objects here are the conductor's, deserialised from the
RPC with its context: that context, as nova's RequestContext holds it, is what `_context`
carries (the caller's token and catalog included, as nova sends them).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from aioconductor.objects.primitives import dt_from_wire

MAX_DEPTH = 3  # to_primitive's default
PERFECT_TIME = "%Y-%m-%dT%H:%M:%S.%f"  # oslo's timeutils.PERFECT_TIME_FORMAT
# nova's NovaObjectDictCompat classes (34.0.0): to_primitive reads their items()
DICT_COMPAT = frozenset({
    "BlockDeviceMapping", "Flavor", "Instance", "InstanceAction", "InstanceActionEvent",
    "InstanceFault", "InstanceGroup", "InstanceNUMACell", "InstanceNUMATopology", "KeyPair",
    "Service",
})  # fmt: skip
# DateTime fields of the objects a request spec can carry: on the wire without microseconds
DATETIME_FIELDS: dict[str, frozenset[str]] = {
    "Flavor": frozenset({"created_at", "updated_at", "deleted_at"}),
    "InstanceGroup": frozenset({"created_at", "updated_at", "deleted_at"}),
    "SecurityGroup": frozenset({"created_at", "updated_at", "deleted_at"}),
    "ImageMeta": frozenset({"created_at", "updated_at"}),
    "CellMapping": frozenset({"created_at", "updated_at"}),
    "ComputeNode": frozenset({"created_at", "updated_at", "deleted_at"}),
}
# field order (nova 34.0.0's classes) of the objects a legacy request spec carries: the
# order to_primitive writes them in
FIELD_ORDER: dict[str, tuple[str, ...]] = {
    "Flavor": ("id", "name", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "flavorid",
               "swap", "rxtx_factor", "vcpu_weight", "disabled", "is_public", "extra_specs",
               "projects", "description", "created_at", "updated_at", "deleted_at", "deleted"),
    "InstanceNUMATopology": ("id", "instance_uuid", "cells", "emulator_threads_policy"),
    "InstanceNUMACell": ("id", "cpuset", "pcpuset", "cpuset_reserved", "memory", "pagesize",
                         "cpu_topology", "cpu_pinning_raw", "cpu_policy", "cpu_thread_policy"),
    "VirtCPUTopology": ("sockets", "cores", "threads"),
    "InstancePCIRequests": ("instance_uuid", "requests"),
    "InstancePCIRequest": ("count", "spec", "alias_name", "is_new", "request_id",
                           "requester_id", "numa_policy"),
    "ImageMeta": ("id", "name", "status", "visibility", "protected", "checksum", "owner", "size",
                  "virtual_size", "container_format", "disk_format", "created_at", "updated_at",
                  "tags", "direct_url", "min_ram", "min_disk", "properties"),
}  # fmt: skip
_CATALOG_TYPES = ("image", "block-storage", "volumev3", "key-manager", "placement", "network",
                  "accelerator", "sharev2")  # fmt: skip


def in_order(values: Mapping[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """`values` with the keys `order` names first, in that order, then the rest as they came."""
    rank = {name: n for n, name in enumerate(order)}
    return dict(sorted(values.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def perfect_time(value: Any) -> Any:
    """A DateTime field's wire text (or a datetime) as to_primitive writes a datetime."""
    if isinstance(value, datetime.datetime):
        return value.strftime(PERFECT_TIME)
    if isinstance(value, str):
        moment = dt_from_wire(value)
        if moment is not None:
            return moment.strftime(PERFECT_TIME)
    return value


def context_attributes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`RequestContext.from_dict(raw).__dict__` as to_primitive writes it."""
    timestamp = raw.get("timestamp")
    catalog = raw.get("service_catalog") or []
    return {
        "user_id": raw.get("user_id") or raw.get("user"),
        "project_id": raw.get("project_id"),
        "domain_id": raw.get("domain"),
        "user_domain_id": raw.get("user_domain"),
        "project_domain_id": raw.get("project_domain"),
        "auth_token": raw.get("auth_token"),
        "user_name": raw.get("user_name"),
        "project_name": raw.get("project_name"),
        "domain_name": raw.get("domain_name"),
        "system_scope": raw.get("system_scope"),
        "user_domain_name": raw.get("user_domain_name"),
        "project_domain_name": raw.get("project_domain_name"),
        "_is_admin": raw.get("is_admin", False),
        "is_admin_project": raw.get("is_admin_project", True),
        "read_only": raw.get("read_only", False),
        "show_deleted": raw.get("show_deleted", False),
        "resource_uuid": raw.get("resource_uuid"),
        "roles": list(raw.get("roles") or []),
        "service_token": None,
        "service_user_id": None,
        "service_user_name": None,
        "service_user_domain_id": None,
        "service_user_domain_name": None,
        "service_project_id": None,
        "service_project_name": None,
        "service_project_domain_id": None,
        "service_project_domain_name": None,
        "service_roles": [],
        "request_id": raw.get("request_id"),
        "global_request_id": raw.get("global_request_id"),
        "_read_deleted": raw.get("read_deleted", "no"),
        "remote_address": raw.get("remote_address"),
        # nova parses the wire's strtime and to_primitive writes it back the same way
        "timestamp": timestamp,
        "service_catalog": [
            s for s in catalog if isinstance(s, dict) and s.get("type") in _CATALOG_TYPES
        ],
        "quota_class": raw.get("quota_class"),
        "db_connection": None,
        "mq_connection": None,
        "cell_uuid": None,
        "user_auth_plugin": None,
        # oslo.db's per-context transaction holder: a conductor that fails a build has read
        # the API database with this context (cell0's mapping at least); empty between reads
        "_enginefacade_context": {},
    }


class _Attributes(dict[str, Any]):
    """A Python object's `__dict__` (a context): one level deeper than where it sits."""


def to_primitive(value: Any, ctx_raw: Mapping[str, Any], level: int = 0) -> Any:
    """`jsonutils.to_primitive(value, convert_instances=True)` of a value whose nova objects
    are object primitives deserialised with the context `ctx_raw`."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, datetime.datetime):
        return value.strftime(PERFECT_TIME)
    if level > MAX_DEPTH:
        return None
    if isinstance(value, _Attributes):
        if level + 1 > MAX_DEPTH:
            return None
        return {k: to_primitive(v, ctx_raw, level + 1) for k, v in value.items()}
    if isinstance(value, Mapping):
        if "nova_object.name" in value:
            return _object(value, ctx_raw, level + 1)
        return {k: to_primitive(v, ctx_raw, level) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_primitive(v, ctx_raw, level) for v in value]
    return str(value)


def _object(primitive: Mapping[str, Any], ctx_raw: Mapping[str, Any], level: int) -> Any:
    if level > MAX_DEPTH:
        return None
    name = str(primitive["nova_object.name"])
    data = primitive.get("nova_object.data") or {}
    times = DATETIME_FIELDS.get(name, frozenset())
    fields = {k: perfect_time(v) if k in times else v for k, v in data.items()}
    fields = in_order(fields, FIELD_ORDER.get(name, ()))
    if name in DICT_COMPAT:
        return {k: to_primitive(v, ctx_raw, level) for k, v in fields.items()}
    attributes: dict[str, Any] = {
        "_changed_fields": list(primitive.get("nova_object.changes") or []),
        "_context": _Attributes(context_attributes(ctx_raw)),
        "VERSION": primitive.get("nova_object.version"),
    }
    attributes.update((f"_obj_{k}", v) for k, v in fields.items())
    return {k: to_primitive(v, ctx_raw, level) for k, v in attributes.items()}
