"""The payloads nova builds for an instance update, from the Instance as Instance.save left it.

`legacy_payload` is `info_from_instance` (network_info None: no fixed_ips) with the states,
the audit period and `old_display_name`, as `send_instance_update_notification` adds them;
`versioned_payload` is InstanceUpdatePayload 2.1 with its nested payloads, as
`obj_to_primitive` sends them (changes reset). `instance` is the Instance primitive's data
(wire values) with every field the payloads read already loaded.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aioconductor.config.settings import GlanceOptions
from aioconductor.objects.primitives import dt_from_wire, dt_to_wire

UPDATE_PAYLOAD_VERSION = "2.1"  # InstanceUpdatePayload in nova 34.0.0
_STRTIME = "%Y-%m-%dT%H:%M:%S.%f"
# InstancePowerState: the index is the power state number nova stores
_POWER_STATES = ("pending", "running", "_unused", "paused", "shutdown", "_unused", "crashed",
                 "suspended")  # fmt: skip
_FLAVOR_SCHEMA = ("flavorid", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "name", "swap",
                  "rxtx_factor", "vcpu_weight", "disabled", "is_public", "extra_specs",
                  "projects", "description")  # fmt: skip
_INSTANCE_SCHEMA = {
    "uuid": "uuid", "user_id": "user_id", "tenant_id": "project_id",
    "reservation_id": "reservation_id", "display_name": "display_name",
    "display_description": "display_description", "host_name": "hostname", "host": "host",
    "node": "node", "os_type": "os_type", "architecture": "architecture",
    "availability_zone": "availability_zone", "image_uuid": "image_ref",
    "key_name": "key_name", "kernel_id": "kernel_id", "ramdisk_id": "ramdisk_id",
    "created_at": "created_at", "launched_at": "launched_at",
    "terminated_at": "terminated_at", "deleted_at": "deleted_at", "updated_at": "updated_at",
    "state": "vm_state", "power_state": "power_state", "task_state": "task_state",
    "progress": "progress", "metadata": "metadata", "locked": "locked",
    "auto_disk_config": "auto_disk_config",
}  # fmt: skip
# InstancePayload's fields in its class's order (what obj_to_primitive writes)
_INSTANCE_PAYLOAD_ORDER = (
    "uuid", "user_id", "tenant_id", "reservation_id", "display_name", "display_description",
    "host_name", "host", "node", "os_type", "architecture", "availability_zone", "flavor",
    "image_uuid", "key_name", "kernel_id", "ramdisk_id", "created_at", "launched_at",
    "terminated_at", "deleted_at", "updated_at", "state", "power_state", "task_state",
    "progress", "ip_addresses", "block_devices", "metadata", "locked", "auto_disk_config",
    "request_id", "action_initiator_user", "action_initiator_project", "locked_reason",
    "shares",
)  # fmt: skip


def payload(name: str, version: str, data: dict[str, Any]) -> dict[str, Any]:
    """A versioned payload object's primitive."""
    return {
        "nova_object.name": name,
        "nova_object.namespace": "nova",
        "nova_object.version": version,
        "nova_object.data": data,
    }


def _data(value: Any) -> dict[str, Any]:
    return value["nova_object.data"] if isinstance(value, dict) else {}


def _strtime(value: str | None) -> str:
    """null_safe_isotime of an instance's DateTime field."""
    moment = dt_from_wire(value)
    return moment.strftime(_STRTIME) if moment is not None else ""


def _str_datetime(value: str | None) -> str:
    """`str(instance.created_at)`: Python's form of an aware datetime."""
    moment = dt_from_wire(value)
    if moment is None:
        return "None"
    return str(moment.replace(tzinfo=datetime.UTC))


def states(
    instance: Mapping[str, Any],
    old_vm_state: str | None = None,
    old_task_state: str | None = None,
    new_vm_state: str | None = None,
    new_task_state: str | None = None,
) -> dict[str, Any]:
    """_compute_states_payload: states not given are the instance's current ones."""
    return {
        "old_state": old_vm_state if old_vm_state is not None else instance["vm_state"],
        "state": new_vm_state if new_vm_state is not None else instance["vm_state"],
        "old_task_state": (
            old_task_state if old_task_state is not None else instance["task_state"]
        ),
        "new_task_state": (
            new_task_state if new_task_state is not None else instance["task_state"]
        ),
    }


