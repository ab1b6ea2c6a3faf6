"""One real oslo RPC round trip through a containerised aioconductor, with nova's own client.

Runs tests/compat/legacy/nova_client.py in nova 34.0.0's virtualenv against the broker the
container consumes from: a baseapi ping, and Service.get_by_host_and_binary (a native object
call: the container's worker answers it from its own database, where it registered that row).
Exit 0 and one line when both answer as nova-conductor would, else 1 and what came back.

Usage: python rpc_check.py --transport-url rabbit://... --host HOST
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aioconductor.novaenv import ensure_nova_venv

NOVA_CLIENT = Path(__file__).resolve().parents[1] / "compat" / "legacy" / "nova_client.py"


def nova_client(transport_url: str, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "nova.conf"
        conf.write_text(f"[DEFAULT]\ntransport_url = {transport_url}\nrpc_response_timeout = 30\n")
        proc = subprocess.run(
            [str(ensure_nova_venv().python), str(NOVA_CLIENT)],
            input=json.dumps({"config_file": str(conf), "steps": steps}),
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"nova's client failed:\n{proc.stderr[-3000:]}")
    result: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport-url", required=True)
    parser.add_argument("--host", required=True, help="the container's [DEFAULT] host")
    args = parser.parse_args()
    token = uuid.uuid4().hex
    ping, service = nova_client(
        args.transport_url,
        [{"op": "ping", "arg": token},
         {"op": "service_get", "host": args.host, "binary": "nova-conductor"}],
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while service.get("ok") is None and "error" not in service and time.monotonic() < deadline:
        time.sleep(1)  # the worker registers its row right after it starts consuming
        (service,) = nova_client(
            args.transport_url,
            [{"op": "service_get", "host": args.host, "binary": "nova-conductor"}],
        )
    if ping.get("ok") != {"service": "conductor", "arg": token}:
        print(f"ping through the container failed: {ping}", file=sys.stderr)
        return 1
    row = (service.get("ok") or {}).get("nova_object.data", {})
    if row.get("host") != args.host or row.get("binary") != "nova-conductor":
        print(f"Service.get_by_host_and_binary through the container failed: {service}",
              file=sys.stderr)  # fmt: skip
        return 1
    print(
        f"nova's client through the container: ping {ping['seconds'] * 1000:.0f} ms, "
        f"Service.get_by_host_and_binary({args.host!r}) -> id {row.get('id')} "
        f"{service['seconds'] * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
