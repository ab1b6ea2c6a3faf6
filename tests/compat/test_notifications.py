"""Notifications of natively served methods, against nova's own code as the oracle.

The same Service calls run through nova's objects on a database (nova sends the
notifications itself, as nova-conductor would) and through nova's client to a real
`aioconductor serve`. A consumer on oslo's default notification queues collects what each
side publishes; every message must be equal field by field, properties included, except
message ids, timestamps, request ids and the service's uuid and last_seen_up, which are
compared by form.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compat.notification_logs import assert_same_lines, nova_lines, serve_lines
from tests.compat.notification_queues import by_shape, collect
from tests.compat.nova_processes import (
    aioconductor_serving,
    free_port,
    nova_conf,
    nova_database,
    run_nova_script,
)

pytestmark = [pytest.mark.connected, pytest.mark.compat]


@pytest.fixture(scope="module")
def databases() -> Iterator[tuple[str, str]]:
    # one pair for the module: each case registers a compute host of its own
    with nova_database("ntf_direct") as direct, nova_database("ntf_ours") as ours:
        yield direct, ours


def _notifying_conf(
    fmt: str, drivers: list[str], topics: dict[str, list[str]], url: str | None
) -> str:
    lines = ["[notifications]", f"notification_format = {fmt}"]
    lines.append("versioned_notifications_topics = " + ",".join(topics["versioned"]))
    lines.append("[oslo_messaging_notifications]")
    lines += [f"driver = {d}" for d in drivers]
    lines.append("topics = " + ",".join(topics["legacy"]))
    if url:
        lines.append(f"transport_url = {url.replace('amqp://', 'rabbit://')}")
    # a port of its own: other conductors may run on this machine
    lines += ["[aioconductor]", f"metrics_bind = 127.0.0.1:{free_port()}"]
    return "\n".join(lines) + "\n"


def _run_both(
    tmp_path: Path, databases: tuple[str, str], extra: str, queues: list[str], url: str | None
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    exchange = f"aioc_ntf_{uuid.uuid4().hex[:8]}"
    host = f"compute-{uuid.uuid4().hex[:6]}"
    direct_db, our_db = databases
    direct_conf = nova_conf(tmp_path / "direct.conf", exchange, direct_db, extra)
    lines = tmp_path / "direct-notification-log.jsonl"
    direct = {"mode": "direct", "config_file": str(direct_conf), "host": host}
    run_nova_script("notify_service.py", {**direct, "log_file": str(lines)})
    theirs = collect(queues, url=url)
    our_conf = nova_conf(tmp_path / "ours.conf", exchange, our_db, extra)
    with aioconductor_serving(our_conf, tmp_path / "ours.log"):
        run_nova_script(
            "notify_service.py", {"mode": "indirect", "config_file": str(our_conf), "host": host}
        )
        ours = collect(queues, expect={q: len(m) for q, m in theirs.items()}, wait=15, url=url)
    # the log driver: the same lines as nova's (the service's own create/update included)
    logged = serve_lines((tmp_path / "ours.log").read_text())
    assert_same_lines(_services_only(logged, host), _services_only(nova_lines(lines), host))
    assert bool(_services_only(logged, host)) == ("driver = log" in extra)
    return theirs, ours


def _services_only(lines: list[dict[str, str]], host: str) -> list[dict[str, str]]:
    """The log lines about the test's compute service (our worker logs its own too)."""
    return [x for x in lines if f'"host": "{host}"' in x["message"]]


def _assert_same(
    theirs: dict[str, list[dict[str, Any]]], ours: dict[str, list[dict[str, Any]]]
) -> None:
    for queue, expected in theirs.items():
        got = ours[queue]
        assert len(got) == len(expected), (queue, [m["body"]["event_type"] for m in got])
        for n, (mine, nova) in enumerate(zip(got, expected, strict=True)):
            assert by_shape(mine) == by_shape(nova), f"{queue} message {n}"


CASES = {
    # the configuration of the silent gap: versioned, through the 2.0 envelope
    "versioned-messagingv2": ("versioned", ["messagingv2"]),
    # two drivers and two versioned topics at once: every message on every queue, twice, in
    # oslo's driver order (its entry points'), not nova.conf's
    "both-messaging-and-v2": ("both", ["messagingv2", "messaging"]),
    # nova's default format sends no versioned notification: neither may we
    "unversioned-messagingv2": ("unversioned", ["messagingv2"]),
    # noop next to a real driver is ignored; log sends to a logger, not the broker
    "versioned-v2-noop-log": ("versioned", ["messagingv2", "noop", "log"]),
    # [oslo_messaging_notifications] transport_url: another vhost, a second connection
    "versioned-messaging-other-vhost": ("versioned", ["messaging"]),
}


@pytest.fixture(scope="module")
def other_vhost() -> Iterator[str]:
    """A virtual host of its own for notifications (amqp:// URL)."""
    name = f"aioc_ntf_{uuid.uuid4().hex[:8]}"
    for args in (["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]):
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    finally:
        delete = ["rabbitmqctl", "-q", "delete_vhost", name]
        subprocess.run(delete, check=False, capture_output=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_service_notifications_match_nova(
    tmp_path: Path, databases: tuple[str, str], case: str, request: pytest.FixtureRequest
) -> None:
    fmt, drivers = CASES[case]
    url = request.getfixturevalue("other_vhost") if "other-vhost" in case else None
    tag = uuid.uuid4().hex[:8]
    versioned_topics = [f"vn_{tag}", f"vn2_{tag}"] if fmt == "both" else [f"vn_{tag}"]
    topics = {"versioned": versioned_topics, "legacy": [f"n_{tag}"]}
    queues = [f"{t}.info" for t in versioned_topics + topics["legacy"]]
    conf = _notifying_conf(fmt, drivers, topics, url)
    theirs, ours = _run_both(tmp_path, databases, conf, queues, url)
    _assert_same(theirs, ours)
    sent = [m["body"]["event_type"] for q in versioned_topics for m in theirs[f"{q}.info"]]
    if fmt == "unversioned":
        assert sent == []
    else:
        per_driver = ["service.create", "service.update", "service.update", "service.update",
                      "service.update"]  # fmt: skip
        amqp_drivers = len([d for d in drivers if d.startswith("messaging")])
        assert sorted(sent) == sorted(per_driver * amqp_drivers * len(versioned_topics))
