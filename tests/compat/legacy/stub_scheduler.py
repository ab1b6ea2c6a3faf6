"""Runs in nova 34.0.0's venv: a nova-scheduler stand-in on the `scheduler` topic.

It answers `select_destinations` (scheduler RPC 4.5) from a prepared host list, with nova's
own Selection objects over oslo.messaging, the way nova-scheduler answers a conductor; or
raises nova's NoValidHost. Each request it receives (the RequestSpec and the arguments, as
oslo delivers them) is appended to `record` as a JSON line, so two conductors' calls can be
compared. `delete_build_requests`: build requests it deletes before answering, as a user's
delete racing the scheduling would. Runs until SIGTERM; prints "ready" once consuming.

Job (JSON, first argument): conf, mode ("hosts" | "no_valid_host"), hosts [{host, node,
compute_node_uuid, cell_uuid}], alternates (how many more hosts per instance), record,
delete_build_requests.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading


def main() -> None:
    job = json.loads(sys.argv[1])
    from nova import config

    config.parse_args([], default_config_files=[job["conf"]])
    import oslo_messaging as messaging
    from nova import context as nova_context
    from nova import exception, objects, rpc
    from oslo_serialization import jsonutils

    objects.register_all()
    if rpc.TRANSPORT is None:
        rpc.init(config.CONF)

    class Scheduler:
        target = messaging.Target(version="4.5")

        def select_destinations(
            self, ctxt, request_spec=None, filter_properties=None, spec_obj=None,
            instance_uuids=None, return_objects=False, return_alternates=False,
        ):  # fmt: skip
            with open(job["record"], "a") as record:
                record.write(
                    json.dumps(
                        {
                            "spec": jsonutils.to_primitive(spec_obj.obj_to_primitive()),
                            "instance_uuids": instance_uuids,
                            "return_objects": return_objects,
                            "return_alternates": return_alternates,
                            "context": ctxt.to_dict(),
                        },
                        default=str,
                    )
                    + "\n"
                )
            for uuid in job.get("delete_build_requests", []):
                admin = nova_context.get_admin_context()
                with contextlib.suppress(exception.BuildRequestNotFound):
                    objects.BuildRequest.get_by_instance_uuid(admin, uuid).destroy()
            if job["mode"] == "no_valid_host":
                raise exception.NoValidHost(reason="There are not enough hosts available.")
            hosts = job["hosts"]
            extra = job.get("alternates", 0)
            # each request group maps to the host's provider, as placement's candidates say
            requesters = [g.requester_id for g in (spec_obj.requested_resources or [])]
            answer = []
            for index in range(len(instance_uuids)):
                chosen = [hosts[(index + k) % len(hosts)] for k in range(1 + extra)]
                answer.append(
                    [
                        objects.Selection(
                            service_host=h["host"], nodename=h["node"],
                            compute_node_uuid=h["compute_node_uuid"], cell_uuid=h["cell_uuid"],
                            limits=objects.SchedulerLimits(
                                numa_topology=None, vcpu=None, disk_gb=None, memory_mb=None
                            ),
                            allocation_request=json.dumps(
                                {"allocations": {h["compute_node_uuid"]: {"resources": {
                                    "VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}}},
                                 "mappings": {r: [h["compute_node_uuid"]] for r in requesters}}
                            ),
                            allocation_request_version="1.36",
                        )
                        for h in chosen
                    ]
                )  # fmt: skip
            return answer

    from nova.objects import base as objects_base

    target = messaging.Target(topic="scheduler", server="stub-scheduler")
    server = rpc.get_server(target, [Scheduler()], objects_base.NovaObjectSerializer())
    server.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    server.stop()
    server.wait()


if __name__ == "__main__":
    main()
