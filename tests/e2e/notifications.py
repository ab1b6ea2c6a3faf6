"""The notification stream of an end-to-end run, per server, and its comparison between runs.

Every nova service (and aioconductor) publishes to the run's own vhost, on oslo's default
notification queues: `notifications.<priority>` (the legacy format) and
`versioned_notifications.<priority>`. A message belongs to a server when its payload names the
server's id anywhere. Two runs compare equal per server (matched by name) when the event
types come in the same order in each format and the payloads are equal, modulo what differs
by construction: ids (a server's id becomes its name, any other UUID `<uuid>`; reservation
ids; instance names, numbered by row id), timestamps, the compute a server landed on, and the
conductor's host (a legacy nova-conductor beside aioconductor has a host of its own).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika

from tests.e2e import confs
from tests.e2e.scenario import ServerRecord

TOPICS = {"legacy": "notifications", "versioned": "versioned_notifications"}
PRIORITIES = ("audit", "debug", "info", "warn", "error", "critical", "sample")
# what the last notification of a deleted server is, per format
LAST_EVENT = {"legacy": "compute.instance.delete.end", "versioned": "instance.delete.end"}
SETTLE_SECONDS = 1.0

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
_COMPUTE_HOST = re.compile(confs.COMPUTE_HOSTS)
# a legacy nova-conductor beside an aioconductor: named after it
_LEGACY_HOST = re.compile(rf"({re.escape(confs.CONDUCTOR_HOST)}(?:-cell\d+)?)-legacy")
# which cell's conductor saved a server follows from which cell it landed in, which varies
_CELL_CONDUCTOR_HOST = re.compile(rf"{re.escape(confs.CONDUCTOR_HOST)}-cell\d+")
_RESERVATION = re.compile(r"^r-[0-9a-z]{8}$")  # nova's random reservation_id
_INSTANCE_NAME = re.compile(r"instance-[0-9a-f]{8}")  # from the row id: boot order
# lists of field names nova builds from a set: their order is the process's hash seed's
_NAME_SETS = ("_changed_fields", "nova_object.changes")
_TIME = re.compile(
    r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?(Z|\+00:00)?"  # every form nova writes
)


@dataclass(frozen=True)
class Notification:
    format: str  # legacy or versioned
    priority: str
    event_type: str
    publisher_id: str
    body: dict[str, Any]  # the oslo message, envelope removed


def collect(amqp_url: str, records: list[ServerRecord], wait: float = 20.0) -> list[Notification]:
    """Every notification the run published, in queue order per format; waits (up to
    `wait` s) until each deleted server's last notification is in, then a moment more."""
    return asyncio.run(_collect(amqp_url, records, wait))


async def _collect(amqp_url: str, records: list[ServerRecord], wait: float) -> list[Notification]:
    # a server deleted while still a build request never had an instance to notify about
    gone = [r.id for r in records if r.id and r.gone and r.boot_seconds is not None]
    found: list[Notification] = []
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        deadline = time.monotonic() + wait
        settle_until: float | None = None
        while True:
            for form, topic in TOPICS.items():
                for priority in PRIORITIES:
                    channel = await _drain(channel, connection, form, topic, priority, found)
            now = time.monotonic()
            if settle_until is None and _all_ended(found, gone):
                settle_until = now + SETTLE_SECONDS
            if now > deadline or (settle_until is not None and now > settle_until):
                return found
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


async def _drain(
    channel: Any,
    connection: Any,
    form: str,
    topic: str,
    priority: str,
    found: list[Notification],
) -> Any:
    try:
        queue = await channel.get_queue(f"{topic}.{priority}", ensure=True)
    except aio_pika.exceptions.ChannelClosed:  # nobody published at this priority
        return await connection.channel()
    while (message := await queue.get(fail=False, no_ack=True)) is not None:
        body = json.loads(message.body)
        if "oslo.message" in body:
            body = json.loads(body["oslo.message"])
        found.append(Notification(form, priority, body["event_type"], body["publisher_id"], body))
    return channel


def _all_ended(found: list[Notification], servers: list[str]) -> bool:
    for form, last in LAST_EVENT.items():
        done = {
            i
            for n in found
            if n.format == form and n.event_type == last
            for i in _server_ids(n.body, servers)
        }
        if not set(servers) <= done:
            return False
    return True


def _server_ids(body: dict[str, Any], servers: list[str]) -> frozenset[str]:
    text = json.dumps(body.get("payload"))
    return frozenset(s for s in servers if s in text)


