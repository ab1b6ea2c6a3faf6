"""notify_compute_task_error's calls into the notifier (the payloads are proven against nova
in tests/compat/test_compute_task_error.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from aioconductor.config.settings import NotificationOptions
from aioconductor.context import RequestContext
from aioconductor.errors import HostMappingNotFound
from aioconductor.notifications.compute_task_error import notify_compute_task_error

CTX = RequestContext.from_wire({"user_id": "u1", "project_id": "p1", "request_id": "req-1"})
UUID = "a2222222-2222-4222-8222-222222222222"


@dataclass
class Recorder:
    legacy: bool = True
    versioned: bool = True
    options: NotificationOptions = field(default_factory=NotificationOptions)
    host: str = "cond-1"
    sent: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, ctx: RequestContext, **message: Any) -> None:
        self.sent.append(message)


def _failed() -> HostMappingNotFound:
    try:
        raise HostMappingNotFound(name="h9")
    except HostMappingNotFound as exc:
        return exc


def _send(notifier: Recorder, legacy_spec: Any = None, spec: Any = None) -> None:
    asyncio.run(
        notify_compute_task_error(
            notifier, CTX, UUID, "build_instances", legacy_spec, spec, "error", _failed()
        )
    )


@pytest.mark.parametrize(("legacy", "versioned"), [(True, True), (True, False), (False, True)])
def test_each_format_sends_its_message_legacy_first(legacy: bool, versioned: bool) -> None:
    notifier = Recorder(legacy=legacy, versioned=versioned)
    _send(notifier)
    expected = []
    if legacy:
        expected.append(("compute_task.cond-1", "compute_task.build_instances", False))
    if versioned:
        expected.append(("nova-conductor:cond-1", "compute_task.build_instances.error", True))
    assert [(m["publisher_id"], m["event_type"], m["versioned"]) for m in notifier.sent] == (
        expected
    )
    assert {m["priority"] for m in notifier.sent} == {"ERROR"}


def test_without_a_spec_nova_sends_empty_dicts_and_a_null_spec() -> None:
    notifier = Recorder()
    _send(notifier)
    legacy, versioned = (m["payload"] for m in notifier.sent)
    assert legacy == {
        "request_spec": {}, "instance_properties": {}, "instance_id": UUID, "state": "error",
        "method": "build_instances",
        "reason": "{'kwargs': {'name': 'h9', 'code': 400}, 'message': \"Host 'h9' is not "
                  "mapped to any cell\", 'class': 'HostMappingNotFound'}",
    }  # fmt: skip
    data = versioned["nova_object.data"]
    assert data["request_spec"] is None
    reason = data["reason"]["nova_object.data"]
    assert (reason["module_name"], reason["function_name"], reason["exception"]) == (
        "nova.objects.host_mapping", "_get_by_host_from_db", "HostMappingNotFound",
    )  # fmt: skip
    assert reason["traceback"].startswith("Traceback (most recent call last):\n,")
    assert reason["traceback"].endswith(
        ",nova.exception.HostMappingNotFound: Host 'h9' is not mapped to any cell\n"
    )


def test_a_payload_that_cannot_be_built_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = Recorder()
    _send(notifier, legacy_spec=["not", "a", "dict"])
    assert notifier.sent == []
    assert "Failed to send the compute_task.build_instances error notification" in caplog.text


def test_nothing_is_built_when_no_format_is_on() -> None:
    notifier = Recorder(legacy=False, versioned=False)
    _send(notifier)
    assert notifier.sent == []
