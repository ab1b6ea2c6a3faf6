"""A keystone v3 stand-in: version discovery and token issue, with a catalog naming one
placement endpoint per interface. Enough for keystoneauth1's password and token plugins;
every token request body is kept so a test can see the credentials sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/identity"


@dataclass
class KeystoneState:
    placement_urls: dict[str, str]  # interface -> URL
    region: str = "RegionOne"
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    state: KeystoneState
    base: str

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, answer: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _version(self) -> dict[str, Any]:
        return {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{self.base}/v3/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
        }

    def do_GET(self) -> None:
        path = self.path.rstrip("/")
        if path == f"{PREFIX}/v3":
            self._send(200, {"version": self._version()})
        elif path == PREFIX:
            self._send(300, {"versions": {"values": [self._version()]}})
        else:
            self._send(404, {"error": {"code": 404}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path.rstrip("/") != f"{PREFIX}/v3/auth/tokens":
            self._send(404, {"error": {"code": 404}})
            return
        with self.state.lock:
            self.state.token_requests.append(body)
            token = f"tok-{len(self.state.issued) + 1}"
            self.state.issued.append(token)
        domain = {"id": "default", "name": "Default"}
        endpoints = [
            {
                "id": f"ep-{interface}",
                "interface": interface,
                "region": self.state.region,
                "region_id": self.state.region,
                "url": url,
            }
            for interface, url in self.state.placement_urls.items()
        ]
        answer = {
            "token": {
                "methods": ["password"],
                "expires_at": "2099-01-01T00:00:00.000000Z",
                "issued_at": "2026-12-06T00:00:00.000000Z",
                "user": {"id": "nova-id", "name": "nova", "domain": domain},
                "project": {"id": "service-id", "name": "service", "domain": domain},
                "roles": [{"id": "r1", "name": "admin"}],
                "catalog": [
                    {
                        "type": "placement",
                        "name": "placement",
                        "id": "svc-placement",
                        "endpoints": endpoints,
                    }
                ],
            }
        }
        self._send(201, answer, {"X-Subject-Token": token})


@contextmanager
def fake_keystone(placement_urls: dict[str, str]) -> Iterator[tuple[str, KeystoneState]]:
    """A keystone on loopback: (its v3 auth_url, its state)."""
    state = KeystoneState(placement_urls)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    server.RequestHandlerClass = type("Handler", (_Handler,), {"state": state, "base": base})
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-keystone", daemon=True)
    thread.start()
    try:
        yield f"{base}/v3", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
