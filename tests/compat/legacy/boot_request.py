"""Runs in nova 34.0.0's venv: make a boot request as nova-api makes it, and cast it.

Job (JSON on stdin): conf (a nova.conf path: transport, exchange, API and cell databases),
cells {cell0, cell1: {uuid, database, transport_url}}, hosts (mapped to cell1), request_id,
user_id, project_id, instance_uuids, reservation_id, options {tags, blank_bdm, ephemeral_gb,
metadata, instance_quota}.

nova-api's part is nova's own code (the bench's nova_side/nova_api_boot.py, shared): the
rows `_provision_instances` writes, then `ComputeTaskAPI.schedule_and_build_instances`.
`instance_quota` sets the project's instances limit first. Prints how many were sent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src/aioconductor/bench/nova_side"))


def main() -> None:
    job = json.load(sys.stdin)
    from nova import config

    config.parse_args([], default_config_files=[job["conf"]])
    from nova import context as nova_context
    from nova import objects, rpc

    objects.register_all()
    if rpc.TRANSPORT is None:
        rpc.init(config.CONF)
    import nova_api_boot

    admin = nova_context.get_admin_context()
    nova_api_boot.map_cells(admin, job["cells"], job["hosts"])
    options = job.get("options", {})
    if "instance_quota" in options:
        try:
            objects.Quotas.create_limit(
                admin, job["project_id"], "instances", options["instance_quota"]
            )
        except Exception:
            objects.Quotas.update_limit(
                admin, job["project_id"], "instances", options["instance_quota"]
            )
    ctx = nova_context.RequestContext(
        user_id=job["user_id"],
        project_id=job["project_id"],
        request_id=job["request_id"],
        roles=["member", "reader"],
        user_name="demo",
        project_name="demo",
        is_admin=False,
    )
    request = nova_api_boot.provision(ctx, job["instance_uuids"], job["reservation_id"], options)
    nova_api_boot.cast(ctx, request)
    rpc.TRANSPORT.cleanup()
    print(json.dumps({"sent": len(request["build_requests"])}))


if __name__ == "__main__":
    main()
