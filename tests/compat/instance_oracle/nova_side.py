"""Runs in nova 34.0.0's virtualenv: nova's own objects, directly on the DB (the oracle).

Usage: python nova_side.py <db-url> <command>   (JSON request on stdin, JSON out on stdout)
Commands:
  seed            create instances with nova's Instance.create; print their uuids
  call            run a list of calls, print each result primitive or its exception
"""

import json
import sys
import warnings

warnings.simplefilter("ignore")


def _setup(url):
    from nova import config, objects
    from nova.db.main import api as db_api
    from oslo_config import cfg

    objects.register_all()
    config.parse_args(["nova-oracle"], default_config_files=[])
    cfg.CONF.set_override("connection", url, group="database")
    db_api.configure(cfg.CONF)


def _ctx(spec):
    from nova import context

    spec = spec or {}
    return context.RequestContext(
        user_id=spec.get("user_id", "u1"),
        project_id=spec.get("project_id", "p1"),
        is_admin=spec.get("is_admin", True),
        read_deleted=spec.get("read_deleted", "no"),
    )


def seed(req):
    from nova import objects
    from nova.network import model as network_model

    ctx = _ctx(None)
    out = []
    for spec in req["instances"]:
        flavor = objects.Flavor(
            id=1,
            flavorid="f1",
            name="m1.tiny",
            memory_mb=512,
            vcpus=1,
            root_gb=1,
            ephemeral_gb=0,
            swap=0,
            rxtx_factor=1.0,
            vcpu_weight=None,
            disabled=False,
            is_public=True,
            extra_specs={},
            description=None,
        )
        inst = objects.Instance(ctx)
        inst.uuid = spec["uuid"]
        inst.user_id = "u1"
        inst.project_id = spec.get("project_id", "p1")
        inst.host = spec.get("host")
        inst.node = spec.get("node")
        inst.compute_id = spec.get("compute_id")
        inst.vm_state = spec.get("vm_state", "building")
        inst.task_state = spec.get("task_state")
        inst.power_state = 0
        inst.memory_mb = 512
        inst.vcpus = 1
        inst.display_name = spec["uuid"][:8]
        inst.flavor = flavor
        inst.old_flavor = None
        inst.new_flavor = None
        inst.metadata = spec.get("metadata", {})
        inst.system_metadata = spec.get("system_metadata", {})
        inst.info_cache = objects.InstanceInfoCache(
            network_info=network_model.NetworkInfo.hydrate(spec.get("network_info", []))
        )
        inst.pci_requests = objects.InstancePCIRequests(requests=[])
        inst.launched_at = None
        inst.create()
        for tag in spec.get("tags", []):
            objects.Tag(ctx, resource_id=inst.uuid, tag=tag).create()
        if spec.get("fault"):
            objects.InstanceFault(
                ctx,
                instance_uuid=inst.uuid,
                code=500,
                message="boom",
                details="tb",
                host="h1",
            ).create()
        if spec.get("deleted"):
            inst.destroy()
        out.append(inst.uuid)
    return out


def _run(c):
    from nova import objects

    ctx = _ctx(c.get("ctx"))
    kind = c["kind"]
    if kind == "class":
        cls = getattr(objects, c["obj"])
        return getattr(cls, c["method"])(ctx, *c.get("args", []), **c.get("kwargs", {}))
    # instance method: rebuild the object from the primitive the client would send
    from nova.objects import base

    obj = base.NovaObject.obj_from_primitive(c["objinst"], context=ctx)
    old = obj.obj_clone()
    result = getattr(obj, c["method"])(*c.get("args", []), **c.get("kwargs", {}))
    updates = {}
    for name, field in obj.fields.items():
        if not obj.obj_attr_is_set(name):
            continue
        if not old.obj_attr_is_set(name) or getattr(old, name) != getattr(obj, name):
            updates[name] = field.to_primitive(obj, name, getattr(obj, name))
    updates["obj_what_changed"] = sorted(obj.obj_what_changed())
    return [updates, result]


def _jsonable(value):
    from nova.objects import base
    from oslo_serialization import jsonutils

    def conv(v):
        if isinstance(v, base.NovaObject):
            return v.obj_to_primitive()
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    return json.loads(jsonutils.dumps(conv(value)))


def call(req):
    out = []
    for c in req["calls"]:
        try:
            out.append({"ok": _jsonable(_run(c))})
        except Exception as exc:
            out.append(
                {
                    "error": type(exc).__name__,
                    "kwargs": _jsonable(getattr(exc, "kwargs", {})),
                    "detail": str(exc)[:300],
                }
                if type(exc).__name__ == "AttributeError"
                else {"error": type(exc).__name__, "kwargs": _jsonable(getattr(exc, "kwargs", {}))}
            )
    return out


if __name__ == "__main__":
    _setup(sys.argv[1])
    request = json.load(sys.stdin)
    result = {"seed": seed, "call": call}[sys.argv[2]](request)
    sys.stdout.write(json.dumps(result))
