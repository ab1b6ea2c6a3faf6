"""A failed build's compute_task notifications, against nova's own set_vm_state_and_notify.

nova (legacy/compute_task_error.py) meets the failure where nova-conductor meets it (the
scheduler's NoValidHost over a real RPC, HostMappingNotFound from the API database,
populate_retry's MaxRetriesExceeded) and runs `scheduler_utils.set_vm_state_and_notify` in
its `except` block with its real notifier; we send the same failure through
`notify_compute_task_error` with our Notifier, from the legacy spec and the
`RequestSpec.from_primitives` spec nova made. Every message on the notification queues must
be equal field by field, properties included, except ids and timestamps (by form) and the
traceback text (by form: its header, and its last line naming the exception).
"""

from __future__ import annotations

import asyncio
import copy
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aioconductor.boot.legacy_filters import MaxRetriesExceeded
from aioconductor.boot.legacy_spec import legacy_request_spec, spec_from_legacy
from aioconductor.boot.rpc_wire import RemoteCallError
from aioconductor.config.settings import load_settings
from aioconductor.context import RequestContext
from aioconductor.errors import HostMappingNotFound
from aioconductor.messaging.amqp.connection import Connection
from aioconductor.messaging.connection import robust_connection
from aioconductor.notifications.compute_task_error import notify_compute_task_error
from aioconductor.notifications.notifier import Notifier
from tests.compat.notification_logs import assert_same_lines, capturing, nova_lines
from tests.compat.notification_queues import by_shape, collect
from tests.compat.nova_processes import (
    api_database_conf,
    free_port,
    nova_api_database,
    nova_conf,
    run_nova_script,
)
from tests.compat.scenario.pair import diff

pytestmark = [pytest.mark.connected, pytest.mark.compat]

_TB_HEAD = "Traceback (most recent call last):\n,"


@pytest.fixture(scope="module")
def api_db() -> Iterator[str]:
    with nova_api_database("cte_api") as name:
        yield name


