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

from aioconductor.observability.identity import Identity, publish, withdraw

log = logging.getLogger(__name__)


# A worker's first heartbeat comes once its interpreter has imported everything (seconds on
# a busy host, before any event loop exists to block); only then does the heartbeat timeout
# apply.
BOOT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class WorkerView:
    """One worker as the health endpoints judge it."""

    pid: int
    heartbeat_age: float  # since its last heartbeat, or since its start before the first
    connected: bool
    consuming: bool
    in_flight: int
    served: int
    db_ok: bool | None
    not_ready: tuple[str, ...] = ()  # the worker's own account of what it cannot do now
    booting: bool = False  # no heartbeat yet

    def is_silent(self, heartbeat_timeout: float) -> bool:
        limit = max(heartbeat_timeout, BOOT_TIMEOUT) if self.booting else heartbeat_timeout
        return self.heartbeat_age > limit

    def problems(self, heartbeat_timeout: float) -> list[str]:
        found = list(self.not_ready)
        if self.is_silent(heartbeat_timeout):
            found.insert(0, f"no heartbeat for {self.heartbeat_age:.0f} s (event loop blocked?)")
        if not found:  # belt and braces: the flags alone also say it
            if not self.connected:
                found.append("not connected to RabbitMQ")
            elif not self.consuming:
                found.append("not consuming")
            if self.db_ok is False:
                found.append("database not answering")
        return found


@dataclass(frozen=True, slots=True)
class HealthReport:
    workers: list[WorkerView]
    expected: int
    heartbeat_timeout: float

    @property
    def alive(self) -> bool:
        return len(self.workers) >= self.expected > 0 and not any(
            w.is_silent(self.heartbeat_timeout) for w in self.workers
        )

    @property
    def ready(self) -> bool:
        return self.alive and not any(w.problems(self.heartbeat_timeout) for w in self.workers)

    def to_json(self, identity: Identity | None = None) -> bytes:
        missing = self.expected - len(self.workers)
        body = {
            **(identity.fields() if identity else {}),
            "alive": self.alive,
            "ready": self.ready,
            "expected_workers": self.expected,
            "not_ready": [f"{missing} worker(s) missing"] if missing > 0 else [],
            "workers": [
                {**asdict(w), "not_ready": w.problems(self.heartbeat_timeout)} for w in self.workers
            ],
            "at": time.time(),
        }
        return json.dumps(body).encode()


Snapshot = Callable[[], HealthReport]
MetricsText = Callable[[], bytes]


class HealthServer(ThreadingHTTPServer):
    """The HTTP server, and the identity it published for `aioconductor healthcheck`."""

    identity: Identity

    def shutdown(self) -> None:
        super().shutdown()
        self.server_close()
        withdraw(self.identity, self.server_address[1])


def serve_http(bind: str, snapshot: Snapshot, metrics: MetricsText) -> HealthServer:
    """Serve on `bind` in a daemon thread; OSError when the port or identity file is not ours."""
    host, _, port = bind.rpartition(":")
    identity = Identity.new()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/metrics"):
                self._send(200, metrics(), "text/plain; version=0.0.4")
                return
            if self.path.startswith(("/healthz", "/readyz")):
                report = snapshot()
                ok = report.alive if self.path.startswith("/healthz") else report.ready
                body = report.to_json(identity)
                self._send(200 if ok else 503, body, "application/json")
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

    server = HealthServer((host or "127.0.0.1", int(port)), Handler)
    server.identity = identity
    try:
        publish(identity, server.server_address[1])
    except OSError:
        server.server_close()
        raise
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health-http", daemon=True).start()
    log.info("metrics and health on http://%s/ (/metrics /healthz /readyz)", bind)
    return server
