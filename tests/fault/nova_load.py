"""Runs under nova 34.0.0's own virtualenv (never imported by our tests): nova's own client as
the fault tier's load, and nova's own DB code to seed the rows it writes to.

stdin: {"mode": ..., "config_file": nova.conf, ...}; the answer is one JSON document written to
job["out"]. Modes:
  seed   {"services": N, "instances": M}  rows made with nova's objects straight in the DB
         -> {"services": [[id, host], ...], "instances": [uuid, ...]}
  load   {"rate": calls/s, "seconds": S, "seed": <seed's answer>, "prefix": tag prefix,
          "number_base": Service.save's first report_count}
         -> {"calls": [{"id", "op", "tag", "sent", "done", "outcome", "cls"}, ...]}
         outcome: ok | failed (cls: the class nova's client raised) | timeout
  casts  {"count": K, "seed": ..., "prefix": ...}  InstanceAction.action_start as casts
         (a backlog that needs no caller waiting) -> {"tags": [request_id, ...]}

Every write carries a unique tag the audit finds in the database: Service.save sets
report_count to a unique number, Instance.save sets display_name, action_start's request_id.
"""

import json
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

OPS = ("service_save", "service_get", "instance_save", "instance_get", "action_start")


def main():
    job = json.load(sys.stdin)
    from nova import config, objects
    from oslo_config import cfg

    config.parse_args(
        ["nova-fault-load", "--config-file", job["config_file"]],
        configure_db=job["mode"] == "seed",
    )
    objects.register_all()
    if job["mode"] == "seed":
        answer = seed(job, objects)
    else:
        from nova.conductor import rpcapi
        from nova.objects import base as objects_base

        objects_base.NovaObject.indirection_api = rpcapi.ConductorAPI()
        answer = load(job, objects, cfg.CONF) if job["mode"] == "load" else casts(job, objects)
    with open(job["out"], "w") as out:
        json.dump(answer, out)


def _ctx(request_id=None):
    from nova import context

    return context.RequestContext(
        user_id="fault-u",
        project_id="fault-p",
        is_admin=True,
        request_id=request_id or f"req-{uuid.uuid4()}",
    )


def seed(job, objects):
    ctx = _ctx()
    services = []
    for i in range(job["services"]):
        service = objects.Service(
            ctx, host=f"fault-c{i}", binary="nova-compute", topic="compute", report_count=0
        )
        service.create()
        services.append([service.id, service.host])
    instances = []
    for i in range(job["instances"]):
        instance = objects.Instance(
            ctx,
            uuid=str(uuid.uuid4()),
            host=f"fault-c{i % job['services']}",
            node="n1",
            compute_id=1,
            user_id="fault-u",
            project_id="fault-p",
            vm_state="active",
            power_state=1,
            display_name="seed",
            memory_mb=512,
            vcpus=1,
        )
        instance.create()
        instances.append(instance.uuid)
    return {"services": services, "instances": instances}


def _call(op, tag, seed, objects):
    """One call through nova's object layer (indirection_api = the conductor)."""
    index = hash(tag)
    service_id, host = seed["services"][index % len(seed["services"])]
    instance_uuid = seed["instances"][index % len(seed["instances"])]
    if op == "service_save":
        service = objects.Service(_ctx(), id=service_id, host=host, binary="nova-compute")
        service.obj_reset_changes()
        service.report_count = int(tag)
        service.save()
    elif op == "service_get":
        objects.Service.get_by_compute_host(_ctx(), host)
    elif op == "instance_save":
        instance = objects.Instance(_ctx(), uuid=instance_uuid)
        instance.obj_reset_changes()
        instance.display_name = tag
        instance.save()
    elif op == "instance_get":
        objects.Instance.get_by_uuid(_ctx(), instance_uuid)
    elif op == "action_start":
        objects.InstanceAction.action_start(_ctx(tag), instance_uuid, "fault", want_result=True)


def load(job, objects, conf):
    import oslo_messaging

    rate, seconds, prefix = job["rate"], job["seconds"], job["prefix"]
    total = int(rate * seconds)
    calls = []
    lock = threading.Lock()

    def one(number):
        op = OPS[number % len(OPS)]
        tag = f"{prefix}-{number}"
        if op == "service_save":  # report_count is an int: unique across runs by its base
            tag = str(job["number_base"] + number)
        elif op == "action_start":
            tag = f"req-{prefix}-{number}"
        record = {"id": number, "op": op, "tag": tag, "sent": time.time()}
        try:
            _call(op, tag, job["seed"], objects)
            record["outcome"] = "ok"
        except oslo_messaging.MessagingTimeout:
            record["outcome"] = "timeout"
        except Exception as exc:  # what nova's client raised is the measurement
            record["outcome"] = "failed"
            record["cls"] = type(exc).__name__
            record["msg"] = str(exc)[:200]
        record["done"] = time.time()
        with lock:
            calls.append(record)

    workers = int(rate * (conf.rpc_response_timeout + 5)) + 16
    with open(job["out"] + ".started", "w") as marker:  # the orchestrator times faults from here
        marker.write(str(time.time()))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for number in range(total):
            delay = started + number / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, number)
    return {"calls": sorted(calls, key=lambda c: c["id"])}


def casts(job, objects):
    from nova.conductor import rpcapi

    client = rpcapi.ConductorAPI().client
    from oslo_versionedobjects import base as ovo_base

    versions = ovo_base.obj_tree_get_versions("InstanceAction")
    instances = job["seed"]["instances"]
    tags = []
    cctxt = client.prepare()
    for number in range(job["count"]):
        tag = f"req-{job['prefix']}-{number}"
        cctxt.cast(
            _ctx(tag),
            "object_class_action_versions",
            objname="InstanceAction",
            objmethod="action_start",
            object_versions=versions,
            args=(instances[number % len(instances)], "fault"),
            kwargs={"want_result": False},
        )
        tags.append(tag)
    return {"tags": tags}


if __name__ == "__main__":
    main()
