"""Runs in nova 34.0.0's virtualenv: the boot path's database writes through nova's own code.

Reads a job on stdin: {"cell_db", "api_db", "command", ...}; prints one JSON answer.

command "instances": for each case, builds a BuildRequest as nova-api's _provision_instances
does (flavor and keypair from the API database, an image's system metadata, a
BuildRequest and InstanceMapping in the API database), then runs what the conductor runs:
BuildRequest.obj_from_primitive -> get_new_instance -> (host AZ) -> Instance.create() on
the cell database. Answers each case's build request primitive (what our side starts
from), the new instance primitive and the created one.
"""

import json
import sys
import warnings

warnings.simplefilter("ignore")

IMAGE_ID = "1e1e1e1e-1111-4111-8111-111111111111"
KERNEL_ID = "2e2e2e2e-2222-4222-8222-222222222222"


def _setup(job):
    from nova import config, objects
    from nova.db.api import api as api_db_api
    from nova.db.main import api as db_api
    from oslo_config import cfg

    objects.register_all()
    config.parse_args(["nova-oracle"], default_config_files=[])
    url = "mysql+pymysql://root@127.0.0.1/{}?charset=utf8"
    cfg.CONF.set_override("connection", url.format(job["cell_db"]), group="database")
    if job.get("api_db"):
        cfg.CONF.set_override("connection", url.format(job["api_db"]), group="api_database")
        api_db_api.configure(cfg.CONF)
    for group, name, value in job.get("overrides", []):
        cfg.CONF.set_override(name, value, group=None if group == "DEFAULT" else group)
    db_api.configure(cfg.CONF)


def _ctx(project_id="p1", user_id="u1", is_admin=False):
    from nova import context

    return context.RequestContext(
        user_id=user_id,
        project_id=project_id,
        user_name="alice",
        project_name="demo",
        is_admin=is_admin,
        request_id="req-1e1e1e1e-1111-4111-8111-111111111111",
    )


def _image(case):
    properties = {"hw_disk_bus": "virtio", "os_type": "linux", "architecture": "x86_64"}
    properties.update(case.get("image_properties", {}))
    image = {
        "id": IMAGE_ID,
        "name": "cirros",
        "status": "active",
        "min_ram": 0,
        "min_disk": 1,
        "size": 21430272,
        "container_format": "bare",
        "disk_format": "qcow2",
        "checksum": "443b7623e27ecf03dc9e01ee93f67afe",
        "owner": "p1",
        "properties": properties,
    }
    if case.get("kernel"):
        image["properties"]["kernel_id"] = KERNEL_ID
    return image


def _flavor(ctx, case):
    from nova import exception, objects

    try:
        return objects.Flavor.get_by_flavor_id(ctx, case.get("flavorid", "42"))
    except exception.FlavorNotFound:
        pass
    flavor = objects.Flavor(
        ctx,
        name=case.get("flavor_name", "m1.small"),
        flavorid=case.get("flavorid", "42"),
        memory_mb=2048,
        vcpus=1,
        root_gb=20,
        ephemeral_gb=case.get("ephemeral_gb", 0),
        swap=case.get("swap", 0),
        rxtx_factor=1.0,
        vcpu_weight=0,
        disabled=False,
        is_public=True,
        description="a flavor with a description",
        extra_specs={"hw:cpu_policy": "shared", "quota:disk_read_bytes_sec": "10240000"},
    )
    flavor.create()
    return objects.Flavor.get_by_flavor_id(ctx, flavor.flavorid)


def _keypair(ctx, name):
    from nova import exception, objects

    try:
        return objects.KeyPair.get_by_name(ctx, ctx.user_id, name)
    except exception.KeypairNotFound:
        pass
    key = objects.KeyPair(
        ctx,
        name=name,
        user_id=ctx.user_id,
        fingerprint="1e:2e:3e",
        public_key="ssh-rsa AAAAB3Nza... alice@host",
        type="ssh",
    )
    key.create()
    return objects.KeyPair.get_by_name(ctx, ctx.user_id, name)


