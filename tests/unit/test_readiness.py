"""/readyz says what a worker can actually do: each reason it cannot take calls, in words."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from aioconductor.config.settings import load_settings
from aioconductor.messaging.dispatcher import Dispatcher
from aioconductor.messaging.server import RpcServer
from aioconductor.observability.http import BOOT_TIMEOUT, HealthReport, WorkerView


@dataclass
class FakeLink:
    """The AMQP connection as the readiness check reads it."""

    heartbeat: int = 10
    publishing_blocked: str | None = None
    seconds_since_data: float = 0.5


@pytest.fixture
def server() -> RpcServer:
    env = {
        "AIOCONDUCTOR_PREFETCH_COUNT": "4",
        "AIOCONDUCTOR_DEFAULT__RPC_RESPONSE_TIMEOUT": "60",
    }
    server = RpcServer(load_settings([], env=env), Dispatcher([]))
    server.status.connected = server.status.consuming = True
    server._link = FakeLink()  # type: ignore[assignment]
    return server


def test_a_healthy_server_has_nothing_to_report(server: RpcServer) -> None:
    assert server.problems() == []


def test_a_blocked_broker_is_reported_with_its_reason(server: RpcServer) -> None:
    server._link.publishing_blocked = "low on memory"  # type: ignore[union-attr]
    assert server.problems() == ["broker blocked: low on memory"]


def test_a_link_quiet_for_more_than_one_heartbeat_is_reported(server: RpcServer) -> None:
    server._link.seconds_since_data = 9.5  # type: ignore[union-attr]
    assert server.problems() == []  # RabbitMQ sends one every 5 s: one may be late
    server._link.seconds_since_data = 12.2  # type: ignore[union-attr]
    assert server.problems() == ["link quiet for 12 s (heartbeat 10 s)"]


def test_slots_all_busy_with_none_finishing_are_reported(server: RpcServer) -> None:
    assert server.settings.prefetch_count == 4
    for _ in range(4):
        server._enter()
    assert server.problems() == []  # busy is fine ...
    server._saturated_since -= 61
    assert server.problems() == ["all 4 slots busy for 61 s, none finishing"]  # ... stuck is not
    server._leave()
    assert server.problems() == []


def test_a_lost_connection_is_reported(server: RpcServer) -> None:
    server.status.connected = False
    assert server.problems() == ["not connected to RabbitMQ"]


def view(**changes: object) -> WorkerView:
    fields: dict[str, object] = {
        "pid": 1,
        "heartbeat_age": 0.5,
        "connected": True,
        "consuming": True,
        "in_flight": 0,
        "served": 10,
        "db_ok": True,
    }
    return WorkerView(**(fields | changes))  # type: ignore[arg-type]


def test_readyz_lists_every_reason_per_worker() -> None:
    report = HealthReport(
        [
            view(),
            view(pid=2, not_ready=("broker blocked: low on disk",)),
            view(pid=3, heartbeat_age=31),
        ],
        expected=4,
        heartbeat_timeout=30,
    )
    assert not report.alive
    assert not report.ready
    body = json.loads(report.to_json())
    assert body["not_ready"] == ["1 worker(s) missing"]
    assert [w["not_ready"] for w in body["workers"]] == [
        [],
        ["broker blocked: low on disk"],
        ["no heartbeat for 31 s (event loop blocked?)"],
    ]


def test_a_starting_worker_is_alive_but_not_ready() -> None:
    starting = view(heartbeat_age=BOOT_TIMEOUT - 1, booting=True, not_ready=("starting",))
    report = HealthReport([starting], expected=1, heartbeat_timeout=3)
    assert report.alive
    assert not report.ready
    late = view(heartbeat_age=BOOT_TIMEOUT + 1, booting=True, not_ready=("starting",))
    assert not HealthReport([late], expected=1, heartbeat_timeout=3).alive
