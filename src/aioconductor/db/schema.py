"""SQLAlchemy Core tables mirroring nova 34.0.0's cell database: the tables aioconductor reads
or writes, column for column.

The hot paths run hand-written SQL (db/raw.py) or lightweight `table()` clauses; this typed
mirror is the reference both are checked against: `tests/compat/test_schema.py` compares it
with a database built by nova's own `nova-manage db sync`, and the column lists the object
modules select are derived from it, so a drift is a failing test, not a surprise in
production.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Enum,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.mysql import MEDIUMTEXT

metadata = MetaData()

services = Table(
    "services",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("host", String(255)),
    Column("binary", String(255)),
    Column("topic", String(255)),
    Column("report_count", Integer, nullable=False),
    Column("disabled", Boolean),
    Column("deleted", Integer),
    Column("disabled_reason", String(255)),
    Column("last_seen_up", DateTime),
    Column("forced_down", Boolean),
    Column("version", Integer),
    Column("uuid", String(36)),
)


compute_nodes = Table(
    "compute_nodes",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("service_id", Integer),
    Column("vcpus", Integer, nullable=False),
    Column("memory_mb", Integer, nullable=False),
    Column("local_gb", Integer, nullable=False),
    Column("vcpus_used", Integer, nullable=False),
    Column("memory_mb_used", Integer, nullable=False),
    Column("local_gb_used", Integer, nullable=False),
    Column("hypervisor_type", MEDIUMTEXT, nullable=False),
    Column("hypervisor_version", Integer, nullable=False),
    Column("cpu_info", MEDIUMTEXT, nullable=False),
    Column("disk_available_least", Integer),
    Column("free_ram_mb", Integer),
    Column("free_disk_gb", Integer),
    Column("current_workload", Integer),
    Column("running_vms", Integer),
    Column("hypervisor_hostname", String(255)),
    Column("deleted", Integer),
    Column("host_ip", String(39)),
    Column("supported_instances", Text),
    Column("pci_stats", Text),
    Column("metrics", Text),
    Column("extra_resources", Text),
    Column("stats", Text),
    Column("numa_topology", Text),
    Column("host", String(255)),
    Column("ram_allocation_ratio", Float),
    Column("cpu_allocation_ratio", Float),
    Column("uuid", String(36)),
    Column("disk_allocation_ratio", Float),
    Column("mapped", Integer),
)


instances = Table(
    "instances",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("internal_id", Integer),
    Column("user_id", String(255)),
    Column("project_id", String(255)),
    Column("image_ref", String(255)),
    Column("kernel_id", String(255)),
    Column("ramdisk_id", String(255)),
    Column("launch_index", Integer),
    Column("key_name", String(255)),
    Column("key_data", MEDIUMTEXT),
    Column("power_state", Integer),
    Column("vm_state", String(255)),
    Column("memory_mb", Integer),
    Column("vcpus", Integer),
    Column("hostname", String(255)),
    Column("host", String(255)),
    Column("user_data", MEDIUMTEXT),
    Column("reservation_id", String(255)),
    Column("launched_at", DateTime),
    Column("terminated_at", DateTime),
    Column("display_name", String(255)),
    Column("display_description", String(255)),
    Column("availability_zone", String(255)),
    Column("locked", Boolean),
    Column("os_type", String(255)),
    Column("launched_on", MEDIUMTEXT),
    Column("instance_type_id", Integer),
    Column("vm_mode", String(255)),
    Column("uuid", String(36), nullable=False),
    Column("architecture", String(255)),
    Column("root_device_name", String(255)),
    Column("access_ip_v4", String(39)),
    Column("access_ip_v6", String(39)),
    Column("config_drive", String(255)),
    Column("task_state", String(255)),
    Column("default_ephemeral_device", String(255)),
    Column("default_swap_device", String(255)),
    Column("progress", Integer),
    Column("auto_disk_config", Boolean),
    Column("shutdown_terminate", Boolean),
    Column("disable_terminate", Boolean),
    Column("root_gb", Integer),
    Column("ephemeral_gb", Integer),
    Column("cell_name", String(255)),
    Column("node", String(255)),
    Column("deleted", Integer),
    Column("locked_by", Enum("owner", "admin", name="locked_by")),
    Column("cleaned", Integer),
    Column("ephemeral_key_uuid", String(36)),
    Column("hidden", Boolean),
    Column("compute_id", BigInteger),
)


instance_extra = Table(
    "instance_extra",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("deleted", Integer),
    Column("id", Integer, primary_key=True),
    Column("instance_uuid", String(36), nullable=False),
    Column("numa_topology", Text),
    Column("pci_requests", Text),
    Column("flavor", Text),
    Column("vcpu_model", Text),
    Column("migration_context", Text),
    Column("keypairs", Text),
    Column("device_metadata", Text),
    Column("trusted_certs", Text),
    Column("vpmems", Text),
    Column("resources", Text),
)


instance_info_caches = Table(
    "instance_info_caches",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("network_info", MEDIUMTEXT),
    Column("instance_uuid", String(36), nullable=False),
    Column("deleted", Integer),
)


instance_metadata = Table(
    "instance_metadata",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("key", String(255)),
    Column("value", String(255)),
    Column("instance_uuid", String(36)),
    Column("deleted", Integer),
)


instance_system_metadata = Table(
    "instance_system_metadata",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("instance_uuid", String(36), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", String(255)),
    Column("deleted", Integer),
)


tags = Table(
    "tags",
    metadata,
    Column("resource_id", String(36), primary_key=True),
    Column("tag", String(80), primary_key=True),
)


instance_faults = Table(
    "instance_faults",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("instance_uuid", String(36)),
    Column("code", Integer, nullable=False),
    Column("message", String(255)),
    Column("details", MEDIUMTEXT),
    Column("host", String(255)),
    Column("deleted", Integer),
)


instance_actions = Table(
    "instance_actions",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("action", String(255)),
    Column("instance_uuid", String(36)),
    Column("request_id", String(255)),
    Column("user_id", String(255)),
    Column("project_id", String(255)),
    Column("start_time", DateTime),
    Column("finish_time", DateTime),
    Column("message", String(255)),
    Column("deleted", Integer),
)


instance_actions_events = Table(
    "instance_actions_events",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("event", String(255)),
    Column("action_id", Integer),
    Column("start_time", DateTime),
    Column("finish_time", DateTime),
    Column("result", String(255)),
    Column("traceback", Text),
    Column("deleted", Integer),
    Column("host", String(255)),
    Column("details", Text),
)


block_device_mapping = Table(
    "block_device_mapping",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("device_name", String(255)),
    Column("delete_on_termination", Boolean),
    Column("snapshot_id", String(36)),
    Column("volume_id", String(36)),
    Column("volume_size", Integer),
    Column("no_device", Boolean),
    Column("connection_info", MEDIUMTEXT),
    Column("instance_uuid", String(36)),
    Column("deleted", Integer),
    Column("source_type", String(255)),
    Column("destination_type", String(255)),
    Column("guest_format", String(255)),
    Column("device_type", String(255)),
    Column("disk_bus", String(255)),
    Column("boot_index", Integer),
    Column("image_id", String(36)),
    Column("tag", String(255)),
    Column("attachment_id", String(36)),
    Column("uuid", String(36)),
    Column("volume_type", String(255)),
    Column("encrypted", Boolean),
    Column("encryption_secret_uuid", String(36)),
    Column("encryption_format", String(128)),
    Column("encryption_options", String(4096)),
)


virtual_interfaces = Table(
    "virtual_interfaces",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("address", String(255)),
    Column("network_id", Integer),
    Column("uuid", String(36)),
    Column("instance_uuid", String(36)),
    Column("deleted", Integer),
    Column("tag", String(255)),
)


migrations = Table(
    "migrations",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("source_compute", String(255)),
    Column("dest_compute", String(255)),
    Column("dest_host", String(255)),
    Column("status", String(255)),
    Column("instance_uuid", String(36)),
    Column("old_instance_type_id", Integer),
    Column("new_instance_type_id", Integer),
    Column("source_node", String(255)),
    Column("dest_node", String(255)),
    Column("deleted", Integer),
    Column(
        "migration_type",
        Enum("migration", "resize", "live-migration", "evacuation", name="migration_type"),
    ),
    Column("hidden", Boolean),
    Column("memory_total", BigInteger),
    Column("memory_processed", BigInteger),
    Column("memory_remaining", BigInteger),
    Column("disk_total", BigInteger),
    Column("disk_processed", BigInteger),
    Column("disk_remaining", BigInteger),
    Column("uuid", String(36)),
    Column("cross_cell_move", Boolean),
    Column("user_id", String(255)),
    Column("project_id", String(255)),
    Column("dest_compute_id", BigInteger),
)


pci_devices = Table(
    "pci_devices",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("deleted", Integer),
    Column("id", Integer, primary_key=True),
    Column("compute_node_id", Integer, nullable=False),
    Column("address", String(12), nullable=False),
    Column("product_id", String(4), nullable=False),
    Column("vendor_id", String(4), nullable=False),
    Column("dev_type", String(8), nullable=False),
    Column("dev_id", String(255)),
    Column("label", String(255), nullable=False),
    Column("status", String(36), nullable=False),
    Column("extra_info", Text),
    Column("instance_uuid", String(36)),
    Column("request_id", String(36)),
    Column("numa_node", Integer),
    Column("parent_addr", String(12)),
    Column("uuid", String(36)),
)


share_mapping = Table(
    "share_mapping",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("id", BigInteger, primary_key=True),
    Column("uuid", String(36)),
    Column("instance_uuid", String(36)),
    Column("share_id", String(36)),
    Column("status", String(32)),
    Column("tag", String(48)),
    Column("export_location", Text),
    Column("share_proto", String(32)),
)


console_auth_tokens = Table(
    "console_auth_tokens",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(255), nullable=False),
    Column("console_type", String(255), nullable=False),
    Column("host", String(255), nullable=False),
    Column("port", Integer, nullable=False),
    Column("internal_access_path", String(255)),
    Column("instance_uuid", String(36), nullable=False),
    Column("expires", Integer, nullable=False),
    Column("access_url_base", String(255)),
    Column("tls_port", Integer),
)


security_group_instance_association = Table(
    "security_group_instance_association",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("security_group_id", Integer),
    Column("instance_uuid", String(36)),
    Column("deleted", Integer),
)


instance_id_mappings = Table(
    "instance_id_mappings",
    metadata,
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False),
    Column("deleted", Integer),
)
