"""nova's SchedulerReportClient.delete_allocation_for_instance against a placement endpoint.

Job (JSON on stdin): endpoint, context (a nova context dict), calls: [[uuid, force], ...].
Prints a list of {"result": bool} or {"error": class name, "kwargs": ...}, one per call.
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
    for uuid, force in job["calls"]:
        try:
            out.append({"result": client.delete_allocation_for_instance(ctxt, uuid, force=force)})
        except exception.NovaException as exc:
            out.append({"error": type(exc).__name__, "kwargs": exc.kwargs})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
