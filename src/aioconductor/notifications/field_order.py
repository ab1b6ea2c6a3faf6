"""The field order of nova 34.0.0's notification payloads, as `obj_to_primitive` writes
them (a subclass's own fields first, then its parents'): the builders write their payloads
in it, so a message's text (the log driver's line) is nova's; tests/unit check them against
this table. Generated from nova 34.0.0's classes (`list(cls.fields)`).
"""

from __future__ import annotations

FIELD_ORDER: dict[str, tuple[str, ...]] = {
    "InstanceActionPayload": (
        "fault", "request_id", "uuid", "user_id", "tenant_id", "reservation_id", "display_name",
        "display_description", "host_name", "host", "node", "os_type", "architecture",
        "availability_zone", "flavor", "image_uuid", "key_name", "kernel_id", "ramdisk_id",
        "created_at", "launched_at", "terminated_at", "deleted_at", "updated_at", "state",
        "power_state", "task_state", "progress", "ip_addresses", "block_devices", "metadata",
        "locked", "auto_disk_config", "action_initiator_user", "action_initiator_project",
        "locked_reason", "shares"
    ),
    "InstanceUpdatePayload": (
        "state_update", "audit_period", "old_display_name", "tags", "uuid", "user_id",
        "tenant_id", "reservation_id", "display_name", "display_description", "host_name",
        "host", "node", "os_type", "architecture", "availability_zone", "flavor", "image_uuid",
        "key_name", "kernel_id", "ramdisk_id", "created_at", "launched_at", "terminated_at",
        "deleted_at", "updated_at", "state", "power_state", "task_state", "progress",
        "ip_addresses", "block_devices", "metadata", "locked", "auto_disk_config", "request_id",
        "action_initiator_user", "action_initiator_project", "locked_reason", "shares"
    ),
    "ComputeTaskPayload": (
        "instance_uuid", "request_spec", "state", "reason"
    ),
    "RequestSpecPayload": (
        "instance_uuid", "project_id", "user_id", "availability_zone", "flavor", "force_hosts",
        "force_nodes", "ignore_hosts", "image_meta", "instance_group", "image", "numa_topology",
        "pci_requests", "num_instances", "requested_destination", "retry", "scheduler_hints",
        "security_groups"
    ),
    "FlavorPayload": (
        "flavorid", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "name", "swap",
        "rxtx_factor", "vcpu_weight", "disabled", "is_public", "extra_specs", "projects",
        "description"
    ),
    "ImageMetaPayload": (
        "id", "name", "status", "visibility", "protected", "checksum", "owner", "size",
        "virtual_size", "container_format", "disk_format", "created_at", "updated_at", "tags",
        "direct_url", "min_ram", "min_disk", "properties"
    ),
    "ImageMetaPropsPayload": (
        "hw_architecture", "hw_emulation_architecture", "hw_auto_disk_config", "hw_boot_menu",
        "hw_cdrom_bus", "hw_cpu_cores", "hw_cpu_sockets", "hw_cpu_max_cores",
        "hw_cpu_max_sockets", "hw_cpu_max_threads", "hw_cpu_policy", "hw_cpu_thread_policy",
        "hw_cpu_realtime_mask", "hw_cpu_threads", "hw_device_id", "hw_disk_bus", "hw_disk_type",
        "hw_floppy_bus", "hw_firmware_type", "hw_firmware_stateless", "hw_input_bus",
        "hw_ipxe_boot", "hw_locked_memory", "hw_machine_type", "hw_mem_encryption",
        "hw_mem_encryption_model", "hw_mem_page_size", "hw_numa_nodes", "hw_numa_cpus",
        "hw_numa_mem", "hw_pci_numa_affinity_policy", "hw_pointer_model", "hw_pmu",
        "hw_qemu_guest_agent", "hw_rescue_bus", "hw_rescue_device", "hw_rng_model",
        "hw_time_hpet", "hw_serial_port_count", "hw_scsi_model", "hw_video_model",
        "hw_video_ram", "hw_vif_model", "hw_viommu_model", "hw_vm_mode", "hw_watchdog_action",
        "hw_vif_multiqueue_enabled", "hw_tpm_model", "hw_tpm_version",
        "hw_ephemeral_encryption", "hw_ephemeral_encryption_format", "hw_virtio_packed_ring",
        "hw_maxphysaddr_mode", "hw_maxphysaddr_bits", "hw_sound_model", "hw_usb_model",
        "hw_redirected_usb_ports", "img_bittorrent", "img_bdm_v2", "img_block_device_mapping",
        "img_cache_in_nova", "img_compression_level", "img_hv_requested_version", "img_hv_type",
        "img_config_drive", "img_linked_clone", "img_mappings", "img_owner_id",
        "img_root_device_name", "img_use_agent", "img_version", "img_signature",
        "img_signature_hash_method", "img_signature_certificate_uuid", "img_signature_key_type",
        "img_hide_hypervisor_id", "os_admin_user", "os_command_line", "os_distro",
        "os_require_quiesce", "os_secure_boot", "os_skip_agent_inject_files_at_boot",
        "os_skip_agent_inject_ssh", "os_type", "traits_required"
    ),
    "ExceptionPayload": (
        "module_name", "function_name", "exception", "exception_message", "traceback"
    ),
    "InstanceNUMATopologyPayload": (
        "instance_uuid", "cells", "emulator_threads_policy"
    ),
    "InstanceNUMACellPayload": (
        "id", "cpuset", "pcpuset", "cpuset_reserved", "memory", "pagesize", "cpu_topology",
        "cpu_pinning_raw", "cpu_policy", "cpu_thread_policy"
    ),
    "VirtCPUTopologyPayload": (
        "sockets", "cores", "threads"
    ),
    "InstancePCIRequestsPayload": (
        "instance_uuid", "requests"
    ),
    "InstancePCIRequestPayload": (
        "count", "spec", "alias_name", "request_id", "numa_policy"
    ),
    "DestinationPayload": (
        "host", "node", "cell", "aggregates"
    ),
    "SchedulerRetriesPayload": (
        "num_attempts", "hosts"
    ),
    "CellMappingPayload": (
        "uuid", "name", "disabled"
    ),
    "ServerGroupPayload": (
        "uuid", "name", "user_id", "project_id", "policies", "members", "hosts", "policy",
        "rules"
    ),
    "IpPayload": (
        "label", "mac", "meta", "port_uuid", "version", "address", "device_name"
    ),
    "BlockDevicePayload": (
        "device_name", "boot_index", "delete_on_termination", "volume_id", "tag"
    ),
    "SharePayload": (
        "share_mapping_uuid", "share_id", "status", "tag"
    ),
    "InstanceStateUpdatePayload": (
        "old_state", "state", "old_task_state", "new_task_state"
    ),
    "AuditPeriodPayload": (
        "audit_period_beginning", "audit_period_ending"
    ),
    "ServiceStatusPayload": (
        "host", "binary", "topic", "report_count", "disabled", "disabled_reason",
        "availability_zone", "last_seen_up", "forced_down", "version", "uuid"
    ),
}  # fmt: skip
