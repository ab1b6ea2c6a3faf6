"""Runs in nova 34.0.0's virtualenv (imported by the scripts beside it and by the boot oracle's):
what nova-api writes and casts for one boot request, with nova's own objects and builders.

`provision` follows `API._provision_instances` for each instance (request spec, build request,
instance mapping in one transaction, `_populate_instance_for_create`), `cast` is
`ComputeTaskAPI.schedule_and_build_instances` with what nova-api passes (the request's BDMs and
tags without instance uuids, the requested networks also set on every spec), and
`map_cells` writes cell and host mappings as `nova-manage cell_v2` does. With the option
`server_group` the request names a group (scheduler hint `group`), which nova-api reads
(`_get_requested_instance_group`) and adds each instance to (`InstanceGroup.add_members`).
"""

IMAGE_ID = "155d900f-4e14-4e4c-a73d-069cbf4541e6"
IMAGE = {
    "id": IMAGE_ID, "name": "cirros", "status": "active", "min_ram": 0, "min_disk": 0,
    "size": 25165824, "container_format": "bare", "disk_format": "qcow2",
    "properties": {"hw_architecture": "x86_64"}, "checksum": None, "owner": None,
    "created_at": "2011-01-01T01:02:03.000000", "updated_at": "2011-01-01T01:02:03.000000",
    "deleted": False, "deleted_at": None, "is_public": True,
}  # fmt: skip
GROUP_UUID = "0f9a7c4e-5b1d-4e2a-8c3f-6d7e8f9a0b1c"
EARLIER_MEMBER = "7e6d5c4b-3a29-4817-b6f5-e4d3c2b1a098"


def map_cells(admin, cells, hosts):
    """Cell mappings (cells: {cell0, cell1: {uuid, database, transport_url}}) and a host
    mapping to cell1 for each of `hosts`, each only if missing."""
    from nova import objects

    for name in ("cell0", "cell1"):
        cell = cells[name]
        try:
            objects.CellMapping.get_by_uuid(admin, cell["uuid"])
        except Exception:
            objects.CellMapping(
                admin, uuid=cell["uuid"], name=name, transport_url=cell["transport_url"],
                database_connection=cell["database"], disabled=False,
            ).create()  # fmt: skip
    cell1 = objects.CellMapping.get_by_uuid(admin, cells["cell1"]["uuid"])
    for host in hosts:
        try:
            objects.HostMapping.get_by_host(admin, host)
        except Exception:
            objects.HostMapping(admin, host=host, cell_mapping=cell1).create()


def flavor(ephemeral_gb=0):
    from nova import objects

    return objects.Flavor(
        id=1, flavorid="1", name="m1.tiny", memory_mb=512, vcpus=1, root_gb=1,
        ephemeral_gb=ephemeral_gb, swap=0, rxtx_factor=1.0, vcpu_weight=0, disabled=False,
        is_public=True, extra_specs={}, projects=[], description=None,
    )  # fmt: skip


def server_group(ctx, policy, member_on=None):
    """A group of the user's project (as `os-server-groups` creates it) and, when
    `member_on` names a host, one earlier member already built there (its instance in the
    cell of `[database]`); the group as nova-api reads it for the request."""
    from nova import objects

    admin = ctx.elevated()  # the request's id: both sides' notifications carry the same
    objects.InstanceGroup(admin, uuid=GROUP_UUID, name="oracle-group", policy=policy,
                          project_id=ctx.project_id, user_id=ctx.user_id).create()  # fmt: skip
    if member_on:
        objects.Instance(admin, uuid=EARLIER_MEMBER, user_id=ctx.user_id,
                         project_id=ctx.project_id, host=member_on, node=f"{member_on}-node",
                         compute_id=1, vm_state="active", power_state=1, memory_mb=512,
                         vcpus=1).create()  # fmt: skip
        objects.InstanceGroup.add_members(admin, GROUP_UUID, [EARLIER_MEMBER])
    return objects.InstanceGroup.get_by_uuid(ctx, GROUP_UUID)


