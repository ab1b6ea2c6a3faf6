"""Service through nova's own client against aioconductor, compared with nova's own code.

The same scenario (create, lookups, minimum versions, two heartbeats, a disable, a duplicate
create) runs twice through nova 34.0.0's objects: directly on one database, and with
`indirection_api` over RabbitMQ to a real `aioconductor serve` on another. Every result
must match, except values that are unique per run (ids, uuids, timestamps).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.compat.nova_processes import (
    aioconductor_serving,
    nova_conf,
    nova_database,
    run_nova_script,
)

pytestmark = [pytest.mark.connected, pytest.mark.compat]

VOLATILE = {"id", "uuid", "created_at", "updated_at", "last_seen_up"}


def stable(value: Any) -> Any:
    """Replace per-run values by whether they are set, keep everything else."""
    if isinstance(value, dict):
        return {k: (v is not None) if k in VOLATILE else stable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def test_service_scenario_matches_nova(tmp_path: Path) -> None:
    exchange = f"aioc_svc_{uuid.uuid4().hex[:8]}"
    with nova_database("svc_direct") as direct_db, nova_database("svc_ours") as our_db:
        direct = run_nova_script(
            "service_scenario.py",
            {
                "mode": "direct",
                "config_file": str(nova_conf(tmp_path / "d.conf", exchange, direct_db)),
            },
        )
        ours_conf = nova_conf(tmp_path / "ours.conf", exchange, our_db)
        with aioconductor_serving(ours_conf, tmp_path / "ours.log"):
            indirect = run_nova_script(
                "service_scenario.py", {"mode": "indirect", "config_file": str(ours_conf)}
            )
    assert len(indirect) == len(direct) == 12
    for step, (theirs, ours) in enumerate(zip(direct, indirect, strict=True)):
        assert stable(ours) == stable(theirs), f"step {step}"
    # the heartbeats really moved last_seen_up and counted
    beat = indirect[8]["ok"]["primitive"]["nova_object.data"]
    assert beat["report_count"] == 1
    assert beat["last_seen_up"] is not None
    assert indirect[11]["error"]["class"] == "ServiceBinaryExists"


def _conductor_row(db: str) -> tuple[int, int, str]:
    import subprocess

    out = subprocess.run(
        [
            "mysql",
            "-uroot",
            "-h127.0.0.1",
            "-N",
            "-e",
            f"SELECT report_count, version, TIMESTAMPDIFF(SECOND, last_seen_up, UTC_TIMESTAMP()) "
            f"FROM {db}.services WHERE host='aioc-test' AND `binary`='nova-conductor' "
            "AND deleted=0",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), int(out[1]), out[2]


def test_own_services_row_is_heart_beaten(tmp_path: Path) -> None:
    import time

    with nova_database("svc_row") as db:
        port = _free_port()
        conf = nova_conf(
            tmp_path / "ours.conf",
            f"aioc_row_{uuid.uuid4().hex[:8]}",
            db,
            f"[aioconductor]\nmetrics_bind = 127.0.0.1:{port}\n",
        )
        with aioconductor_serving(conf, tmp_path / "ours.log"):
            deadline = time.monotonic() + 20
            count = 0
            while time.monotonic() < deadline:
                count, version, _ = _conductor_row(db)
                if count >= 2:
                    break
                time.sleep(0.5)
            count, version, age = _conductor_row(db)
            metrics = _get(f"http://127.0.0.1:{port}/metrics")
            ready = _get(f"http://127.0.0.1:{port}/readyz")
    assert version == 74  # nova 34's SERVICE_VERSION, as nova-conductor writes it
    assert count >= 2  # report_interval = 1 s in this config
    # nova's servicegroup db driver: up while now - last_seen_up <= service_down_time (60)
    assert int(age) <= 60
    # the single worker serves its own metrics and readiness, DB pool included
    assert "aioconductor_db_pool_size 16.0" in metrics
    assert "aioconductor_db_pool_connections_in_use" in metrics
    assert '"db_ok": true' in ready


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        body: str = response.read().decode()
        return body
