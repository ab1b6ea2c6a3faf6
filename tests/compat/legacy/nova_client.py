"""Runs under nova 34.0.0's own virtualenv: nova's clients calling the conductor topic.

Reads {"config_file": <nova.conf: transport_url, control_exchange>, "steps": [...]} on
stdin, prints one JSON result per step. Each result is {"ok": value} or
{"error": {"class", "module", "str"}}. Steps:
  {"op": "migration_get_by_id", "id": N}      Migration.get_by_id via indirection_api
  {"op": "migrate_server_call"}                ComputeTaskAPI.migrate_server (a call)
  {"op": "build_instances_cast"}               ComputeTaskAPI.build_instances (a cast)
  {"op": "instance_boot_save", "uuid": U}      Instance.create, then a save to vm_state active
  {"op": "ping", "arg": A}                     baseapi ping (BaseAPI("conductor").ping)
  {"op": "service_get", "host": H, "binary": B} Service.get_by_host_and_binary via indirection_api
"""

import json
import sys
import time
import uuid


def main() -> None:
    job = json.load(sys.stdin)
    from nova import config, context, objects, rpc
    from nova.conductor import rpcapi
    from nova.objects import base as objects_base
    from oslo_config import cfg

    conf = cfg.CONF
    argv = ["nova-test-client", "--config-file", job["config_file"]]
    config.parse_args(argv, configure_db=False, init_rpc=False)
    rpc.init(conf)
    objects.register_all()
    objects_base.NovaObject.indirection_api = rpcapi.ConductorAPI()
    ctx = context.get_admin_context()
    out = []
    for step in job["steps"]:
        started = time.monotonic()
        try:
            out.append({"ok": run(step, ctx, objects, rpcapi), "seconds": 0.0})
        except Exception as exc:  # the point is to report whatever nova's client raised
            out.append(
                {
                    "error": {
                        "class": type(exc).__name__,
                        "module": type(exc).__module__,
                        "str": str(exc)[:500],
                    }
                }
            )
        out[-1]["seconds"] = time.monotonic() - started
    print(json.dumps(out))


def run(step, ctx, objects, rpcapi):
    op = step["op"]
    if op == "ping":
        from nova import baserpc

        return baserpc.BaseAPI("conductor").ping(ctx, step["arg"], timeout=30)
    if op == "service_get":
        service = objects.Service.get_by_host_and_binary(ctx, step["host"], step["binary"])
        return None if service is None else service.obj_to_primitive()
    if op == "migration_get_by_id":
        migration = objects.Migration.get_by_id(ctx, step["id"])
        return migration.obj_to_primitive()
    if op == "instance_boot_save":
        # what a compute holds: the notification payload reads the flavor
        flavor = objects.Flavor(id=1, flavorid="f1", name="m1.small", memory_mb=512, vcpus=1,
                                root_gb=1, ephemeral_gb=0, swap=0, rxtx_factor=1.0,
                                vcpu_weight=None, disabled=False, is_public=True,
                                extra_specs={}, description=None)  # fmt: skip
        booted = objects.Instance(ctx, uuid=step["uuid"], host="h1", node="n1", compute_id=1,
                                  user_id="u", project_id="p", vm_state="building",
                                  power_state=0, memory_mb=512, vcpus=1, flavor=flavor,
                                  old_flavor=None, new_flavor=None, metadata={},
                                  system_metadata={})  # fmt: skip
        booted.create()
        booted.vm_state = "active"
        booted.save(expected_task_state=[None])
        return booted.vm_state
    instance = objects.Instance(
        uuid=str(uuid.uuid4()), host="nowhere", node="nowhere", project_id="p", user_id="u"
    )
    api = rpcapi.ComputeTaskAPI()
    if op == "migrate_server_call":
        # live=False + rebuild=True is NotImplementedError in nova-conductor's manager
        return api.migrate_server(
            ctx,
            instance,
            scheduler_hint={},
            live=False,
            rebuild=True,
            flavor=None,
            block_migration=False,
            disk_over_commit=False,
        )
    if op == "build_instances_cast":
        api.build_instances(
            ctx,
            instances=[instance],
            image={},
            filter_properties={},
            admin_password="",
            injected_files=[],
            requested_networks=None,
            security_groups=[],
            block_device_mapping=None,
            legacy_bdm=False,
            request_spec=None,
            host_lists=None,
        )
        return None
    raise ValueError(op)


if __name__ == "__main__":
    main()
