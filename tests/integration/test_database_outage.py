"""A MariaDB restart under a running conductor: calls made while it is down fail fast with
oslo.db's error, which nova's client rebuilds, and calls after it is back succeed on fresh
connections, with no restart of the conductor."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import OsloClients, schema_database
from tests.integration.tcp_proxy import TcpProxy
from tests.integration.test_supervisor import Service

pytestmark = pytest.mark.connected
CTX = {"is_admin": True, "read_deleted": "no", "request_id": "req-outage"}


@pytest.fixture
def nova_db() -> Iterator[str]:
    with schema_database("outage") as name:
        yield name


def _minimum_compute_version(client: Any) -> Any:
    return client.call(
        CTX, "object_class_action_versions", objname="Service", objmethod="get_minimum_version",
        object_versions={"Service": "1.22"}, args=["nova-compute"], kwargs={},
    )  # fmt: skip


def test_calls_fail_fast_while_the_database_is_down_and_work_after(
    tmp_path: Path, exchange_name: str, nova_db: str
) -> None:
    with TcpProxy(("127.0.0.1", 3306)) as mariadb:
        url = f"mysql+pymysql://root@127.0.0.1:{mariadb.port}/{nova_db}"
        svc = Service(tmp_path, exchange_name, workers=1, extra=f"[database]\nconnection = {url}\n")
        clients = OsloClients(exchange_name)
        try:
            svc.wait_ready(1)
            client = clients.client(version="3.0", timeout=30)
            assert _minimum_compute_version(client) == 0

            mariadb.go_down()
            started = time.monotonic()
            with pytest.raises(clients.om.RemoteError) as down:
                _minimum_compute_version(client)
            assert down.value.exc_type == "DBConnectionError"
            assert time.monotonic() - started < 15  # an answer, not the client's timeout

            mariadb.come_back()
            deadline = time.monotonic() + 20
            while True:
                try:
                    assert _minimum_compute_version(client) == 0
                    break
                except clients.om.RemoteError:
                    assert time.monotonic() < deadline, "no recovery after the database came back"
                    time.sleep(0.5)
            assert svc.proc.poll() is None  # the same conductor, not a restarted one
        finally:
            clients.close()
            svc.stop()
