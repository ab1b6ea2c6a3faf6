"""Runs in nova 34.0.0's virtualenv: one boot request as nova-api makes it, for the template.

Reads a JSON job on stdin, prints one JSON document on its last stdout line.
Job: config_file (transport, exchange, API database), cells {cell0, cell1: {uuid, database,
transport_url}}, hosts [{host, node, node_uuid}] (mapped to cell1), user_id, project_id,
instance_uuid, request_id, reservation_id.

With nova's own objects: the cell mappings and the hosts' host mappings, then what nova-api's
`_provision_instances` writes for one instance (request spec, build request, instance mapping,
through `_create_reqspec_buildreq_instmapping`), then `ComputeTaskAPI.schedule_and_build_instances`
with oslo's transport intercepted: the cast is recorded as the transport was handed it and not
sent. Also the Selection primitive nova-scheduler would return for each host (nova's own
serializer). The benchmark copies this one request into its pool with new identifiers.
"""

import json
import sys
import warnings

warnings.simplefilter("ignore")


def main():
    job = json.load(sys.stdin)
    from nova import config

    config.parse_args(["bench-boot", "--config-file", job["config_file"]], init_rpc=False)
    from nova import block_device, objects, rpc
    from nova import context as nova_context
    from nova.compute import api as compute_api
    from nova.compute import power_state, vm_states
    from nova.conductor import api as conductor_api
    from nova.objects import base as objects_base
    from oslo_messaging import transport as oslo_transport
    from oslo_serialization import jsonutils

    objects.register_all()
    rpc.init(config.CONF)
    admin = nova_context.get_admin_context()
    cells = {}
    for name in ("cell0", "cell1"):
        cell = job["cells"][name]
        cells[name] = objects.CellMapping(
            admin, uuid=cell["uuid"], name=name, transport_url=cell["transport_url"],
            database_connection=cell["database"], disabled=False,
        )  # fmt: skip
        cells[name].create()
    for host in job["hosts"]:
        objects.HostMapping(admin, host=host["host"], cell_mapping=cells["cell1"]).create()

    ctx = nova_context.RequestContext(
        user_id=job["user_id"], project_id=job["project_id"], request_id=job["request_id"],
        roles=["member", "reader"], user_name="bench", project_name="bench", is_admin=False,
    )  # fmt: skip
    flavor = objects.Flavor(
        id=1, flavorid="1", name="m1.tiny", memory_mb=512, vcpus=1, root_gb=1, ephemeral_gb=0,
        swap=0, rxtx_factor=1.0, vcpu_weight=0, disabled=False, is_public=True,
        extra_specs={}, projects=[], description=None,
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
    uuid = job["instance_uuid"]
    security_groups = ["default"]
    spec = objects.RequestSpec.from_components(
        ctx, uuid, image, flavor, None, objects.InstancePCIRequests(requests=[]),
        {"scheduler_hints": {}, "instance_type": flavor}, None, None,
        security_groups=objects.SecurityGroupList(
            objects=[objects.SecurityGroup(name=n) for n in security_groups]
        ),
        port_resource_requests=[], request_level_params=objects.RequestLevelParams(),
    )  # fmt: skip
    spec.is_bfv = False
    spec.num_instances = 1
    instance = objects.Instance(context=ctx)
    instance.uuid = uuid
    instance.update(
        {
            "reservation_id": job["reservation_id"], "image_ref": image_id, "kernel_id": "",
            "ramdisk_id": "", "power_state": power_state.NOSTATE,
            "vm_state": vm_states.BUILDING, "config_drive": "", "user_id": ctx.user_id,
            "project_id": ctx.project_id, "instance_type_id": flavor.id,
            "memory_mb": flavor.memory_mb, "vcpus": flavor.vcpus, "root_gb": flavor.root_gb,
            "ephemeral_gb": flavor.ephemeral_gb, "display_name": "bench",
            "display_description": "bench", "hostname": None, "user_data": None,
            "key_name": None, "key_data": None, "locked": False, "metadata": {},
            "access_ip_v4": None, "access_ip_v6": None, "availability_zone": None,
            "root_device_name": None, "progress": 0,
            "pci_requests": objects.InstancePCIRequests(requests=[]), "numa_topology": None,
            "system_metadata": {}, "os_type": None, "architecture": "x86_64",
            "vm_mode": None, "auto_disk_config": False,
        }
    )  # fmt: skip
    instance.keypairs = objects.KeyPairList(objects=[])
    instance.trusted_certs = None
    api._populate_instance_for_create(ctx, instance, image, 0, security_groups, flavor, 1)
    # the image BDM nova-api derives from the request (_check_and_transform_bdm)
    bdms = objects.BlockDeviceMappingList(
        objects=[objects.BlockDeviceMapping(ctx, **block_device.create_image_bdm(image_id))]
    )
    instance_bdms = bdms.obj_clone()
    for bdm in instance_bdms:
        bdm.instance_uuid = uuid
    tags = objects.TagList(objects=[])
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
    networks = objects.NetworkRequestList(objects=[objects.NetworkRequest(network_id="none")])
    spec.requested_networks = networks

    recorded = []

    def recording_send(self, target, ctxt, message, *args, **kwargs):
        recorded.append({
            "topic": target.topic, "server": target.server,
            "context": json.loads(jsonutils.dumps(ctxt)),
            "message": json.loads(jsonutils.dumps(message)),
        })  # fmt: skip

    oslo_transport.Transport._send = recording_send  # recorded, never sent
    conductor_api.ComputeTaskAPI().schedule_and_build_instances(
        ctx, build_requests=[build_request], request_spec=[spec], image=image,
        admin_password="secret", injected_files=[], requested_networks=networks,
        block_device_mapping=bdms, tags=tags,
    )  # fmt: skip
    serializer = objects_base.NovaObjectSerializer()
    selections = {
        host["host"]: serializer.serialize_entity(
            admin,
            objects.Selection(
                service_host=host["host"], nodename=host["node"],
                compute_node_uuid=host["node_uuid"], cell_uuid=job["cells"]["cell1"]["uuid"],
                limits=objects.SchedulerLimits(
                    numa_topology=None, vcpu=None, disk_gb=None, memory_mb=None
                ),
                allocation_request=json.dumps(
                    {"allocations": {host["node_uuid"]: {"resources": {
                        "VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}}}, "mappings": {}}
                ),
                allocation_request_version="1.36",
            ),
        )
        for host in job["hosts"]
    }  # fmt: skip
    print(json.dumps({"casts": recorded, "selections": jsonutils.to_primitive(selections)}))


if __name__ == "__main__":
    main()