def build_requests(ctx, case):
    """The BuildRequests nova-api's _provision_instances stores for one request."""
    from nova import block_device, objects
    from nova.compute import api as compute_api
    from nova.compute import power_state, vm_states
    from nova.pci import request as pci_request
    from nova.virt import hardware
    from oslo_utils import uuidutils

    api = compute_api.API.__new__(compute_api.API)  # no clients: only its helpers run
    flavor = _flavor(ctx, case)
    image = _image(case)
    key_pair = _keypair(ctx, case["key_name"]) if case.get("key_name") else None
    image_meta = objects.ImageMeta.from_dict(image)
    root_device_name = block_device.prepend_dev(
        block_device.properties_root_device_name(image.get("properties", {}))
    )
    base_options = {
        "reservation_id": case.get("reservation_id", "r-1e1e1e1e"),
        "image_ref": IMAGE_ID,
        "kernel_id": KERNEL_ID if case.get("kernel") else "",
        "ramdisk_id": "",
        "power_state": power_state.NOSTATE,
        "vm_state": vm_states.BUILDING,
        "config_drive": case.get("config_drive", ""),
        "user_id": ctx.user_id,
        "project_id": ctx.project_id,
        "instance_type_id": flavor.id,
        "memory_mb": flavor.memory_mb,
        "vcpus": flavor.vcpus,
        "root_gb": flavor.root_gb,
        "ephemeral_gb": flavor.ephemeral_gb,
        "display_name": case.get("name", "vm"),
        "display_description": case.get("description", "vm"),
        "hostname": case.get("hostname", case.get("name", "vm")),
        "user_data": case.get("user_data"),
        "key_name": key_pair.name if key_pair else None,
        "key_data": key_pair.public_key if key_pair else None,
        "locked": False,
        "metadata": case.get("metadata", {}),
        "access_ip_v4": case.get("access_ip_v4"),
        "access_ip_v6": None,
        "availability_zone": case.get("availability_zone"),
        "root_device_name": root_device_name,
        "progress": 0,
        "pci_requests": pci_request.get_pci_requests_from_flavor(flavor),
        "numa_topology": hardware.numa_get_constraints(flavor, image_meta),
        "system_metadata": {},
    }
    base_options.update(api._inherit_properties_from_image(image, None))
    security_groups = objects.SecurityGroupList()
    count = case.get("count", 1)
    out = []
    for index in range(count):
        instance = objects.Instance(context=ctx)
        uuids = case.get("uuids")
        instance.uuid = uuids[index] if uuids else uuidutils.generate_uuid()
        instance.update(base_options)
        instance.keypairs = objects.KeyPairList(objects=[])
        if key_pair:
            instance.keypairs.objects.append(key_pair)
        instance.trusted_certs = None
        api._populate_instance_for_create(
            ctx, instance, image, index, security_groups, flavor, count
        )
        bdms = objects.BlockDeviceMappingList(objects=[])
        tags = objects.TagList(
            objects=[
                objects.Tag(ctx, tag=t, resource_id=instance.uuid) for t in case.get("tags", [])
            ]
        )
        request = objects.BuildRequest(
            ctx,
            instance=instance,
            instance_uuid=instance.uuid,
            project_id=instance.project_id,
            block_device_mappings=bdms,
            tags=tags,
        )
        request.create()
        mapping = objects.InstanceMapping(ctx)
        mapping.instance_uuid = instance.uuid
        mapping.project_id = ctx.project_id
        mapping.user_id = ctx.user_id
        mapping.cell_mapping = None
        mapping.create()
        out.append(request)
    return out


def instances(job):
    from nova import objects

    answers = []
    for case in job["cases"]:
        ctx = _ctx()
        for request in build_requests(ctx, case):
            wire = json.loads(_dumps(request.obj_to_primitive()))
            received = objects.BuildRequest.obj_from_primitive(wire, context=ctx)
            instance = received.get_new_instance(ctx)
            fresh = instance.obj_to_primitive()
            if case.get("host_az") is not None:
                instance.availability_zone = case["host_az"]
            answer = {"label": case["label"], "build_request": wire, "new_instance": fresh}
            try:
                instance.create()
            except Exception as exc:
                answer["error"] = {"class": type(exc).__name__, "kwargs": _plain_kwargs(exc)}
            else:
                answer["created"] = instance.obj_to_primitive()
                answer["changed"] = sorted(instance.obj_what_changed())
            answers.append(answer)
    return answers


def _bdm_list(ctx, case, flavor, image):
    """The block_device_mapping nova-api sends: _check_and_transform_bdm's list."""
    from nova import block_device
    from nova.compute import api as compute_api

    api = compute_api.API.__new__(compute_api.API)
    legacy = "bdms" not in case
    requested = [block_device.BlockDeviceDict(d) for d in case.get("bdms", [])]
    base_options = {"root_device_name": "/dev/vda", "image_ref": IMAGE_ID}
    count = case.get("count", 1)
    return api._check_and_transform_bdm(
        ctx, base_options, flavor, image, count, count, requested, legacy
    )


