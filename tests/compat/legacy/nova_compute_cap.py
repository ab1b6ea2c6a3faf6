"""nova's ComputeAPI._determine_version_cap for `[upgrade_levels] compute = auto`.

Job (JSON on stdin): api_db (a `nova-manage api_db sync`ed database) and cells (database
names). The cells are mapped in the API database (unless already), then nova works the cap
out in a fresh process. Prints {"cap": "6.1"} or {"error": "ServiceTooOld", "kwargs": ...}.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import nova.conf
import oslo_messaging as messaging
from nova import config, exception, objects
from nova import context as nova_context
from nova.compute import rpcapi as compute_rpcapi

CONF = nova.conf.CONF
DB = "mysql+pymysql://root@127.0.0.1/{}"


def main() -> None:
    job = json.loads(sys.stdin.read())
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as conf_file:
        conf_file.write(
            f"[api_database]\nconnection = {DB.format(job['api_db'])}\n"
            f"[database]\nconnection = {DB.format(job['cells'][0])}\n"
            "[upgrade_levels]\ncompute = auto\n"
        )
    config.parse_args(["cap", "--config-file", conf_file.name], init_rpc=False)
    os.unlink(conf_file.name)
    objects.register_all()
    messaging.get_rpc_transport(CONF)  # registers transport_url, which cell mappings read
    ctxt = nova_context.get_admin_context()
    mapped = {c.database_connection for c in objects.CellMappingList.get_all(ctxt)}
    for index, name in enumerate(job["cells"]):
        if DB.format(name) in mapped:
            continue
        objects.CellMapping(
            ctxt,
            uuid=f"00000000-0000-4000-8000-{index + 1:012d}",
            name=name,
            transport_url="rabbit://",
            database_connection=DB.format(name),
        ).create()
    try:
        cap = compute_rpcapi.ComputeAPI._determine_version_cap(
            messaging.Target(topic="compute", version="6.0")
        )
    except exception.NovaException as exc:
        print(json.dumps({"error": type(exc).__name__, "kwargs": exc.kwargs}))
        return
    print(json.dumps({"cap": cap}))


if __name__ == "__main__":
    main()