@pytest.fixture(scope="module")
def other_vhost() -> Iterator[str]:
    """A virtual host of its own for notifications (amqp:// URL)."""
    name = f"aioc_cte_{uuid.uuid4().hex[:8]}"
    for args in (["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]):
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    finally:
        subprocess.run(
            ["rabbitmqctl", "-q", "delete_vhost", name], check=False, capture_output=True
        )


def _conf(fmt: str, drivers: list[str], topics: dict[str, list[str]], url: str | None) -> str:
    lines = ["[notifications]", f"notification_format = {fmt}"]
    lines.append("versioned_notifications_topics = " + ",".join(topics["versioned"]))
    lines.append("[oslo_messaging_notifications]")
    lines += [f"driver = {d}" for d in drivers]
    lines.append("topics = " + ",".join(topics["legacy"]))
    if url:
        lines.append(f"transport_url = {url.replace('amqp://', 'rabbit://')}")
    lines += ["[aioconductor]", f"metrics_bind = 127.0.0.1:{free_port()}"]
    return "\n".join(lines) + "\n"


def _our_exception(failure: str, told: dict[str, Any]) -> BaseException:
    """The failure as our boot holds it, raised so it carries a traceback."""
    exc: BaseException
    if failure == "no_valid_host":
        exc = RemoteCallError(
            told["class"], told["module"], told["message"], told["kwargs"], told["tb"],
            told["args"],
        )  # fmt: skip
    elif failure == "host_mapping":
        exc = HostMappingNotFound(name=told["kwargs"]["name"])
    else:
        exc = MaxRetriesExceeded(reason=told["kwargs"]["reason"])
    try:
        raise exc
    except BaseException as raised:
        return raised


async def _send_ours(conf: Path, answer: dict[str, Any], exc: BaseException) -> None:
    settings = load_settings([conf])

    async def nothing(_: Connection) -> None:
        return None

    connection = robust_connection(settings, nothing)
    await connection.start()
    notifier = Notifier(settings)
    await notifier.start(connection)
    try:
        await notify_compute_task_error(
            notifier,
            RequestContext.from_wire(copy.deepcopy(answer["context"])),
            answer["instance_uuid"],
            "build_instances",
            _reversed(answer["legacy_spec"]),
            _reversed(answer["request_spec"]),
            "error",
            exc,
        )
    finally:
        await notifier.stop()
        await connection.close()


def _reversed(value: Any, *, plain: bool = True) -> Any:
    """The dicts nova fills field by field, keys in the reverse order (the legacy spec, its
    image, the image's properties, its instance properties, every object's fields): what
    nova writes must not depend on the order the caller built them in (the log driver's
    text shows it). A field's own dict (extra specs, hints) keeps its order, as it came."""
    if isinstance(value, list):
        return [_reversed(v, plain=False) for v in value]
    if not isinstance(value, dict):
        return value
    if "nova_object.data" in value:
        fields = value["nova_object.data"]
        data = {k: _reversed(v, plain=False) for k, v in reversed(fields.items())}
        return {**value, "nova_object.data": data}
    if not plain:
        return value
    return {k: _reversed(v) for k, v in reversed(value.items())}


def _comparable(message: dict[str, Any]) -> dict[str, Any]:
    return _normalized(by_shape(message))


def _normalized(shaped: dict[str, Any]) -> dict[str, Any]:
    payload = shaped["body"]["payload"]
    data = payload.get("nova_object.data") if isinstance(payload, dict) else None
    if isinstance(data, dict) and isinstance(data.get("reason"), dict):
        reason = data["reason"]["nova_object.data"]
        text, said = reason["traceback"], reason["exception_message"]
        named = text[: -len(said) - 1].rsplit(",", 1)[-1] if text.endswith(said + "\n") else None
        reason["traceback"] = (text.startswith(_TB_HEAD), named)
    elif isinstance(payload, dict) and "request_spec" in payload:
        for where in (payload["request_spec"].get("instance_properties"), payload.get(
            "instance_properties")):  # fmt: skip
            pci = (where or {}).get("pci_requests")
            if isinstance(pci, dict) and "_changed_fields" in pci:  # a set in nova
                pci["_changed_fields"] = sorted(pci["_changed_fields"])
    return shaped


CASES = {
    # the scheduler finds no host: both formats, the 2.0 envelope beside the log driver, two
    # versioned topics; the specs from nova's own conversion
    "no_valid_host-both-messagingv2-log": ("no_valid_host", "both", ["messagingv2", "log"], 2),
    # the same with the specs from boot.legacy_spec's conversion (what the boot will pass)
    "no_valid_host-ours-spec-both-log": ("no_valid_host", "both", ["messagingv2", "log"], 1),
    # the selected host has no cell: legacy only, the bare 1.0 body
    "host_mapping-unversioned-messaging": ("host_mapping", "unversioned", ["messaging"], 1),
    # a reschedule over the limit: versioned only, on a notification transport of its own
    "max_retries-versioned-other-vhost": ("max_retries", "versioned", ["messagingv2"], 1),
    # a NUMA topology in the spec (dict-compatible objects, sets, the cells' payloads)
    "no_valid_host-numa-both-messaging": ("no_valid_host", "both", ["messaging"], 1),
    "no_valid_host-numa-ours-spec-both-log": ("no_valid_host", "both", ["messaging", "log"], 1),
    # noop alone sends nothing
    "no_valid_host-both-noop": ("no_valid_host", "both", ["noop"], 1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_compute_task_error_notifications_match_nova(
    tmp_path: Path, api_db: str, case: str, request: pytest.FixtureRequest
) -> None:
    failure, fmt, drivers, n_versioned = CASES[case]
    url = request.getfixturevalue("other_vhost") if "other-vhost" in case else None
    tag = uuid.uuid4().hex[:8]
    versioned = [f"vn{n}_{tag}" for n in range(n_versioned)]
    topics = {"versioned": versioned, "legacy": [f"n_{tag}"]}
    queues = [f"{t}.error" for t in versioned + topics["legacy"]]
    extra = _conf(fmt, drivers, topics, url) + api_database_conf(api_db)
    exchange = f"aioc_cte_{tag}"
    conf = nova_conf(tmp_path / "nova.conf", exchange, "unused", extra)
    instance_uuid = str(uuid.uuid4())
    job = {
        "config_file": str(conf),
        "instance_uuid": instance_uuid,
        "failure": failure,
        "numa": "numa" in case,
        "context": {
            "user_id": "u-cte",
            "project_id": "p-cte",
            "roles": ["member", "reader"],
            "request_id": f"req-{uuid.uuid4()}",
        },
        "scheduler": {
            "conf": str(conf),
            "mode": "no_valid_host",
            "hosts": [],
            "record": str(tmp_path / "scheduler.jsonl"),
        },
    }
    job["log_file"] = str(tmp_path / "nova-log.jsonl")
    answer = run_nova_script("compute_task_error.py", job)
    answer["instance_uuid"] = instance_uuid
    if "ours-spec" in case:  # the dicts from our conversion of the conductor's spec, not nova's
        legacy = legacy_request_spec(answer["conductor_spec"])
        answer["legacy_spec"], answer["request_spec"] = legacy, spec_from_legacy(legacy, {})
    theirs = collect(queues, url=url)
    exc = _our_exception(failure, answer["exception"])
    with capturing() as lines:
        asyncio.run(_send_ours(conf, answer, exc))
    # the log driver: the same lines, or none on both sides
    assert_same_lines(lines, nova_lines(tmp_path / "nova-log.jsonl"), _normalized)
    assert bool(lines) == ("log" in drivers)
    ours = collect(queues, expect={q: len(m) for q, m in theirs.items()}, wait=10, url=url)
    for queue in queues:
        assert [m["body"]["event_type"] for m in ours[queue]] == [
            m["body"]["event_type"] for m in theirs[queue]
        ], queue
        for n, (mine, nova) in enumerate(zip(ours[queue], theirs[queue], strict=True)):
            have, want = _comparable(mine), _comparable(nova)
            assert have == want, (queue, n, diff(have, want))
    if "numa" in case:  # the topology really is in both payloads
        legacy = theirs[f"n_{tag}.error"][0]["body"]["payload"]["instance_properties"]
        assert legacy["numa_topology"]["cells"][0]["pcpuset"] == [0, 1]
        spec = theirs[f"vn0_{tag}.error"][0]["body"]["payload"]["nova_object.data"]
        numa = spec["request_spec"]["nova_object.data"]["numa_topology"]["nova_object.data"]
        assert numa["cells"][0]["nova_object.data"]["cpu_policy"] == "dedicated"
    # nova spoke where the settings say it does: neither side may go quiet where it speaks
    sending = "noop" not in drivers
    assert bool(theirs[f"n_{tag}.error"]) == (sending and fmt != "versioned")
    for topic in versioned:
        assert bool(theirs[f"{topic}.error"]) == (sending and fmt != "unversioned")
