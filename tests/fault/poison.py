"""Bad messages for the conductor topic: what a buggy or hostile client could publish.

Each is a cast (no reply queue) published straight to the `conductor` queue: deep nesting
(~10,000 levels, in the outer and in the inner JSON document), huge bodies, wrong types,
unknown object classes and methods, bad UTF-8, bodies that are not JSON at all. A conductor
must consume every one of them (ack or reject) and keep serving the good calls in between."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import aio_pika

DEPTH = 10_000


def _envelope(message: object) -> bytes:
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(message)}).encode()


def _call(method: str, args: object, context: object = None) -> dict[str, object]:
    ctx = context if context is not None else {"_context_user_id": "fuzz", "_context_roles": []}
    return {"method": method, "args": args, "version": "3.0", **ctx}  # type: ignore[dict-item]


def _deep_outer() -> bytes:
    return b'{"oslo.version": "2.0", "oslo.message": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"


def _deep_inner() -> bytes:
    inner = '{"method": "object_class_action_versions", "args": ' + "[" * DEPTH + "]" * DEPTH
    return json.dumps({"oslo.version": "2.0", "oslo.message": inner + "}"}).encode()


def _deep_args() -> bytes:
    # written out by hand: json.dumps itself cannot encode what it is meant to refuse
    nested = '{"a": [' * (DEPTH // 2) + "{}" + "]}" * (DEPTH // 2)
    inner = '{"method": "object_class_action_versions", "args": {"objname": ' + nested + "}}"
    return json.dumps({"oslo.version": "2.0", "oslo.message": inner}).encode()


def _huge() -> bytes:
    return _envelope(
        _call("object_class_action_versions", {"objname": "Service", "objmethod": "x" * 3_000_000})
    )


def _objinst(name: str, method: str) -> bytes:
    obj = {
        "nova_object.name": name,
        "nova_object.namespace": "nova",
        "nova_object.version": "1.0",
        "nova_object.data": {},
    }
    return _envelope(
        _call("object_action", {"objinst": obj, "objmethod": method, "args": [], "kwargs": {}})
    )


POISONS: list[tuple[str, Callable[[], bytes]]] = [
    ("deep outer", _deep_outer),
    ("deep inner", _deep_inner),
    ("deep args", _deep_args),
    ("wrong type: args a list", lambda: _envelope(_call("object_class_action_versions", []))),
    ("wrong type: method a number", lambda: _envelope(_call(5, {}))),  # type: ignore[arg-type]
    ("wrong type: oslo.message a number", lambda: b'{"oslo.version": "2.0", "oslo.message": 7}'),
    ("wrong type: inner a list", lambda: _envelope([1, 2, 3])),
    (
        "wrong type: context a string",
        lambda: _envelope(
            {
                "method": "object_class_action_versions",
                "args": {},
                "_context_roles": "admin",
                "_context_user_id": 5,
            }
        ),
    ),
    ("unknown method", lambda: _envelope(_call("no_such_method", {}))),
    (
        "unknown class",
        lambda: _envelope(
            _call(
                "object_class_action_versions",
                {
                    "objname": "NoSuchObject",
                    "objmethod": "get",
                    "object_versions": {},
                    "args": [],
                    "kwargs": {},
                },
            )
        ),
    ),
    ("unknown objinst class", lambda: _objinst("NoSuchObject", "save")),
    ("known class, unknown method", lambda: _objinst("Service", "explode")),
    ("bad UTF-8", lambda: b'{"oslo.version": "2.0", "oslo.message": "\xff\xfe\xc3\x28"}'),
    ("bad UTF-8 raw", lambda: b"\xff\xfe\xfd\x80\x81"),
    ("not JSON", lambda: b"this is not json {"),
    ("empty body", lambda: b""),
    ("JSON null", lambda: b"null"),
    (
        "lone surrogate",
        lambda: _envelope(_call("object_class_action_versions", {"objname": "\ud800"})),
    ),
    ("no oslo.version", lambda: json.dumps({"method": "x", "args": {}}).encode()),
    (
        "future oslo.version",
        lambda: json.dumps({"oslo.version": "9.0", "oslo.message": "{}"}).encode(),
    ),
]


def poison_bodies(count: int) -> list[tuple[str, bytes]]:
    """`count` bad bodies cycling through every kind (the huge one at most 1 in 50)."""
    bodies: list[tuple[str, bytes]] = []
    cache: dict[str, bytes] = {}
    kinds = [k for k in POISONS if k[0] != "huge"]
    for number in range(count):
        name, make = ("huge", _huge) if number % 50 == 49 else kinds[number % len(kinds)]
        if name not in cache:
            cache[name] = make()
        bodies.append((name, cache[name]))
    return bodies


async def publish(url: str, bodies: list[tuple[str, bytes]], seconds: float) -> None:
    """Publish to the `conductor` queue, spread over `seconds`."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=False)
        pause = seconds / max(1, len(bodies))
        for _name, body in bodies:
            await channel.default_exchange.publish(
                aio_pika.Message(body, content_type="application/json", content_encoding="utf-8"),
                routing_key="conductor",
            )
            await asyncio.sleep(pause)


def publish_poison(url: str, count: int, seconds: float) -> None:
    asyncio.run(publish(url, poison_bodies(count), seconds))
