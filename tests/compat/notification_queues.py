"""Collect what nova and aioconductor publish as notifications, and compare it by shape.

Both sides declare oslo's default queue `<topic>.<priority>` on the control exchange before
they publish, so a test that gives each run topics of its own reads every message there.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterable
from typing import Any

import aio_pika

from tests import rabbit

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# values unique per run: compared by their form
SHAPES: dict[str, str] = {
    "message_id": _UUID,
    "_unique_id": r"[0-9a-f]{32}",
    "timestamp": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?",
    "_context_timestamp": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}",
    "_context_request_id": f"req-{_UUID}",
}
# the forms nova writes a time in: a DateTime field, strtime, str() of an aware datetime
_TIME_FORMS = {
    "datetime-field": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
    "strtime": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}",
    "str-aware": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00",
}
_ANY_TIME = "|".join(f"(?P<{name.replace('-', '_')}>{p})" for name, p in _TIME_FORMS.items())
# payload fields unique per run (nova_object.data of a versioned payload, or a legacy one)
_TIMES = ("last_seen_up", "audit_period_beginning", "audit_period_ending", "created_at",
          "updated_at", "launched_at", "terminated_at", "deleted_at")  # fmt: skip
PAYLOAD_SHAPES: dict[str, str] = {"uuid": _UUID, **dict.fromkeys(_TIMES, _ANY_TIME)}


def collect(
    queues: Iterable[str],
    *,
    expect: dict[str, int] | None = None,
    wait: float = 0.0,
    url: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Every message on each queue (waiting up to `wait` s for `expect` counts, then a
    moment more for surplus ones), decoded; the queues are deleted afterwards. `url`: the
    broker and vhost (amqp://), by default the test session's."""
    names = list(queues)
    if not names:
        return {}
    return asyncio.run(_collect(names, expect or {}, wait, url or rabbit.url("amqp")))


async def _collect(
    queues: list[str], expect: dict[str, int], wait: float, url: str
) -> dict[str, list[dict[str, Any]]]:
    connection = await aio_pika.connect(url)
    found: dict[str, list[dict[str, Any]]] = {q: [] for q in queues}
    try:
        channel = await connection.channel()
        deadline = time.monotonic() + wait
        settle_until: float | None = None
        while True:
            for name in queues:
                try:
                    queue = await channel.get_queue(name, ensure=True)
                except aio_pika.exceptions.ChannelClosed:
                    channel = await connection.channel()
                    continue
                while (message := await queue.get(fail=False, no_ack=True)) is not None:
                    found[name].append(_decoded(message))
            done = all(len(found[q]) >= n for q, n in expect.items())
            now = time.monotonic()
            if done and settle_until is None:
                settle_until = now + (0.5 if wait else 0.0)
            if now >= deadline or (settle_until is not None and now >= settle_until):
                break
            await asyncio.sleep(0.1)
        for name in queues:
            try:
                await channel.queue_delete(name)
            except aio_pika.exceptions.ChannelClosed:
                channel = await connection.channel()
    finally:
        await connection.close()
    return found


def _decoded(message: Any) -> dict[str, Any]:
    body = json.loads(message.body)
    envelope = None
    if "oslo.message" in body:
        envelope = sorted(body)
        body = json.loads(body["oslo.message"])
    return {
        "envelope": envelope,
        "body": body,
        "properties": {
            "content_type": message.content_type,
            "content_encoding": message.content_encoding,
            "delivery_mode": int(message.delivery_mode) if message.delivery_mode else None,
            "priority": message.priority,
            "routing_key": message.routing_key,
            "exchange": message.exchange,
        },
    }


def by_shape(message: dict[str, Any]) -> dict[str, Any]:
    """The message with every per-run value replaced by whether it has the expected form."""
    body = dict(message["body"])
    for key, pattern in SHAPES.items():
        if key in body:
            body[key] = _shape(body[key], pattern)
    body["payload"] = _payload_by_shape(body.get("payload"))
    return {**message, "body": body}


def _payload_by_shape(payload: Any) -> Any:
    if not isinstance(payload, dict):
        return payload
    data = payload.get("nova_object.data")
    if isinstance(data, dict):
        return {**payload, "nova_object.data": _payload_by_shape(data)}
    return {
        k: _shape(v, PAYLOAD_SHAPES[k]) if k in PAYLOAD_SHAPES else _payload_by_shape(v)
        for k, v in payload.items()
    }


def _shape(value: Any, pattern: str) -> Any:
    if value is None or value == "":
        return value
    match = re.fullmatch(pattern, str(value))
    if match is None:
        return f"<bad form: {value!r}>"
    form = next((name for name, text in match.groupdict().items() if text is not None), None)
    return f"<{form or pattern}>"
