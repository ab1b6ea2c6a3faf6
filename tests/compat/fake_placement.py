"""A placement API small enough to keep one nova-compute's resource tracker happy.

nova-compute builds its placement client at start-up (version discovery against the endpoint)
and its resource tracker reports the compute node's provider, inventory, traits and
aggregates every update_resources_interval. A real placement needs keystone and a database;
this answers the handful of calls the report client makes, with generations that move as
placement's do, and records every request so a test can show what the compute reported.
Anything it does not know is answered 404 and recorded in `unknown`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/placement"
# what placement 2024.x advertises; nova 34.0.0 asks for at most 1.39
VERSIONS = {
    "versions": [
        {
            "id": "v1.0",
            "max_version": "1.39",
            "min_version": "1.0",
            "status": "CURRENT",
            "links": [{"rel": "self", "href": ""}],
        }
    ]
}
_PROVIDER_PART = re.compile(r"^/resource_providers/([0-9a-f-]{36})(?:/([a-z_]+))?$")


@dataclass
class Provider:
    uuid: str
    name: str
    parent: str | None = None
    generation: int = 0
    parts: dict[str, Any] = field(
        default_factory=lambda: {"inventories": {}, "traits": [], "aggregates": []}
    )

    def view(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "name": self.name,
            "generation": self.generation,
            "parent_provider_uuid": self.parent,
            "root_provider_uuid": self.parent or self.uuid,
            "links": [],
        }


@dataclass
class Consumer:
    """A consumer's allocations ({provider uuid: {"resources": {...}}}) and generation."""

    allocations: dict[str, Any]
    project_id: str
    user_id: str
    generation: int = 1


@dataclass
class PlacementState:
    providers: dict[str, Provider] = field(default_factory=dict)
    consumers: dict[str, Consumer] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # the headers of each request, in the order of `requests`
    headers: list[dict[str, str]] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)  # likewise, their JSON bodies (or None)
    unknown: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # consumers another writer changes right after each GET of their allocations
    racing: set[str] = field(default_factory=set)
    delay: float = 0.0  # seconds each answer waits (a slow placement)
    failing: int | None = None  # answer every request with this status (a broken placement)
    # providers whose inventory is used up: a claim naming one is refused, as placement
    # refuses an allocation beyond capacity
    full: set[str] = field(default_factory=set)
    # the next this many PUTs of allocations lose a race on a provider's generation inside
    # placement (409 placement.concurrent_update, not the consumer's)
    provider_races: int = 0


