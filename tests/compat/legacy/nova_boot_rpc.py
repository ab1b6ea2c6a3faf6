"""nova's own SchedulerAPI.select_destinations and ComputeAPI.build_and_run_instance, sent
to the test's exchange: the oracle for what our boot clients publish.

Job (JSON on stdin): url, exchange, context (a nova context dict), rpc_response_timeout,
long_rpc_timeout, compute_levels (a list of [upgrade_levels] compute values, one cast each),
scheduler_level. Prints {"context", "spec", "instance_uuids", "build": {...}} : the
primitives it sent, for our client to send the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile

import nova.conf
import oslo_messaging as messaging
from nova import context as nova_context
from nova import objects, rpc
from nova.compute import rpcapi as compute_rpcapi
from nova.scheduler import rpcapi as scheduler_rpcapi

CONF = nova.conf.CONF

INSTANCE_UUID = "6c3d5b6e-1d0b-4f7e-9b7a-2f0c1f5f0a11"
NODE_UUID = "0f7a3c9d-52a4-4a3c-8f39-9d9e2b5a7c01"
CELL_UUID = "1a2b3c4d-0000-4000-8000-000000000001"


def main() -> None:
    job = json.loads(sys.stdin.read())
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as conf_file:
        conf_file.write(
            f"[DEFAULT]\ntransport_url = {job['url']}\n"
            f"rpc_response_timeout = {job['rpc_response_timeout']}\n"
            f"long_rpc_timeout = {job['long_rpc_timeout']}\n"
        )
    CONF(["--config-file", conf_file.name], project="nova")
    os.unlink(conf_file.name)
    CONF.set_override("scheduler", job["scheduler_level"], group="upgrade_levels")
    rpc.set_defaults(control_exchange=job["exchange"])
    objects.register_all()
    rpc.init(CONF)

    ctxt = nova_context.RequestContext.from_dict(job["context"])
    flavor = objects.Flavor(
        id=1,
        flavorid="42",
        name="m1.tiny",
        memory_mb=512,
        vcpus=1,
        root_gb=1,
        ephemeral_gb=0,
        swap=0,
        rxtx_factor=1.0,
        vcpu_weight=0,
        disabled=False,
        is_public=True,
        extra_specs={},
        description=None,
    )
    spec = objects.RequestSpec(
        instance_uuid=INSTANCE_UUID,
        num_instances=1,
        flavor=flavor,
        project_id="p1",
        user_id="u1",
        availability_zone=None,
        ignore_hosts=None,
        force_hosts=None,
        force_nodes=None,
        is_bfv=False,
    )
    instance = objects.Instance(
        uuid=INSTANCE_UUID,
        project_id="p1",
        user_id="u1",
        host=None,
        node=None,
        vm_state="building",
        task_state="scheduling",
        flavor=flavor,
    )
    networks = objects.NetworkRequestList(objects=[objects.NetworkRequest(network_id="auto")])
    bdms = objects.BlockDeviceMappingList(objects=[])
    selection = objects.Selection(
        service_host="node1",
        nodename="node1",
        compute_node_uuid=NODE_UUID,
        cell_uuid=CELL_UUID,
        limits=None,
        allocation_request=None,
        allocation_request_version=None,
        availability_zone=None,
    )
    image = {"id": "img-1", "name": "cirros", "properties": {}}
    filter_properties = {"retry": {"num_attempts": 1, "hosts": [["node1", "node1"]]}}
    limits = {"memory_mb": None, "disk_gb": None, "vcpu": None, "numa_topology": None}

    # nobody answers: the request is what we wanted on the wire
    with contextlib.suppress(messaging.MessagingTimeout):
        scheduler_rpcapi.SchedulerAPI().select_destinations(
            ctxt, spec, [INSTANCE_UUID], return_objects=True, return_alternates=True
        )

    for level in job["compute_levels"]:
        CONF.set_override("compute", level, group="upgrade_levels")
        compute_rpcapi.reset_globals()
        compute_rpcapi.ComputeAPI().build_and_run_instance(
            ctxt,
            instance,
            "node1",
            image,
            spec,
            filter_properties,
            admin_password="pw",
            injected_files=[["/etc/motd", "aGk="]],
            requested_networks=networks,
            security_groups=["default"],
            block_device_mapping=bdms,
            node="node1",
            limits=limits,
            host_list=[selection],
            accel_uuids=["arq-1"],
        )
    rpc.cleanup()

    def prim(obj):
        return obj.obj_to_primitive()

    print(
        json.dumps(
            {
                "context": ctxt.to_dict(),
                "spec": prim(spec),
                "instance_uuids": [INSTANCE_UUID],
                "build": {
                    "host": "node1",
                    "instance": prim(instance),
                    "image": image,
                    "request_spec": prim(spec),
                    "filter_properties": filter_properties,
                    "admin_password": "pw",
                    "injected_files": [["/etc/motd", "aGk="]],
                    "requested_networks": prim(networks),
                    "security_groups": ["default"],
                    "block_device_mapping": prim(bdms),
                    "node": "node1",
                    "limits": limits,
                    "host_list": [prim(selection)],
                    "accel_uuids": ["arq-1"],
                },
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