def legacy_payload(
    instance: Mapping[str, Any],
    state_fields: dict[str, Any],
    audit: tuple[datetime.datetime, datetime.datetime],
    old_display_name: str | None,
    image_ref_url: str | None,
) -> dict[str, Any]:
    payload = info_from_instance(instance, image_ref_url)
    payload.update(state_fields)
    payload["audit_period_beginning"] = audit[0].strftime(_STRTIME)
    payload["audit_period_ending"] = audit[1].strftime(_STRTIME)
    if old_display_name:
        payload["old_display_name"] = old_display_name
    return payload


def info_from_instance(instance: Mapping[str, Any], image_ref_url: str | None) -> dict[str, Any]:
    """nova.notifications.info_from_instance without network info: every legacy instance
    notification's fields."""
    flavor = _data(instance["flavor"])
    system_metadata = instance.get("system_metadata") or {}
    progress = instance.get("progress")
    payload: dict[str, Any] = {
        "tenant_id": instance.get("project_id"),
        "user_id": instance.get("user_id"),
        "instance_id": instance["uuid"],
        "display_name": instance.get("display_name"),
        "reservation_id": instance.get("reservation_id"),
        "hostname": instance.get("hostname"),
        "instance_type": flavor.get("name", ""),
        "instance_type_id": instance.get("instance_type_id"),
        "instance_flavor_id": flavor.get("flavorid", ""),
        "architecture": instance.get("architecture"),
        "memory_mb": flavor["memory_mb"],
        "disk_gb": flavor["root_gb"] + flavor["ephemeral_gb"],
        "vcpus": flavor["vcpus"],
        "root_gb": flavor["root_gb"],
        "ephemeral_gb": flavor["ephemeral_gb"],
        "host": instance.get("host"),
        "node": instance.get("node"),
        "availability_zone": instance.get("availability_zone"),
        "cell_name": instance.get("cell_name") or "",
        "created_at": _str_datetime(instance.get("created_at")),
        "terminated_at": _strtime(instance.get("terminated_at")),
        "deleted_at": _strtime(instance.get("deleted_at")),
        "launched_at": _strtime(instance.get("launched_at")),
        "image_ref_url": image_ref_url,
        "os_type": instance.get("os_type"),
        "kernel_id": instance.get("kernel_id"),
        "ramdisk_id": instance.get("ramdisk_id"),
        "state": instance.get("vm_state"),
        "state_description": instance.get("task_state") or "",
        "progress": int(progress) if progress else "",
        "access_ip_v4": instance.get("access_ip_v4"),
        "access_ip_v6": instance.get("access_ip_v6"),
        "image_meta": {k[6:]: v for k, v in system_metadata.items() if k.startswith("image_")},
        "metadata": instance.get("metadata"),
    }
    return payload