@dataclass(frozen=True)
class Stream:
    """One server's notifications in one format, normalised."""

    events: tuple[str, ...]
    messages: tuple[dict[str, Any], ...]


Streams = dict[tuple[str, str], Stream]  # (server name, format) -> stream


def save(found: list[Notification], path: Path) -> None:
    """Every notification of a run, one JSON object a line (kept with the logs)."""
    with path.open("w") as out:
        for n in found:
            out.write(json.dumps({"format": n.format, "priority": n.priority, **n.body}) + "\n")


def per_server(found: list[Notification], records: list[ServerRecord]) -> Streams:
    names = {r.id: r.name for r in records if r.id}
    streams: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for notification in found:
        for server_id in _server_ids(notification.body, list(names)):
            key = (names[server_id], notification.format)
            message = {
                "priority": notification.priority,
                **_normalised(notification.body, names),
            }
            streams.setdefault(key, []).append(message)
    return {
        key: Stream(tuple(m["event_type"] for m in messages), tuple(messages))
        for key, messages in streams.items()
    }


def unassigned_events(found: list[Notification], records: list[ServerRecord]) -> Counter[str]:
    """Event types of the notifications no server is named in (services, schedulers)."""
    ids = [r.id for r in records if r.id]
    return Counter(n.event_type for n in found if not _server_ids(n.body, ids))


def _normalised(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: sorted(v) if k in _NAME_SETS and isinstance(v, list) else _normalised(v, names)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_normalised(v, names) for v in value]
    if isinstance(value, str):
        return _normalised_text(value, names)
    return value


def _normalised_text(text: str, names: dict[str, str]) -> str:
    text = _LEGACY_HOST.sub(r"\1", text)
    text = _CELL_CONDUCTOR_HOST.sub(f"{confs.CONDUCTOR_HOST}-cell<n>", text)
    text = _COMPUTE_HOST.sub("e2e-compute-<n>", text)
    text = _UUID.sub(lambda m: f"<{names[m.group(0)]}>" if m.group(0) in names else "<uuid>", text)
    text = _TIME.sub("<time>", text)
    text = _INSTANCE_NAME.sub("instance-<id>", text)
    return "<id>" if _HEX_ID.match(text) or _RESERVATION.match(text) else text


@dataclass(frozen=True)
class Comparison:
    """`differences`: what one publisher sent differs (event types, their order, payloads);
    `interleaving`: each publisher sent the same, but the server's stream interleaves the
    publishers in another order."""

    differences: list[str]
    interleaving: list[str]


def compare(expected: Streams, actual: Streams) -> Comparison:
    """Two runs' streams, per server and format."""
    differences: list[str] = []
    interleaving: list[str] = []
    for key in sorted(set(expected) | set(actual)):
        name, form = key
        want, got = expected.get(key), actual.get(key)
        if want is None or got is None:
            side = "actual" if want is None else "expected"
            differences.append(f"{name} {form}: only in {side}")
            continue
        found = _publisher_differences(f"{name} {form}", want, got)
        differences += found
        if not found and want.events != got.events:
            interleaving.append(
                f"{name} {form}: publishers interleave differently\n"
                f"  expected {_labelled(want)}\n  actual   {_labelled(got)}"
            )
    return Comparison(differences, interleaving)


def _by_publisher(stream: Stream) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for message in stream.messages:
        grouped.setdefault(message["publisher_id"], []).append(message)
    return grouped


def _labelled(stream: Stream) -> list[str]:
    return [f"{m['event_type']} ({m['publisher_id']})" for m in stream.messages]


def _publisher_differences(where: str, want: Stream, got: Stream) -> list[str]:
    wanted, gotten = _by_publisher(want), _by_publisher(got)
    problems = []
    for publisher in sorted(set(wanted) | set(gotten)):
        a, b = wanted.get(publisher, []), gotten.get(publisher, [])
        events_a, events_b = [m["event_type"] for m in a], [m["event_type"] for m in b]
        if events_a != events_b:
            problems.append(
                f"{where} from {publisher}: event types differ\n  expected {events_a}\n"
                f"  actual   {events_b}"
            )
            continue
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            for path, left, right in _differences(x, y, ""):
                problems.append(
                    f"{where} from {publisher} #{index} {x['event_type']} {path}: "
                    f"expected {left!r}, actual {right!r}"[:600]
                )
    return problems


def _differences(a: Any, b: Any, path: str) -> list[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                found.append((f"{path}.{key}", a.get(key, "<missing>"), b.get(key, "<missing>")))
            else:
                found += _differences(a[key], b[key], f"{path}.{key}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [(path or ".", a, b)]
