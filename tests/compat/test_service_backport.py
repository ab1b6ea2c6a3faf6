"""A client whose manifest names an older Service gets the object nova-conductor would send:
the same fields dropped, the same version stamped, the values unchanged."""

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
from tests.integration.conftest import OsloClients

pytestmark = [pytest.mark.connected, pytest.mark.compat]

# 1.22 is nova 34's; 1.20 has no uuid; 1.15 no version either; 1.13 no forced_down
VERSIONS = ["1.22", "1.20", "1.15", "1.13"]
CTX = {"is_admin": True, "read_deleted": "no", "request_id": "req-backport"}


def test_older_service_manifests_get_nova_conductors_backport(tmp_path: Path) -> None:
    exchange = f"aioc_bp_{uuid.uuid4().hex[:8]}"
    with nova_database("svc_backport") as db:
        conf = nova_conf(tmp_path / "nova.conf", exchange, db)
        theirs: dict[str, Any] = run_nova_script(
            "service_backport.py", {"config_file": str(conf), "versions": VERSIONS}
        )
        ours: dict[str, Any] = {}
        with aioconductor_serving(conf, tmp_path / "ours.log"):
            clients = OsloClients(exchange)
            try:
                client = clients.client(version="3.0", timeout=30)
                for version in VERSIONS:
                    ours[version] = client.call(
                        CTX, "object_class_action_versions", objname="Service",
                        objmethod="get_by_host_and_binary", object_versions={"Service": version},
                        args=["bp-host", "nova-compute"], kwargs={},
                    )  # fmt: skip
            finally:
                clients.close()
    for version in VERSIONS:
        assert ours[version] == theirs[version], version
    assert "uuid" not in ours["1.20"]["nova_object.data"]
    assert ours["1.13"]["nova_object.version"] == "1.13"
    assert "forced_down" not in ours["1.13"]["nova_object.data"]
