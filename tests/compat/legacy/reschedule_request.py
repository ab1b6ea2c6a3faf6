"""Runs in nova 34.0.0's venv: be the compute whose build failed, and ask for a reschedule.

Given the `build_and_run_instance` cast a compute received (as the oracle drained it from
the compute's queue), this does what nova-compute 34.0.0 does on a RescheduledException
(compute/manager.py `_do_build_and_run_instance`) with nova's own objects and client: the
cast's arguments deserialized by nova's serializer, the failure written into the retry,
the networks marked deallocated, the host and node cleared, the instance set back to
scheduling and saved, then `ComputeTaskAPI.build_instances` cast to the conductor with the
alternates the compute got.

Job (JSON on stdin): conf (the side's nova.conf), cast (the message body: method, args,
version and the `_context_*` keys), attempts (when set, the retry's count is set to it
first, as after that many failed builds).
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
    from nova.compute import task_states
    from nova.conductor import api as conductor_api
    from nova.objects import base as objects_base

    objects.register_all()
    if rpc.TRANSPORT is None:
        rpc.init(config.CONF)
    cast = job["cast"]
    context_dict = {k[len("_context_") :]: v for k, v in cast.items() if k.startswith("_context_")}
    ctx = nova_context.RequestContext.from_dict(context_dict)
    serializer = objects_base.NovaObjectSerializer()
    args = {k: serializer.deserialize_entity(ctx, v) for k, v in cast["args"].items()}

    instance = args["instance"]
    filter_properties = args["filter_properties"]
    retry = filter_properties["retry"]
    if job.get("attempts"):
        retry["num_attempts"] = job["attempts"]
    # as the compute's except RescheduledException block fills them
    retry["exc"] = [
        "Traceback (most recent call last):\n",
        "nova.exception.RescheduledException: Build of instance "
        f"{instance.uuid} was re-scheduled: oracle says no\n",
    ]
    retry["exc_reason"] = "oracle says no"
    instance.system_metadata["network_allocated"] = "False"
    instance.save()
    instance.host = None
    instance.node = None
    instance.compute_id = None
    instance.launched_on = None
    instance.task_state = task_states.SCHEDULING
    instance.save()

    conductor_api.ComputeTaskAPI().build_instances(
        ctx,
        [instance],
        args["image"],
        filter_properties,
        args["admin_password"],
        args["injected_files"],
        args["requested_networks"],
        args["security_groups"],
        args["block_device_mapping"],
        request_spec=args["request_spec"],
        host_lists=[args["host_list"]],
    )
    rpc.TRANSPORT.cleanup()
    print(json.dumps({"sent": 1}))


if __name__ == "__main__":
    main()
