"""Runs under nova 34.0.0's virtualenv: a build's failure notifications, sent by nova itself.

The request spec is nova-api's (`RequestSpec.from_components` as `_provision_instances`
calls it), sent through nova's object serializer as the boot cast carries it. The failure is
raised where nova-conductor meets it, then `scheduler_utils.set_vm_state_and_notify` runs
inside the `except` block, as `_bury_in_cell0` runs it; its database part (Instance.save,
the fault) is stubbed: only its notifications are compared.

Job (JSON on stdin): config_file, instance_uuid, failure ("no_valid_host": the scheduler's
NoValidHost over RPC, from the stub scheduler job `scheduler`; "host_mapping": nova's
HostMappingNotFound from the API database; "max_retries": populate_retry's
MaxRetriesExceeded), context {user_id, project_id, request_id, roles}, numa (a pinned
one-node flavor: the spec carries a NUMA topology), log_file (oslo's log driver's lines, as
JSON lines).

Prints what the other side needs: the context's dict, the RequestSpec the conductor holds
(a primitive), the legacy request spec (objects as their primitives) and the RequestSpec
`from_primitives` builds from it (a primitive), both as nova makes them, and the exception
(class, module, message, kwargs, args, remote traceback lines).
"""

import contextlib
import datetime
import json
import subprocess
import sys
from pathlib import Path
from unittest import mock

IMAGE = {
    "id": "155d900f-4e14-4e4c-a73d-069cbf4541e6", "name": "cirros", "status": "active",
    "min_ram": 0, "min_disk": 1, "size": 25165824, "container_format": "bare",
    "disk_format": "qcow2", "checksum": "ee1eca47dc88f4879d8a229cc70a07c6", "owner": None,
    "properties": {"hw_architecture": "x86_64", "hw_disk_bus": "virtio", "os_distro": "cirros",
                   "img_hide_hypervisor_id": True},
    "created_at": "2011-01-01T01:02:03.000000", "updated_at": "2011-01-01T01:02:03.000000",
    "deleted": False, "deleted_at": None, "is_public": True, "visibility": "public",
    "protected": False, "tags": ["a", "b"],
}  # fmt: skip


