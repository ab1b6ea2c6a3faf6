"""The notifier's messages as oslo.messaging builds them, and its bounded queue."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from prometheus_client import REGISTRY

from aioconductor.config.settings import AioConductorOptions, NotificationOptions, Settings
from aioconductor.context import RequestContext
from aioconductor.notifications import wire
from aioconductor.notifications.notifier import Notifier

# What nova 34's RequestContext(...).to_dict() sends, and what its notifier makes of it
# (`from_dict(d).redacted_copy().to_dict()`), recorded from nova's own code.
CALLER = {
    "auth_token": "tok", "domain": None, "global_request_id": "greq", "is_admin": False,
    "is_admin_project": True, "project": "p1", "project_domain": None, "project_id": "p1",
    "project_name": "pn", "quota_class": None, "read_deleted": "yes", "read_only": False,
    "remote_address": "1.2.3.4", "request_id": "req-1", "resource_uuid": None,
    "roles": ["admin", "reader"], "service_catalog": [{"type": "volumev3", "x": 1}],
    "show_deleted": False, "system_scope": "all", "timestamp": "2026-12-05T23:00:03.335664",
    "user": "u1", "user_domain": "ud", "user_id": "u1", "user_identity": "u1 p1 - ud -",
    "user_name": "un",
}  # fmt: skip
REDACTED = {
    **CALLER,
    "auth_token": None, "read_deleted": "no", "remote_address": None, "service_catalog": [],
}  # fmt: skip


def test_the_context_is_nova_redacted_copy() -> None:
    got = wire.redacted_context(CALLER)
    assert got.pop("timestamp") != CALLER["timestamp"]  # a new context: a new timestamp
    assert got == {k: v for k, v in REDACTED.items() if k != "timestamp"}


def test_bodies_of_the_two_formats() -> None:
    message = wire.notification("nova-compute:h1", "service.create", "INFO", {"a": 1})
    assert sorted(message) == [
        "event_type", "message_id", "payload", "priority", "publisher_id", "timestamp",
    ]  # fmt: skip
    bare = json.loads(wire.amqp_body(message, {"user": "u"}, envelope=False))
    assert bare["_context_user"] == "u"
    assert len(bare["_unique_id"]) == 32
    assert bare["payload"] == {"a": 1}
    outer = json.loads(wire.amqp_body(message, {"user": "u"}, envelope=True))
    assert outer["oslo.version"] == "2.0"
    assert json.loads(outer["oslo.message"])["event_type"] == "service.create"


def _notifier(drivers: tuple[str, ...], queue_size: int = 3) -> Notifier:
    settings = Settings(
        notifications=NotificationOptions(drivers=drivers, notification_format="both"),
        aio=AioConductorOptions(notification_queue_size=queue_size),
    )
    return Notifier(settings)


def _dropped(reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "aioconductor_notifications_dropped_total", {"reason": reason}
    )
    return value or 0.0


def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    async def emit_many() -> Notifier:
        notifier = _notifier(("messagingv2", "messaging"), queue_size=3)
        for _ in range(5):  # never started: nothing leaves the queue
            notifier.emit(
                RequestContext.from_wire({}),
                publisher_id="p",
                event_type="service.update",
                payload={},
                versioned=True,
            )
        return notifier

    before = _dropped("queue_full")
    notifier = asyncio.run(emit_many())
    assert notifier.pending == 3
    assert _dropped("queue_full") - before == 7  # 5 notifications x 2 drivers - 3 queued


def test_the_log_driver_logs_on_oslo_logger(caplog: pytest.LogCaptureFixture) -> None:
    notifier = _notifier(("log",))
    with caplog.at_level(logging.INFO, "oslo.messaging.notification"):
        notifier.emit(
            RequestContext.from_wire({}),
            publisher_id="compute.h1",
            event_type="compute.instance.update",
            payload={"metadata": {"admin_password": "x"}, "state": "active"},
            versioned=False,
        )
    record = caplog.records[-1]
    assert record.name == "oslo.messaging.notification.compute.instance.update"
    logged = json.loads(record.getMessage())
    assert logged["payload"] == {"metadata": {"admin_password": "***"}, "state": "active"}
    assert notifier.pending == 0  # nothing for the broker


def test_a_disabled_format_sends_nothing() -> None:
    settings = Settings(
        notifications=NotificationOptions(drivers=("log",), notification_format="unversioned")
    )
    notifier = Notifier(settings)
    assert notifier.legacy
    assert not notifier.versioned


def test_a_payload_json_cannot_carry_is_dropped_not_raised() -> None:
    async def emit() -> Notifier:
        notifier = _notifier(("messagingv2",))
        notifier.emit(
            RequestContext.from_wire({}),
            publisher_id="p",
            event_type="service.update",
            payload={"x": object()},
            versioned=True,
        )
        return notifier

    before = _dropped("unbuildable")
    assert asyncio.run(emit()).pending == 0
    assert _dropped("unbuildable") - before == 1
