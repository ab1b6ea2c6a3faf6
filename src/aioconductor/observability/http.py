"""/metrics, /healthz and /readyz on a small HTTP server in a daemon thread.

It never touches an event loop: it reads health snapshots the workers publish, so it keeps
answering (and saying "unhealthy") when a worker's loop is stuck.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerView:
    """One worker as the health endpoints judge it."""

    pid: int
    heartbeat_age: float
    connected: bool
    consuming: bool
    in_flight: int
    served: int
    db_ok: bool | None


@dataclass(frozen=True, slots=True)
class HealthReport:
    workers: list[WorkerView]
    expected: int
    heartbeat_timeout: float

    @property
    def alive(self) -> bool:
        return len(self.workers) >= self.expected > 0 and all(
            w.heartbeat_age <= self.heartbeat_timeout for w in self.workers
        )

    @property
    def ready(self) -> bool:
        return self.alive and all(
            w.connected and w.consuming and w.db_ok is not False for w in self.workers
        )

    def to_json(self) -> bytes:
        body = {
            "alive": self.alive,
            "ready": self.ready,
            "expected_workers": self.expected,
            "workers": [asdict(w) for w in self.workers],
            "at": time.time(),
        }
        return json.dumps(body).encode()


Snapshot = Callable[[], HealthReport]
MetricsText = Callable[[], bytes]


def serve_http(bind: str, snapshot: Snapshot, metrics: MetricsText) -> ThreadingHTTPServer:
    host, _, port = bind.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/metrics"):
                self._send(200, metrics(), "text/plain; version=0.0.4")
                return
            if self.path.startswith(("/healthz", "/readyz")):
                report = snapshot()
                ok = report.alive if self.path.startswith("/healthz") else report.ready
                self._send(200 if ok else 503, report.to_json(), "application/json")
                return
            self._send(404, b"not found\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # probes every few seconds would flood the log

    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health-http", daemon=True).start()
    log.info("metrics and health on http://%s/ (/metrics /healthz /readyz)", bind)
    return server