def _cell(ctx, job):
    from nova import objects

    url = "mysql+pymysql://root@127.0.0.1/{}?charset=utf8".format(job["cell_db"])
    return objects.CellMapping(
        ctx,
        uuid="c1c1c1c1-1111-4111-8111-111111111111",
        name="cell1",
        transport_url="none:///",
        database_connection=url,
        disabled=False,
    )


def cell_records(job):
    """Instances created as in `instances`, then the conductor's BDMs and tags for them."""
    from nova import context as nova_context
    from nova import objects
    from nova.conductor import manager

    conductor = manager.ComputeTaskManager.__new__(manager.ComputeTaskManager)
    answers = []
    for case in job["cases"]:
        ctx = _ctx()
        cell = _cell(ctx, job)
        flavor = _flavor(ctx, case)
        bdms = _bdm_list(ctx, case, flavor, _image(case))
        bdms_wire = json.loads(_dumps(bdms.obj_to_primitive()))
        tags = objects.TagList(objects=[objects.Tag(ctx, tag=t) for t in case.get("tags", [])])
        tags_wire = json.loads(_dumps(tags.obj_to_primitive())) if "tags" in case else None
        for request in build_requests(ctx, case):
            wire = json.loads(_dumps(request.obj_to_primitive()))
            instance = objects.BuildRequest.obj_from_primitive(wire, context=ctx).get_new_instance(
                ctx
            )
            instance.create()
            answer = {
                "label": case["label"],
                "build_request": wire,
                "bdms": bdms_wire,
                "tags": tags_wire,
            }
            received = objects.BlockDeviceMappingList.obj_from_primitive(bdms_wire, context=ctx)
            made = conductor._create_block_device_mapping(
                cell, instance.flavor, instance.uuid, received
            )
            answer["bdms_created"] = made.obj_to_primitive()
            sent_tags = (
                None
                if tags_wire is None
                else objects.TagList.obj_from_primitive(tags_wire, context=ctx)
            )
            for _ in range(case.get("tag_times", 1)):
                with nova_context.target_cell(ctx, cell) as cctxt:
                    made_tags = conductor._create_tags(cctxt, instance.uuid, sent_tags)
            answer["tags_created"] = None if made_tags is None else made_tags.obj_to_primitive()
            answers.append(answer)
    return answers


def tag_errors(job):
    """TagList.create for a missing instance and for another project's instance."""
    from nova import objects

    out = []
    for spec in job["calls"]:
        ctx = _ctx(project_id=spec.get("project_id", "p1"), is_admin=spec.get("admin", False))
        try:
            objects.TagList.create(ctx, spec["uuid"], spec["tags"])
            out.append({"ok": True})
        except Exception as exc:
            out.append({"class": type(exc).__name__, "kwargs": _plain_kwargs(exc)})
    return out


CELL0 = "00000000-0000-0000-0000-000000000000"
CELL1 = "c1c1c1c1-1111-4111-8111-111111111111"


def api_seed(job):
    """Cells, AZ aggregates, build requests and instance mappings in the API database."""
    from nova import objects

    ctx = _ctx(is_admin=True)
    cells = {}
    for uuid, name in ((CELL0, "cell0"), (CELL1, "cell1")):
        url = f"mysql+pymysql://root@127.0.0.1/{name}?charset=utf8"  # the same on both sides
        cell = objects.CellMapping(
            ctx,
            uuid=uuid,
            name=name,
            transport_url="none:///",
            database_connection=url,
            disabled=False,
        )
        cell.create()
        cells[name] = cell.obj_to_primitive()
    for name, zone, hosts in job["aggregates"]:
        metadata = {"availability_zone": zone} if zone else {"ssd": "true"}
        aggregate = objects.Aggregate(ctx, name=name, metadata=metadata)
        aggregate.create()
        for host in hosts:
            aggregate.add_host(host)
    for case in job["cases"]:
        build_requests(_ctx(), case)
    return {"cells": cells}


