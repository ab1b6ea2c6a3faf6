"""nova's SchedulerReportClient.claim_resources against a placement endpoint, as
scheduler_utils.claim_resources calls it for a build (consumer_generation None).

Job (JSON on stdin): endpoint, context (a nova context dict), calls: [[uuid, allocation
request, project_id, user_id, allocation_request_version], ...], provider_races (set on
the fake placement by the caller). Prints a list of {"result": bool} or {"error": class
name, "kwargs": ...}, one per call.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

from nova import config, exception, objects
from nova import context as nova_context
from nova.scheduler.client import report


def main() -> None:
    job = json.loads(sys.stdin.read())
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as conf_file:
        conf_file.write(f"[placement]\nauth_type = none\nendpoint_override = {job['endpoint']}\n")
    config.parse_args(
        ["report", "--config-file", conf_file.name], init_rpc=False, configure_db=False
    )
    os.unlink(conf_file.name)
    objects.register_all()
    ctxt = nova_context.RequestContext.from_dict(job["context"])
    client = report.SchedulerReportClient()
    out = []
    for uuid, alloc_request, project_id, user_id, version in job["calls"]:
        try:
            result = client.claim_resources(
                ctxt, uuid, alloc_request, project_id, user_id,
                allocation_request_version=version, consumer_generation=None,
            )  # fmt: skip
            out.append({"result": result})
        except exception.NovaException as exc:
            out.append({"error": type(exc).__name__, "kwargs": exc.kwargs})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
