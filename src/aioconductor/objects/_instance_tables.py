"""Lightweight table clauses for the instance family's queries.

Plain `table()`/`column()` constructs: no type processing on the hot path (booleans come
back as ints, DATETIME as naive datetimes), and no dependency on the full schema metadata.
Column names are nova 34.0.0's (db/main/models.py).
"""

from __future__ import annotations

from sqlalchemy import column, table
from sqlalchemy.sql import TableClause

# Instance fields that are plain columns of `instances` (nova's _from_db_object copies them).
INSTANCE_COLUMNS: tuple[str, ...] = (
    "id", "user_id", "project_id", "image_ref", "kernel_id", "ramdisk_id", "hostname",
    "launch_index", "key_name", "key_data", "power_state", "vm_state", "task_state",
    "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "ephemeral_key_uuid", "host", "node",
    "compute_id", "instance_type_id", "user_data", "reservation_id", "launched_at",
    "terminated_at", "availability_zone", "display_name", "display_description",
    "launched_on", "locked", "locked_by", "os_type", "architecture", "vm_mode", "uuid",
    "root_device_name", "default_ephemeral_device", "default_swap_device", "config_drive",
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "progress", "shutdown_terminate",
    "disable_terminate", "cell_name", "cleaned", "hidden", "created_at", "updated_at",
    "deleted_at", "deleted",
)  # fmt: skip

EXTRA_COLUMNS: tuple[str, ...] = (
    "numa_topology", "pci_requests", "flavor", "vcpu_model", "migration_context",
    "keypairs", "device_metadata", "trusted_certs", "resources",
)  # fmt: skip

_SOFT_DELETE = ("created_at", "updated_at", "deleted_at", "deleted")


def _t(name: str, *cols: str) -> TableClause:
    return table(name, *(column(c) for c in cols))


instances = _t("instances", *INSTANCE_COLUMNS)
instance_extra = _t("instance_extra", "id", "instance_uuid", *EXTRA_COLUMNS, *_SOFT_DELETE)
instance_info_caches = _t(
    "instance_info_caches", "id", "instance_uuid", "network_info", *_SOFT_DELETE
)
instance_metadata = _t("instance_metadata", "id", "key", "value", "instance_uuid", *_SOFT_DELETE)
instance_system_metadata = _t(
    "instance_system_metadata", "id", "key", "value", "instance_uuid", *_SOFT_DELETE
)
instance_faults = _t(
    "instance_faults", "id", "instance_uuid", "code", "message", "details", "host",
    *_SOFT_DELETE,
)  # fmt: skip
tags = _t("tags", "resource_id", "tag")
security_group_instance_association = _t(
    "security_group_instance_association", "id", "security_group_id", "instance_uuid",
    *_SOFT_DELETE,
)  # fmt: skip
block_device_mapping = _t("block_device_mapping", "id", "instance_uuid", *_SOFT_DELETE)
migrations = _t("migrations", "id", "instance_uuid", *_SOFT_DELETE)
virtual_interfaces = _t("virtual_interfaces", "id", "instance_uuid", *_SOFT_DELETE)
instance_id_mappings = _t("instance_id_mappings", "id", "uuid", *_SOFT_DELETE)
console_auth_tokens = _t("console_auth_tokens", "id", "instance_uuid")