def api_calls(job):
    """The conductor's API-database calls of the boot path, as it makes them."""
    from nova import availability_zones, exception, objects

    ctx = _ctx()
    out = []
    for op, arg in job["calls"]:
        try:
            if op == "exists":
                try:
                    objects.BuildRequest.get_by_instance_uuid(ctx, arg)
                    result = True
                except exception.BuildRequestNotFound:
                    result = False
            elif op == "destroy_build_request":
                try:
                    objects.BuildRequest(ctx, instance_uuid=arg).destroy()
                    result = True
                except exception.BuildRequestNotFound:
                    result = False
            elif op == "get_mapping":
                try:
                    result = objects.InstanceMapping.get_by_instance_uuid(
                        ctx, arg
                    ).obj_to_primitive()
                except exception.InstanceMappingNotFound:
                    result = None
            elif op == "map":
                uuid, cell_uuid = arg
                mapping = objects.InstanceMapping.get_by_instance_uuid(ctx, uuid)
                mapping.cell_mapping = objects.CellMapping.get_by_uuid(ctx, cell_uuid)
                mapping.save()
                result = None
            elif op == "destroy_mapping":
                objects.InstanceMapping(ctx, instance_uuid=arg).destroy()
                result = None
            elif op == "az":
                result = availability_zones.get_host_availability_zone(ctx, arg)
            out.append({"ok": result})
        except Exception as exc:
            out.append({"error": {"class": type(exc).__name__, "kwargs": _plain_kwargs(exc)}})
    return out


def quota(job):
    """The conductor's _recheck_quota for each scenario; cells from job["cells"]."""
    from nova import objects
    from nova.conductor import manager
    from oslo_config import cfg

    admin = _ctx(is_admin=True)
    if job.get("cells"):
        for uuid, name, db in job["cells"]:
            url = f"mysql+pymysql://root@127.0.0.1/{db}?charset=utf8"
            objects.CellMapping(
                admin,
                uuid=uuid,
                name=name,
                transport_url="none:///",
                database_connection=url,
                disabled=False,
            ).create()
    conductor = manager.ComputeTaskManager.__new__(manager.ComputeTaskManager)
    out = []
    for scenario in job["scenarios"]:
        for group, name, value in scenario.get("overrides", []):
            cfg.CONF.set_override(name, value, group=None if group == "DEFAULT" else group)
        ctx = _ctx(project_id=scenario["project_id"], user_id=scenario.get("ctx_user", "u1"))
        ctx.quota_class = scenario.get("quota_class")
        flavor = objects.Flavor(vcpus=scenario["vcpus"], memory_mb=scenario["memory_mb"])
        try:
            conductor._recheck_quota(
                ctx,
                flavor,
                objects.RequestSpec(),
                scenario["requested"],
                project_id=scenario["project_id"],
                user_id=scenario.get("user_id", "u1"),
            )
            out.append({"ok": None})
        except Exception as exc:
            out.append({"error": {"class": type(exc).__name__, "kwargs": _plain_kwargs(exc)}})
        for group, name, _ in scenario.get("overrides", []):
            cfg.CONF.clear_override(name, group=group)
    return out


def failed_build(job):
    """scheduler_utils.set_vm_state_and_notify for each uuid, inside the handler of a
    NoValidHost as the conductor's burial runs it (rpc on the fake driver, no notifier)."""
    from nova import exception, rpc
    from nova.scheduler import utils as scheduler_utils
    from oslo_config import cfg

    cfg.CONF.set_override("transport_url", "fake:/")
    cfg.CONF.set_override("host", "conductor-host")
    rpc.init(cfg.CONF)
    ctx = _ctx()
    for uuid in job["uuids"]:
        try:
            raise exception.NoValidHost(reason=job["reason"])
        except exception.NoValidHost as exc:
            scheduler_utils.set_vm_state_and_notify(
                ctx,
                uuid,
                "compute_task",
                "build_instances",
                {"vm_state": "error", "task_state": None},
                exc,
                None,
            )
    return {"message": exception.NoValidHost(reason=job["reason"]).format_message()}


def _plain_kwargs(exc):
    return json.loads(_dumps(getattr(exc, "kwargs", {})))


def _dumps(value):
    from oslo_serialization import jsonutils

    return jsonutils.dumps(value)


COMMANDS = {
    "instances": instances,
    "cell_records": cell_records,
    "tag_errors": tag_errors,
    "api_seed": api_seed,
    "api_calls": api_calls,
    "quota": quota,
    "failed_build": failed_build,
}


def main():
    job = json.load(sys.stdin)
    _setup(job)
    print(_dumps(COMMANDS[job["command"]](job)))


if __name__ == "__main__":
    main()
