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
    from nova import context as nova_context
    from nova import objects, rpc
    from nova.objects import base as objects_base
    from oslo_messaging import transport as oslo_transport
    from oslo_serialization import jsonutils

    objects.register_all()
    rpc.init(config.CONF)
    admin = nova_context.get_admin_context()
    import nova_api_boot

    nova_api_boot.map_cells(admin, job["cells"], [host["host"] for host in job["hosts"]])
    ctx = nova_context.RequestContext(
        user_id=job["user_id"], project_id=job["project_id"], request_id=job["request_id"],
        roles=["member", "reader"], user_name="bench", project_name="bench", is_admin=False,
    )  # fmt: skip
    request = nova_api_boot.provision(
        ctx, [job["instance_uuid"]], job["reservation_id"], {"name": "bench"}
    )

    recorded = []

    def recording_send(self, target, ctxt, message, *args, **kwargs):
        recorded.append({
            "topic": target.topic, "server": target.server,
            "context": json.loads(jsonutils.dumps(ctxt)),
            "message": json.loads(jsonutils.dumps(message)),
        })  # fmt: skip

    oslo_transport.Transport._send = recording_send  # recorded, never sent
    nova_api_boot.cast(ctx, request)
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