def versioned_payload(
    instance: Mapping[str, Any],
    ctx_raw: Mapping[str, Any],
    state_fields: dict[str, Any],
    audit: tuple[datetime.datetime, datetime.datetime],
    old_display_name: str | None,
    block_devices: list[dict[str, Any]] | None,
    shares: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    # InstanceUpdatePayload's own fields first, as nova writes them
    data: dict[str, Any] = {
        "state_update": payload("InstanceStateUpdatePayload", "1.0", dict(state_fields)),
        "audit_period": payload(
            "AuditPeriodPayload",
            "1.0",
            {
                "audit_period_beginning": dt_to_wire(audit[0]),
                "audit_period_ending": dt_to_wire(audit[1]),
            },
        ),
        "old_display_name": old_display_name,
        "tags": [_data(tag)["tag"] for tag in _data(instance.get("tags")).get("objects", [])],
    }
    data.update(instance_payload_data(instance, ctx_raw, block_devices, shares))
    return payload("InstanceUpdatePayload", UPDATE_PAYLOAD_VERSION, data)


def instance_payload_data(
    instance: Mapping[str, Any],
    ctx_raw: Mapping[str, Any],
    block_devices: list[dict[str, Any]] | None,
    shares: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """InstancePayload's fields (1.9), which every versioned instance payload has."""
    data: dict[str, Any] = {}
    for field, source in _INSTANCE_SCHEMA.items():
        data[field] = instance.get(source)
    power = data["power_state"]
    if isinstance(power, int) and 0 <= power < len(_POWER_STATES):
        data["power_state"] = _POWER_STATES[power]
    data["auto_disk_config"] = "AUTO" if data["auto_disk_config"] else "MANUAL"
    data["locked"] = bool(data["locked"])
    data["ip_addresses"] = ip_payloads(_network_info(instance.get("info_cache")))
    data["flavor"] = flavor_payload(instance["flavor"])
    data["block_devices"] = block_devices
    data["shares"] = shares
    user, project = ctx_raw.get("user_id"), ctx_raw.get("project_id")
    data["request_id"] = ctx_raw.get("request_id") if (project and user) else None
    data["action_initiator_user"] = user
    data["action_initiator_project"] = project
    data["locked_reason"] = (instance.get("system_metadata") or {}).get("locked_reason")
    return {name: data[name] for name in _INSTANCE_PAYLOAD_ORDER}


def flavor_payload(flavor: Mapping[str, Any]) -> dict[str, Any]:
    """FlavorPayload 1.4: fields the stored flavor lacks (projects, always) come out null:
    nova reads them on an orphaned copy, which cannot lazy-load."""
    data = _data(flavor)
    return payload("FlavorPayload", "1.4", {k: data.get(k) for k in _FLAVOR_SCHEMA})


def block_device_payloads(bdms: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """BlockDevicePayload.from_bdms: volumes only."""
    return [
        payload(
            "BlockDevicePayload",
            "1.0",
            {
                "device_name": bdm["device_name"],
                "boot_index": bdm["boot_index"],
                "delete_on_termination": bool(bdm["delete_on_termination"]),
                "volume_id": bdm["volume_id"],
                "tag": bdm["tag"],
            },
        )
        for bdm in bdms
        if bdm["volume_id"] is not None
    ]


def share_payloads(shares: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """SharePayload.from_instance: every mapping (its export location left out, as nova)."""
    return [
        payload(
            "SharePayload",
            "1.0",
            {
                "share_mapping_uuid": share["uuid"],
                "share_id": share["share_id"],
                "status": share["status"],
                "tag": share["tag"],
            },
        )
        for share in shares
    ]


def _network_info(info_cache: Any) -> list[dict[str, Any]]:
    value = _data(info_cache).get("network_info") if info_cache else None
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, list) else []


def ip_payloads(network_info: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """IpPayload.from_network_info: one per fixed IP of every VIF."""
    out = []
    for vif in network_info:
        network = vif.get("network") or {}
        for subnet in network.get("subnets") or []:
            for ip in subnet.get("ips") or []:
                address = ip["address"]
                version = ip.get("version") or ipaddress.ip_address(address).version
                out.append(
                    payload(
                        "IpPayload",
                        "1.0",
                        {
                            "label": network.get("label"),
                            "mac": str(vif.get("address")).lower(),
                            "meta": {k: str(v) for k, v in (vif.get("meta") or {}).items()},
                            "port_uuid": vif.get("id"),
                            "version": version,
                            "address": address,
                            "device_name": vif.get("devname"),
                        },
                    )
                )
    return out


_VERSION_SUFFIX = re.compile(r"/v\d+(\.\d+)?/?$")


def image_ref_url(
    image_ref: str | None,
    ctx_raw: Mapping[str, Any],
    glance: GlanceOptions,
    pick: Any,
) -> tuple[bool, str | None]:
    """glance's generate_image_url as info_from_instance calls it: (found, url).

    `[glance] api_servers`: one of them at random. Otherwise keystoneauth's endpoint:
    `[glance] endpoint_override`, else the image entry of the caller's service catalog (the
    first of `valid_interfaces` it has, in `region_name`; nova's context plugin looks it up
    without version discovery), with a trailing version replaced by `/` as nova does. No
    endpoint and no token: the image id (nova's fallback); no endpoint with a token: nova's
    notification fails as a whole, so (False, None).
    """
    if glance.api_servers:
        return True, f"{pick(list(glance.api_servers))}/images/{image_ref}"
    endpoint = glance.endpoint_override or _catalog_endpoint(
        ctx_raw.get("service_catalog") or [], glance.interfaces, glance.region
    )
    if endpoint:
        return True, f"{_VERSION_SUFFIX.sub('/', endpoint)}/images/{image_ref}"
    if ctx_raw.get("auth_token") is None:
        return True, image_ref
    return False, None


def _catalog_endpoint(
    catalog: Sequence[Any], interfaces: Sequence[str], region: str | None
) -> str | None:
    # the context keeps the image entries of the caller's (v2-format) catalog
    images = [s for s in catalog if isinstance(s, dict) and s.get("type") == "image"]
    for interface in interfaces:
        key = f"{interface}URL"
        for service in images:
            for endpoint in service.get("endpoints") or []:
                if region is not None and endpoint.get("region") != region:
                    continue
                if endpoint.get(key):
                    return str(endpoint[key])
    return None
