"""A worker whose database is not there yet at start-up waits for it, as nova-conductor does
(oslo.db's `[database] max_retries` x `retry_interval`), without taking calls off the queue;
when it never comes, the worker exits with one clear line and a crash code."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kombu
import pytest

from tests import rabbit
from tests.integration.conftest import OsloClients, schema_database
from tests.integration.tcp_proxy import TcpProxy
from tests.integration.test_supervisor import Service, free_port

pytestmark = pytest.mark.connected
CTX = {"is_admin": True, "read_deleted": "no", "request_id": "req-db-startup"}


@pytest.fixture
def nova_db() -> Iterator[str]:
    with schema_database("dbstart") as name:
        yield name


def _database(url: str, max_retries: int, retry_interval: float) -> str:
    return (
        f"[database]\nconnection = {url}\nmax_retries = {max_retries}\n"
        f"retry_interval = {retry_interval}\n"
    )


def _conductor_queue(exchange: str) -> tuple[kombu.Connection, Any]:
    """The topic queue as nova's deployment already has it (declared by an earlier run), so
    a call made before the worker is up waits there; and a channel to count it."""
    conn = kombu.Connection(rabbit.url("amqp"))
    channel = conn.channel()
    queue = kombu.Queue(
        "conductor",
        kombu.Exchange(exchange, "topic", durable=False),
        routing_key="conductor",
        durable=False,
        auto_delete=False,
    )
    queue(channel).declare()
    return conn, channel


def _minimum_compute_version(client: Any) -> Any:
    return client.call(
        CTX, "object_class_action_versions", objname="Service", objmethod="get_minimum_version",
        object_versions={"Service": "1.22"}, args=["nova-compute"], kwargs={},
    )  # fmt: skip


def _wait_for_line(svc: Service, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in svc.log.read_text():
        assert svc.proc.poll() is None, svc.log.read_text()[-3000:]
        assert time.monotonic() < deadline, svc.log.read_text()[-3000:]
        time.sleep(0.1)


def _ready_and_consumers(channel: Any) -> tuple[int, int]:
    ok = channel.queue_declare("conductor", passive=True)
    return ok.message_count, ok.consumer_count


def test_a_call_waits_in_the_queue_until_the_database_answers(
    tmp_path: Path, exchange_name: str, nova_db: str
) -> None:
    broker, channel = _conductor_queue(exchange_name)
    clients = OsloClients(exchange_name)
    with TcpProxy(("127.0.0.1", 3306)) as mariadb:
        mariadb.go_down()
        url = f"mysql+pymysql://root@127.0.0.1:{mariadb.port}/{nova_db}"
        svc = Service(tmp_path, exchange_name, workers=1, extra=_database(url, -1, 0.5))
        answers: list[Any] = []
        client = clients.client(version="3.0", timeout=60)

        def call() -> None:
            try:
                answers.append(_minimum_compute_version(client))
            except Exception as exc:  # the caller's error, for the assertion below
                answers.append(exc)

        caller = threading.Thread(target=call, daemon=True)
        try:
            caller.start()
            _wait_for_line(svc, "database not reachable")
            # the worker is up and retrying the database: the call stays queued
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                assert svc.proc.poll() is None, svc.log.read_text()[-3000:]
                ready, consumers = _ready_and_consumers(channel)
                assert consumers == 0, "consuming before the database answered"
                time.sleep(0.25)
            assert ready == 1
            log = svc.log.read_text()
            assert log.count("database not reachable") >= 3, log[-3000:]

            mariadb.come_back()
            caller.join(30)
            assert answers == [0], svc.log.read_text()[-3000:]
            assert "Traceback" not in svc.log.read_text()
        finally:
            clients.close()
            svc.stop()
            channel.queue_delete("conductor")
            broker.close()


def test_a_database_that_never_answers_ends_the_worker_as_a_crash_in_one_line(
    tmp_path: Path, exchange_name: str
) -> None:
    nowhere = f"mysql+pymysql://root@127.0.0.1:{free_port()}/nova"
    svc = Service(tmp_path, exchange_name, workers=1, extra=_database(nowhere, 3, 0.2))
    rc = svc.proc.wait(30)
    log = svc.log.read_text()
    assert rc == 1, log  # a crash: the supervisor restarts it with its backoff
    assert log.count("database not reachable") == 2, log  # attempts 1 and 2; 3 gives up
    assert "database still not reachable after 3 attempts" in log, log
    assert "Traceback" not in log, log


def test_refused_credentials_are_a_boot_error_at_once(
    tmp_path: Path, exchange_name: str, nova_db: str
) -> None:
    denied = f"mysql+pymysql://nobody_{uuid.uuid4().hex[:6]}:wrong@127.0.0.1/{nova_db}"
    svc = Service(tmp_path, exchange_name, workers=1, extra=_database(denied, -1, 0.2))
    rc = svc.proc.wait(30)
    log = svc.log.read_text()
    assert rc == 4, log  # a boot error: restarting will not help
    assert "[database] connection refused" in log, log
    assert "database not reachable" not in log, log


async def test_the_services_row_waits_for_a_database_that_went_away_after_the_check(
    nova_db: str,
) -> None:
    from aioconductor.conductor.service_record import ServiceRecord
    from aioconductor.config.settings import Settings
    from aioconductor.db.engine import Database

    settings = Settings(host="row-test", database_max_retries=-1, database_retry_interval=0.2)
    with TcpProxy(("127.0.0.1", 3306)) as mariadb:
        db = Database.from_url(f"mysql+asyncmy://root@127.0.0.1:{mariadb.port}/{nova_db}")
        record = ServiceRecord(db, settings)
        try:
            mariadb.go_down()
            starting = asyncio.create_task(record.start())
            await asyncio.sleep(1)
            assert not starting.done()  # still waiting, not crashed
            mariadb.come_back()
            await asyncio.wait_for(starting, 10)
            assert record.service_id is not None
        finally:
            await record.stop()
            await db.close()
