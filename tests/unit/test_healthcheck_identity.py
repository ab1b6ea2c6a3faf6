"""`aioconductor healthcheck` passes only for the aioconductor that published the port.

Issue 21: with another program on the health port, the container's HEALTHCHECK reported
*healthy* because it was probing that program. The probe must compare identities.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aioconductor.observability.http import HealthReport, WorkerView, serve_http
from aioconductor.observability.identity import Identity, identity_file, publish


@pytest.fixture(autouse=True)
def runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # where the service publishes and the probe reads its identity: private to the test
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    return tmp_path


def healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    """The HEALTHCHECK's command line, as its own process (environment inherited)."""
    return subprocess.run(
        [sys.executable, "-m", "aioconductor", "healthcheck", "--url",
         f"http://127.0.0.1:{port}/healthz"],
        capture_output=True, text=True, timeout=30, check=False, env=dict(os.environ),
    )  # fmt: skip


@pytest.fixture
def impostor() -> Iterator[int]:
    """Another program on the port: 200 and a plausible health body to every GET."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"alive": True, "ready": True, "workers": []}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def healthy() -> HealthReport:
    view = WorkerView(pid=os.getpid(), heartbeat_age=0.1, connected=True, consuming=True,
                      in_flight=0, served=0, db_ok=True)  # fmt: skip
    return HealthReport([view], 1, 30.0)


def test_another_program_answering_200_on_the_port_is_not_healthy(impostor: int) -> None:
    result = healthcheck(impostor)
    assert result.returncode == 1
    assert f"no aioconductor serves health on port {impostor}" in result.stderr


def test_a_service_gone_from_its_port_is_not_vouched_for_by_the_next_program(
    impostor: int,
) -> None:
    # what an aioconductor that died without cleaning up leaves behind
    publish(Identity.new(), impostor)
    result = healthcheck(impostor)
    assert result.returncode == 1
    assert "not answered by this aioconductor" in result.stderr
    assert "another process has the port" in result.stderr


def test_the_service_that_published_the_port_is_healthy(runtime_dir: Path) -> None:
    server = serve_http("127.0.0.1:0", healthy, lambda: b"")
    port = server.server_address[1]
    try:
        result = healthcheck(port)
        assert result.returncode == 0, result.stderr
        published = json.loads(identity_file(port).read_text())
        assert published["pid"] == os.getpid()
        assert published["service"] == "aioconductor"
    finally:
        server.shutdown()
    assert not identity_file(port).exists()  # withdrawn on a clean stop
    assert healthcheck(port).returncode == 1


def test_a_newer_service_keeps_its_identity_when_an_older_one_stops() -> None:
    older = serve_http("127.0.0.1:0", healthy, lambda: b"")
    port = older.server_address[1]
    newer = Identity.new()
    publish(newer, port)  # as if another instance had taken over the file meanwhile
    older.shutdown()
    assert json.loads(identity_file(port).read_text())["instance"] == newer.instance


def test_a_probe_from_a_login_shell_finds_a_system_service(
    runtime_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # the service (no XDG_RUNTIME_DIR, as under systemd) writes to the temporary directory;
    # the operator's shell has XDG_RUNTIME_DIR set
    temporary = tmp_path_factory.mktemp("tmp")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setattr("tempfile.tempdir", None)
    server = serve_http("127.0.0.1:0", healthy, lambda: b"")
    port = server.server_address[1]
    try:
        assert (temporary / f"aioconductor-health-{port}.json").exists()
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_dir))
        result = healthcheck(port)
        assert result.returncode == 0, result.stderr
    finally:
        server.shutdown()