def _primitive(value):
    """The legacy dict as our side holds it: objects as primitives, datetimes as wire text."""
    from nova.objects import base

    if isinstance(value, base.NovaObject):
        return value.obj_to_primitive()
    if isinstance(value, dict):
        return {k: _primitive(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_primitive(v) for v in value]
    if isinstance(value, datetime.datetime):
        from oslo_versionedobjects import fields

        return fields.DateTime().to_primitive(None, "", value)  # a DateTimeField's wire form
    return value


def _spec(ctx, uuid, numa):
    from nova import objects
    from nova.objects import base
    from nova.virt import hardware

    flavor = objects.Flavor(
        id=7, flavorid="fl-7", name="m1.oracle", memory_mb=512, vcpus=2, root_gb=1,
        ephemeral_gb=1, swap=0, rxtx_factor=1.0, vcpu_weight=0, disabled=False,
        is_public=True, extra_specs={"hw:cpu_policy": "shared"}, projects=[],
        description="the oracle's flavor",
        created_at=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        updated_at=None, deleted_at=None, deleted=False,
    )  # fmt: skip
    topology = None
    if numa:  # nova-api's numa_get_constraints for a pinned, one-node flavor
        flavor.extra_specs = {"hw:numa_nodes": "1", "hw:cpu_policy": "dedicated"}
        topology = hardware.numa_get_constraints(flavor, objects.ImageMeta.from_dict(IMAGE))
    spec = objects.RequestSpec.from_components(
        ctx, uuid, IMAGE, flavor, topology, objects.InstancePCIRequests(requests=[]),
        {"scheduler_hints": {"group": "x"}, "instance_type": flavor}, None, "az1",
        security_groups=objects.SecurityGroupList(objects=[objects.SecurityGroup(name="default")]),
        port_resource_requests=[], request_level_params=objects.RequestLevelParams(),
    )  # fmt: skip
    spec.is_bfv = False
    spec.num_instances = 1
    # over RPC, as nova-api casts it and the conductor receives it
    serializer = base.NovaObjectSerializer()
    return serializer.deserialize_entity(ctx, serializer.serialize_entity(ctx, spec))


def _raise(job, ctx, spec):
    from nova import objects
    from nova.scheduler import utils as scheduler_utils
    from nova.scheduler.client import query

    failure = job["failure"]
    if failure == "no_valid_host":
        query.SchedulerQueryClient().select_destinations(
            ctx, spec, [spec.instance_uuid], return_objects=True, return_alternates=True
        )
    elif failure == "host_mapping":
        objects.HostMapping.get_by_host(ctx, "nowhere-host")
    elif failure == "max_retries":
        from nova import conf

        conf.CONF.set_override("max_attempts", 2, group="scheduler")
        props = {"retry": {"num_attempts": 2, "hosts": [["h1", "n1"]]}}
        scheduler_utils.populate_retry(props, spec.instance_uuid)
    raise AssertionError(f"{failure} did not fail")


def main() -> None:
    job = json.load(sys.stdin)
    from nova import config, context, exception, objects, rpc

    config.parse_args(["compute_task_error", "--config-file", job["config_file"]])
    objects.register_all()
    rpc.init(config.CONF)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import notification_log

    notification_log.capture(job.get("log_file"))
    from nova.compute import utils as compute_utils
    from nova.scheduler import utils as scheduler_utils

    scheduler = None
    if job["failure"] == "no_valid_host":
        here = Path(__file__).with_name("stub_scheduler.py")
        scheduler = subprocess.Popen(
            [sys.executable, str(here), json.dumps(job["scheduler"])],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert scheduler.stdout.readline().strip() == "ready"
    c = job["context"]
    ctx = context.RequestContext(
        user_id=c["user_id"], project_id=c["project_id"], request_id=c["request_id"],
        roles=c["roles"], is_admin=False,
    )  # fmt: skip
    spec = _spec(ctx, job["instance_uuid"], job.get("numa", False))
    # _bury_in_cell0 reads cell0's mapping with this context first (the oslo.db facade
    # leaves its mark on the context the spec's objects hold)
    with contextlib.suppress(exception.CellMappingNotFound):
        objects.CellMapping.get_by_uuid(ctx, objects.CellMapping.CELL0_UUID)
    try:
        _raise(job, ctx, spec)
    except Exception as exc:
        # as the conductor holds them before notifying (nova's payload then sets the
        # instance uuid on the spec's PCI requests)
        conductor_spec = spec.obj_to_primitive()
        legacy = spec.to_legacy_request_spec_dict()
        legacy_primitive = _primitive(legacy)
        rebuilt = objects.RequestSpec.from_primitives(ctx, legacy, {}).obj_to_primitive()
        with (
            mock.patch.object(objects.Instance, "save"),
            mock.patch.object(compute_utils, "add_instance_fault_from_exc"),
        ):
            scheduler_utils.set_vm_state_and_notify(
                ctx, job["instance_uuid"], "compute_task", "build_instances",
                {"vm_state": "error", "task_state": None}, exc, spec,
            )  # fmt: skip
        message = exc.args[0] if exc.args else ""
        text = str(exc)
        remote = type(exc).__module__.endswith("_Remote")
        answer = {
            "context": ctx.to_dict(),
            "conductor_spec": conductor_spec,
            "legacy_spec": legacy_primitive,
            "request_spec": rebuilt,
            "exception": {
                "class": type(exc).__name__.removesuffix("_Remote"),
                "module": type(exc).__module__.removesuffix("_Remote"),
                "remote": remote,
                "message": message,
                "kwargs": getattr(exc, "kwargs", {}),
                "args": list(exc.args),
                # oslo's str() of a remote exception: its message, then its traceback lines
                "tb": text[len(message) + 1 :].split("\n") if remote else [],
            },
        }
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.wait(30)
    rpc.cleanup()
    print(json.dumps(answer, default=str))


if __name__ == "__main__":
    main()
