"""Runs in nova 34.0.0's venv: make a boot request as nova-api makes it, and cast it.

Job (JSON on stdin): conf (a nova.conf path: transport, exchange, API and cell databases),
cells {cell0, cell1: {uuid, database, transport_url}}, hosts (mapped to cell1), request_id,
user_id, project_id, instance_uuids, options {tags, blank_bdm, metadata, key_name}.

The rows nova-api writes before its cast (`_provision_instances`: the request spec, the build
request and the instance mapping of each instance, in one transaction) are written with
nova's own objects and nova-api's own builders (`_populate_instance_for_create`), then
`ComputeTaskAPI.schedule_and_build_instances` casts exactly what nova-api casts. Prints the
JSON of what was sent, for the record.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    job = json.load(sys.stdin)
    from nova import config

    config.parse_args([], default_config_files=[job["conf"]])
    from nova import context as nova_context
    from nova import objects, rpc

    objects.register_all()
    rpc.init(config.CONF) if rpc.TRANSPORT is None else None
    from nova import block_device
    from nova.compute import api as compute_api
    from nova.compute import power_state, vm_states
    from nova.conductor import api as conductor_api

    admin = nova_context.get_admin_context()
    cells = job["cells"]
    for name in ("cell0", "cell1"):
        cell = cells[name]
        try:
            objects.CellMapping.get_by_uuid(admin, cell["uuid"])
        except Exception:
            objects.CellMapping(
                admin,
                uuid=cell["uuid"],
                name=name,
                transport_url=cell["transport_url"],
                database_connection=cell["database"],
                disabled=False,
            ).create()
    cell1 = objects.CellMapping.get_by_uuid(admin, cells["cell1"]["uuid"])
    for host in job["hosts"]:
        try:
            objects.HostMapping.get_by_host(admin, host)
        except Exception:
            objects.HostMapping(admin, host=host, cell_mapping=cell1).create()

    if "instance_quota" in job.get("options", {}):
        try:
            objects.Quotas.create_limit(
                admin, job["project_id"], "instances", job["options"]["instance_quota"]
            )
        except Exception:
            objects.Quotas.update_limit(
                admin, job["project_id"], "instances", job["options"]["instance_quota"]
            )
    ctx = nova_context.RequestContext(
        user_id=job["user_id"],
        project_id=job["project_id"],
        request_id=job["request_id"],
        roles=["member", "reader"],
        user_name="demo",
        project_name="demo",
        is_admin=False,
    )
    options = job.get("options", {})
    flavor = objects.Flavor(
        id=1, flavorid="1", name="m1.tiny", memory_mb=512, vcpus=1, root_gb=1,
        ephemeral_gb=options.get("ephemeral_gb", 0), swap=0, rxtx_factor=1.0,
        vcpu_weight=0, disabled=False, is_public=True, extra_specs={}, projects=[],
        description=None,
    )  # fmt: skip
    image_id = "155d900f-4e14-4e4c-a73d-069cbf4541e6"
    image = {
        "id": image_id, "name": "cirros", "status": "active", "min_ram": 0, "min_disk": 0,
        "size": 25165824, "container_format": "bare", "disk_format": "qcow2",
        "properties": {"hw_architecture": "x86_64"}, "checksum": None, "owner": None,
        "created_at": "2011-01-01T01:02:03.000000", "updated_at": "2011-01-01T01:02:03.000000",
        "deleted": False, "deleted_at": None, "is_public": True,
    }  # fmt: skip
    api = compute_api.API()
    uuids = job["instance_uuids"]
    security_groups = ["default"]
    build_requests, specs = [], []
    # what the API request carries (_check_and_transform_bdm, _create_tag_list_obj): the
    # image BDM, maybe a blank local disk; each instance gets copies of its own
    base_bdms = [objects.BlockDeviceMapping(ctx, **block_device.create_image_bdm(image_id))]
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
    for index, uuid in enumerate(uuids):
        spec = objects.RequestSpec.from_components(
            ctx, uuid, image, flavor, None, objects.InstancePCIRequests(requests=[]),
            {"scheduler_hints": {}, "instance_type": flavor}, None, None,
            security_groups=objects.SecurityGroupList(
                objects=[objects.SecurityGroup(name=n) for n in security_groups]
            ),
            port_resource_requests=[], request_level_params=objects.RequestLevelParams(),
        )  # fmt: skip
        spec.is_bfv = False
        spec.num_instances = len(uuids)
        instance = objects.Instance(context=ctx)
        instance.uuid = uuid
        instance.update(
            {
                "reservation_id": job["reservation_id"], "image_ref": image_id,
                "kernel_id": "", "ramdisk_id": "", "power_state": power_state.NOSTATE,
                "vm_state": vm_states.BUILDING, "config_drive": "", "user_id": ctx.user_id,
                "project_id": ctx.project_id, "instance_type_id": flavor.id,
                "memory_mb": flavor.memory_mb, "vcpus": flavor.vcpus,
                "root_gb": flavor.root_gb, "ephemeral_gb": flavor.ephemeral_gb,
                "display_name": options.get("name", "oracle"), "display_description": "oracle",
                "hostname": None, "user_data": None, "key_name": None, "key_data": None,
                "locked": False, "metadata": options.get("metadata", {}),
                "access_ip_v4": None, "access_ip_v6": None, "availability_zone": None,
                "root_device_name": None, "progress": 0,
                "pci_requests": objects.InstancePCIRequests(requests=[]),
                "numa_topology": None, "system_metadata": {},
                "os_type": None, "architecture": "x86_64", "vm_mode": None,
                "auto_disk_config": False,
            }
        )  # fmt: skip
        instance.keypairs = objects.KeyPairList(objects=[])
        instance.trusted_certs = None
        api._populate_instance_for_create(
            ctx, instance, image, index, security_groups, flavor, len(uuids)
        )
        instance_bdms = bdm_list.obj_clone()
        for bdm in instance_bdms:
            bdm.instance_uuid = uuid
            if bdm.source_type == "blank" and bdm.volume_size is None:
                bdm.volume_size = flavor.ephemeral_gb or None
        instance_tags = api._transform_tags(tags, uuid)
        build_request = objects.BuildRequest(
            ctx, instance=instance, instance_uuid=uuid, project_id=ctx.project_id,
            block_device_mappings=instance_bdms, tags=instance_tags,
        )  # fmt: skip
        mapping = objects.InstanceMapping(context=ctx)
        mapping.instance_uuid = uuid
        mapping.project_id = ctx.project_id
        mapping.user_id = ctx.user_id
        mapping.cell_mapping = None
        api._create_reqspec_buildreq_instmapping(ctx, spec, build_request, mapping)
        build_requests.append(build_request)
        specs.append(spec)

    requested_networks = objects.NetworkRequestList(
        objects=[objects.NetworkRequest(network_id="none")]
    )
    for spec in specs:
        spec.requested_networks = requested_networks
    conductor_api.ComputeTaskAPI().schedule_and_build_instances(
        ctx, build_requests=build_requests, request_spec=specs, image=image,
        admin_password="secret", injected_files=[], requested_networks=requested_networks,
        block_device_mapping=bdm_list, tags=tags,
    )  # fmt: skip
    rpc.TRANSPORT.cleanup() if rpc.TRANSPORT is not None else None
    print(json.dumps({"sent": len(build_requests)}))


if __name__ == "__main__":
    main()