def provision(ctx, uuids, reservation_id, options=None):
    """The rows nova-api writes for one request of len(uuids) instances; what it casts.

    options: name, metadata, tags (strings), blank_bdm (a blank local disk besides the image
    BDM), ephemeral_gb, port_resource_request (a port uuid: the bandwidth request group
    nova's network API makes for a QoS port), server_group ({policy, member_on}: see
    server_group)."""
    from nova import block_device, objects
    from nova.compute import api as compute_api
    from nova.compute import power_state, vm_states

    options = options or {}
    api = compute_api.API()
    chosen = flavor(options.get("ephemeral_gb", 0))
    security_groups = ["default"]
    # what the API request carries (_check_and_transform_bdm, _create_tag_list_obj)
    base_bdms = [objects.BlockDeviceMapping(ctx, **block_device.create_image_bdm(IMAGE_ID))]
    if options.get("blank_bdm"):
        base_bdms.append(
            objects.BlockDeviceMapping(
                ctx, source_type="blank", destination_type="local", device_type="disk",
                guest_format=None, delete_on_termination=True, boot_index=-1,
                volume_size=None, device_name=None, disk_bus=None,
            )
        )  # fmt: skip
    bdm_list = objects.BlockDeviceMappingList(objects=base_bdms)
    tags = objects.TagList(objects=[objects.Tag(ctx, tag=t) for t in options.get("tags", [])])
    group, hints = None, {}
    if options.get("server_group"):
        group = server_group(ctx, **options["server_group"])
        hints = {"group": group.uuid}
    build_requests, specs = [], []
    port_requests = []
    if options.get("port_resource_request"):
        port_requests.append(
            objects.RequestGroup(
                requester_id=options["port_resource_request"], use_same_provider=True,
                resources={"NET_BW_EGR_KILOBIT_PER_SEC": 1000},
                required_traits={"CUSTOM_PHYSNET_NET1", "CUSTOM_VNIC_TYPE_NORMAL"},
                forbidden_traits=set(), aggregates=[], forbidden_aggregates=set(),
            )
        )  # fmt: skip
    for index, uuid in enumerate(uuids):
        spec = objects.RequestSpec.from_components(
            ctx, uuid, IMAGE, chosen, None, objects.InstancePCIRequests(requests=[]),
            {"scheduler_hints": hints, "instance_type": chosen}, group, None,
            security_groups=objects.SecurityGroupList(
                objects=[objects.SecurityGroup(name=n) for n in security_groups]
            ),
            port_resource_requests=list(port_requests),
            request_level_params=objects.RequestLevelParams(),
        )  # fmt: skip
        spec.is_bfv = False
        spec.num_instances = len(uuids)
        instance = objects.Instance(context=ctx)
        instance.uuid = uuid
        instance.update(
            {
                "reservation_id": reservation_id, "image_ref": IMAGE_ID, "kernel_id": "",
                "ramdisk_id": "", "power_state": power_state.NOSTATE,
                "vm_state": vm_states.BUILDING, "config_drive": "", "user_id": ctx.user_id,
                "project_id": ctx.project_id, "instance_type_id": chosen.id,
                "memory_mb": chosen.memory_mb, "vcpus": chosen.vcpus, "root_gb": chosen.root_gb,
                "ephemeral_gb": chosen.ephemeral_gb,
                "display_name": options.get("name", "oracle"),
                "display_description": options.get("name", "oracle"),
                "hostname": None, "user_data": None, "key_name": None, "key_data": None,
                "locked": False, "metadata": options.get("metadata", {}),
                "access_ip_v4": None, "access_ip_v6": None, "availability_zone": None,
                "root_device_name": None, "progress": 0,
                "pci_requests": objects.InstancePCIRequests(requests=[]),
                "numa_topology": None, "system_metadata": {}, "os_type": None,
                "architecture": "x86_64", "vm_mode": None, "auto_disk_config": False,
            }
        )  # fmt: skip
        instance.keypairs = objects.KeyPairList(objects=[])
        instance.trusted_certs = None
        api._populate_instance_for_create(
            ctx, instance, IMAGE, index, security_groups, chosen, len(uuids)
        )
        instance_bdms = bdm_list.obj_clone()
        for bdm in instance_bdms:
            bdm.instance_uuid = uuid
            if bdm.source_type == "blank" and bdm.volume_size is None:
                bdm.volume_size = chosen.ephemeral_gb or None
        build_request = objects.BuildRequest(
            ctx, instance=instance, instance_uuid=uuid, project_id=ctx.project_id,
            block_device_mappings=instance_bdms, tags=api._transform_tags(tags, uuid),
        )  # fmt: skip
        mapping = objects.InstanceMapping(context=ctx)
        mapping.instance_uuid = uuid
        mapping.project_id = ctx.project_id
        mapping.user_id = ctx.user_id
        mapping.cell_mapping = None
        api._create_reqspec_buildreq_instmapping(ctx, spec, build_request, mapping)
        if group is not None:
            group.members.extend(objects.InstanceGroup.add_members(ctx, group.uuid, [uuid]))
        build_requests.append(build_request)
        specs.append(spec)
    networks = objects.NetworkRequestList(objects=[objects.NetworkRequest(network_id="none")])
    for spec in specs:
        spec.requested_networks = networks
    return {
        "build_requests": build_requests, "request_spec": specs, "image": IMAGE,
        "admin_password": "secret", "injected_files": [], "requested_networks": networks,
        "block_device_mapping": bdm_list, "tags": tags,
    }  # fmt: skip


def cast(ctx, request):
    from nova.conductor import api as conductor_api

    conductor_api.ComputeTaskAPI().schedule_and_build_instances(ctx, **request)