class _Handler(BaseHTTPRequestHandler):
    state: PlacementState  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test reads `requests`, not stderr

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        url = urlsplit(self.path)
        path = url.path.removeprefix(PREFIX) or "/"
        with self.state.lock:
            self.state.requests.append((method, url.path))
            self.state.headers.append({k.lower(): v for k, v in self.headers.items()})
            self.state.bodies.append(body)
            if self.state.failing:
                status, answer = self.state.failing, {"errors": [{"title": "broken"}]}
            else:
                status, answer = self._route(method, path, parse_qs(url.query), body)
            if status == 404:
                self.state.unknown.append((method, self.path))
        if self.state.delay:
            time.sleep(self.state.delay)
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("openstack-request-id", "req-fake-placement")
        self.end_headers()
        self.wfile.write(payload)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        providers = self.state.providers
        if path == "/" and method == "GET":
            return 200, VERSIONS
        if path == "/resource_providers" and method == "GET":
            wanted = query.get("in_tree", []) + query.get("name", [])
            found = [p for p in providers.values() if {p.uuid, p.name, p.parent} & set(wanted)]
            if "member_of" in query:
                found = []  # no aggregates, so no sharing providers
            return 200, {"resource_providers": [p.view() for p in found]}
        if path == "/resource_providers" and method == "POST":
            made = Provider(body["uuid"], body["name"], body.get("parent_provider_uuid"))
            providers[made.uuid] = made
            return 200, made.view()
        if path == "/traits" and method == "GET":
            names = query.get("name", ["in:"])[0].removeprefix("in:")
            return 200, {"traits": [n for n in names.split(",") if n]}
        if path.startswith("/traits/") and method == "PUT":
            return 201, None
        if path.startswith("/allocations/"):
            return self._allocations(method, path.removeprefix("/allocations/"), body)
        matched = _PROVIDER_PART.match(path)
        if matched is None or matched.group(1) not in providers:
            return 404, {"errors": [{"status": 404, "title": "Not Found"}]}
        provider, part = providers[matched.group(1)], matched.group(2)
        if part is None and method == "GET":
            return 200, provider.view()
        if part is None and method == "DELETE":
            del providers[provider.uuid]
            return 204, None
        if part == "allocations" and method == "GET":
            return 200, {"allocations": {}, "resource_provider_generation": provider.generation}
        if part in provider.parts and method == "GET":
            return 200, {part: provider.parts[part], **self._generation(provider)}
        if part in provider.parts and method == "PUT":
            if body.get("resource_provider_generation") != provider.generation:
                return 409, {"errors": [{"status": 409, "code": "placement.concurrent_update"}]}
            provider.parts[part] = body[part]
            provider.generation += 1
            return 200, {part: body[part], **self._generation(provider)}
        return 404, {"errors": [{"status": 404, "title": "Not Found"}]}

    def _microversion(self) -> tuple[int, int]:
        wanted = self.headers.get("OpenStack-API-Version", "placement 1.0").split()[-1]
        major, minor = wanted.split(".")
        return int(major), int(minor)

    def _allocations(self, method: str, consumer_uuid: str, body: Any) -> tuple[int, Any]:
        """GET, PUT and DELETE /allocations/{consumer} as placement answers them: an
        unknown consumer reads as empty; from 1.28 with its consumer generation, which a
        PUT must name (None for a new consumer), else 409 placement.concurrent_update."""
        consumers = self.state.consumers
        consumer = consumers.get(consumer_uuid)
        generations = self._microversion() >= (1, 28)
        if method == "GET":
            answer: dict[str, Any] = {"allocations": consumer.allocations if consumer else {}}
            if consumer is not None and self._microversion() >= (1, 12):
                answer.update(project_id=consumer.project_id, user_id=consumer.user_id)
            if consumer is not None and generations:
                answer["consumer_generation"] = consumer.generation
            if consumer is not None and consumer_uuid in self.state.racing:
                consumer.generation += 1
            return 200, answer
        if method == "DELETE":
            if consumer is None:
                return 404, {"errors": [{"status": 404, "title": "Not Found"}]}
            del consumers[consumer_uuid]
            return 204, None
        if method == "PUT" and set(body.get("allocations") or {}) & self.state.full:
            return 409, {"errors": [{"status": 409, "code": "placement.undefined_code",
                                     "title": "Conflict",
                                     "detail": "Unable to allocate inventory: full"}]}  # fmt: skip
        if method == "PUT" and self.state.provider_races:
            self.state.provider_races -= 1
            race = "resource provider generation conflict"
            return 409, {"errors": [{"status": 409, "code": "placement.concurrent_update",
                                     "detail": race}]}  # fmt: skip
        if method == "PUT":
            if generations:
                current = consumer.generation if consumer else None
                if body.get("consumer_generation") != current:
                    detail = f"consumer generation conflict - expected {current}"
                    return 409, {"errors": [{"status": 409, "code": "placement.concurrent_update",
                                             "detail": detail}]}  # fmt: skip
            if not body["allocations"]:
                consumers.pop(consumer_uuid, None)  # no allocations left: the consumer goes
            elif consumer is None:
                consumers[consumer_uuid] = Consumer(
                    body["allocations"], body["project_id"], body["user_id"]
                )
            else:
                consumer.allocations = body["allocations"]
                consumer.generation += 1
            return 204, None
        return 404, {"errors": [{"status": 404, "title": "Not Found"}]}

    @staticmethod
    def _generation(provider: Provider) -> dict[str, int]:
        return {"resource_provider_generation": provider.generation}


@contextmanager
def fake_placement() -> Iterator[tuple[str, PlacementState]]:
    """A placement endpoint on loopback: (its URL, its state)."""
    state = PlacementState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-placement", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
