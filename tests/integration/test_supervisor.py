"""The supervisor with real worker processes, the real broker and the real oslo client."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests import rabbit
from tests.integration.conftest import OsloClients

pytestmark = pytest.mark.connected

BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "aioconductor"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Service:
    def __init__(
        self,
        tmp: Path,
        exchange: str,
        workers: int,
        extra: str = "",
        env: dict[str, str] | None = None,
        password: str = "guest",
        transport_url: str | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.port = metrics_port or free_port()
        self.conf = tmp / "nova.conf"
        self.conf.write_text(
            f"[DEFAULT]\ntransport_url = {transport_url or rabbit.url(password=password)}\n"
            f"control_exchange = {exchange}\nhost = sup\ngraceful_shutdown_timeout = 15\n"
            f"[aioconductor]\nmetrics_bind = 127.0.0.1:{self.port}\n{extra}"
        )
        self.log = tmp / "service.log"
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--config-file", str(self.conf), "--workers", str(workers)],
            stderr=self.log.open("wb"),
            env={**os.environ, **(env or {})},
        )

    def wait_for_log(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text():
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.log.read_text()[-3000:]}"
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.05)

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=3) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=3) as r:
            text: str = r.read().decode()
            return text

    def wait_ready(self, workers: int, timeout: float = 30) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                status, body = self.get("/readyz")
                if status == 200 and len(body["workers"]) == workers:
                    return [w["pid"] for w in body["workers"]]
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"not ready with {workers} workers:\n{self.log.read_text()[-3000:]}")

    def healthcheck(self, *args: str) -> int:
        return subprocess.run(
            [str(BIN), "healthcheck", "--config-file", str(self.conf), *args],
            capture_output=True,
            check=False,
        ).returncode

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def service(tmp_path: Path, exchange_name: str) -> Iterator[Service]:
    svc = Service(tmp_path, exchange_name, workers=2)
    try:
        yield svc
    finally:
        svc.stop()


class PingStream:
    """A steady stream of pings from the oslo client in a thread."""

    def __init__(self, clients: OsloClients) -> None:
        self.client = clients.client(namespace="baseapi", timeout=10)
        self.ok = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.client.call({}, "ping", arg=1)
                self.ok += 1
            except Exception:
                self.failed += 1
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def test_killed_worker_is_replaced_and_calls_keep_flowing(
    service: Service, oslo: OsloClients
) -> None:
    pids = service.wait_ready(2)
    assert service.healthcheck() == 0
    assert service.healthcheck("--ready") == 0
    stream = PingStream(oslo)
    time.sleep(1)
    os.kill(pids[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    new_pids = pids
    while time.monotonic() < deadline and pids[0] in new_pids:
        new_pids = service.wait_ready(2)
        time.sleep(0.2)
    before = stream.ok
    # a ping the dead worker had taken is lost and waits out its 10 s timeout: allow for it
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and stream.ok < before + 5:
        time.sleep(0.1)
    stream.stop()
    assert pids[0] not in new_pids
    assert pids[1] in new_pids
    assert stream.ok >= before + 5  # answered after the restart
    assert stream.failed <= 1  # at most a call the dead worker had in flight
    assert "aioconductor_worker_restarts_total 1" in service.metrics()
    assert "signal SIGKILL" in service.log.read_text()


def test_the_process_tree_is_the_supervisor_and_its_workers(service: Service) -> None:
    pids = service.wait_ready(2)
    children = psutil.Process(service.proc.pid).children(recursive=True)
    # no helper process beside them (multiprocessing's resource tracker, say)
    assert sorted(p.pid for p in children) == sorted(pids)
    for child in children:
        assert child.cmdline()[1:4] == ["-P", "-m", "aioconductor.worker_process"]
    _, body = service.get("/readyz")
    assert all(w["connected"] and w["db_ok"] is None for w in body["workers"])


def test_workers_stop_by_themselves_when_the_supervisor_is_killed(service: Service) -> None:
    pids = service.wait_ready(2)
    workers = [psutil.Process(pid) for pid in pids]
    service.proc.kill()  # no chance to stop them: they must notice on their own
    service.proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, "orphaned workers kept running (and consuming) without a supervisor"
    assert len(gone) == 2
    assert service.log.read_text().count("SIGTERM received: draining") == 2  # drained, not cut


def test_sigterm_stops_everything_cleanly(service: Service) -> None:
    service.wait_ready(2)
    started = time.monotonic()
    assert service.stop() == 0
    assert time.monotonic() - started < 15
    assert service.healthcheck() == 1  # nothing answers any more


def test_ttin_and_ttou_change_the_worker_count(service: Service) -> None:
    service.wait_ready(2)
    service.proc.send_signal(signal.SIGTTIN)
    service.wait_ready(3)
    assert service.get("/healthz")[1]["expected_workers"] == 3
    service.proc.send_signal(signal.SIGTTOU)
    service.wait_ready(2)
    assert service.get("/healthz")[1]["expected_workers"] == 2


def test_hup_restarts_workers_one_by_one(service: Service, oslo: OsloClients) -> None:
    old = service.wait_ready(2)
    stream = PingStream(oslo)
    service.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 40
    new: list[int] = []
    while time.monotonic() < deadline:
        new = service.wait_ready(2)
        if not set(new) & set(old):
            break
        time.sleep(0.3)
    stream.stop()
    assert not set(new) & set(old)
    assert stream.failed == 0  # no request dropped during the rolling restart


def test_blocked_event_loop_is_detected_and_replaced(tmp_path: Path, exchange_name: str) -> None:
    svc = Service(
        tmp_path,
        exchange_name,
        workers=2,
        extra="worker_heartbeat_timeout = 2\n",
        env={"AIOC_TEST_BLOCK_LOOP_AFTER": "2"},
    )
    try:
        first = svc.wait_ready(2)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            "died: signal" in svc.log.read_text()
            and svc.log.read_text().count("started") > len(first)
        ):
            time.sleep(0.3)
        log = svc.log.read_text()
        assert "event loop blocked" in log
        assert "died: signal SIGABRT" in log or "died: signal SIGKILL" in log
        # a replacement was started for the stuck worker
        assert log.count("started") > len(first)
    finally:
        svc.stop()


def test_refused_credentials_stop_with_the_boot_error_code(
    tmp_path: Path, exchange_name: str
) -> None:
    svc = Service(tmp_path, exchange_name, workers=2, password="wrong-password")
    try:
        assert svc.proc.wait(60) == 4
    finally:
        svc.stop()
    log = svc.log.read_text()
    assert "refused user 'guest'" in log
    assert log.count("worker") < 12  # no crash loop: a few lines, then out


def test_sigterm_while_workers_are_still_starting_is_a_clean_stop(
    tmp_path: Path, exchange_name: str
) -> None:
    svc = Service(tmp_path, exchange_name, workers=2)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and svc.log.read_text().count(" started") < 2:
            time.sleep(0.01)
        assert "worker ready" not in svc.log.read_text()  # caught mid start-up
    finally:
        code = svc.stop()
    assert code == 0, svc.log.read_text()[-3000:]


def unreachable_broker_url() -> str:
    return rabbit.url(port=free_port())  # nothing listens there: connections are refused


def unreachable_database(max_retries: int = -1) -> str:
    nowhere = f"mysql+pymysql://root@127.0.0.1:{free_port()}/nova"
    return f"[database]\nconnection = {nowhere}\nmax_retries = {max_retries}\n"


@pytest.mark.parametrize(
    ("workers", "waiting_for"),
    [(1, "rabbitmq"), (2, "rabbitmq"), (1, "database")],
)
def test_sigterm_stops_a_service_still_starting(
    tmp_path: Path, exchange_name: str, workers: int, waiting_for: str
) -> None:
    if waiting_for == "rabbitmq":
        svc = Service(tmp_path, exchange_name, workers, transport_url=unreachable_broker_url())
        waiting = "cannot reach RabbitMQ"
    else:
        svc = Service(tmp_path, exchange_name, workers, extra=unreachable_database())
        waiting = "database not reachable"
    try:
        svc.wait_for_log(waiting)
        svc.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = svc.proc.wait(15)
    finally:
        svc.stop()
    assert time.monotonic() - started < 5, svc.log.read_text()[-3000:]
    assert code == 0, svc.log.read_text()[-3000:]


def test_a_worker_waiting_for_rabbitmq_is_alive_but_not_ready(
    tmp_path: Path, exchange_name: str
) -> None:
    svc = Service(
        tmp_path,
        exchange_name,
        workers=2,
        extra="worker_heartbeat_timeout = 3\n",
        transport_url=unreachable_broker_url(),
    )
    try:
        svc.wait_for_log("cannot reach RabbitMQ")
        first = sorted(p.pid for p in psutil.Process(svc.proc.pid).children())
        time.sleep(10)
        assert sorted(p.pid for p in psutil.Process(svc.proc.pid).children()) == first
        assert "event loop blocked" not in svc.log.read_text()
        alive, health = svc.get("/healthz")
        ready, readiness = svc.get("/readyz")
    finally:
        svc.stop()
    assert alive == 200, health
    assert ready == 503
    assert all("starting" in " ".join(w["not_ready"]) for w in readiness["workers"]), readiness


def test_metrics_of_every_worker_reach_the_supervisors_endpoint(
    service: Service, oslo: OsloClients
) -> None:
    service.wait_ready(2)
    ping = oslo.client(namespace="baseapi", timeout=10)
    for i in range(20):
        assert ping.call({}, "ping", arg=i)["arg"] == i
    with pytest.raises(oslo.om.RemoteError):  # not served, and no legacy conductor to forward to
        oslo.client(namespace="compute_task", version="1.26", timeout=10).call({}, "migrate_server")
    text = service.metrics()
    received = [
        line for line in text.splitlines()
        if line.startswith("aioconductor_received_messages_total{")
    ]  # fmt: skip
    assert 'method="baseapi.ping",route="native"} 20.0' in "\n".join(received), text
    assert 'method="compute_task.migrate_server",route="refused"} 1.0' in "\n".join(received), text
    assert "WARNING aioconductor.messaging.server: compute_task.migrate_server refused: " in (
        service.log.read_text()
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_a_metrics_port_already_taken_stops_the_service_with_a_boot_error(
    tmp_path: Path, exchange_name: str, workers: int
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        svc = Service(tmp_path, exchange_name, workers, metrics_port=port)
        try:
            code = svc.proc.wait(30)
        finally:
            svc.stop()
    log = svc.log.read_text()
    assert code == 4, log[-3000:]
    assert f"cannot serve metrics/health on 127.0.0.1:{port}" in log
    assert "worker ready" not in log  # nothing consumed unwatched
