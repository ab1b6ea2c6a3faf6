"""Requests as oslo's client writes them, replies and failures as oslo's client reads them."""

from __future__ import annotations

import json

from aioconductor.boot.rpc_wire import RemoteCallError, decode_reply, encode_request
from aioconductor.messaging.envelope import encode_reply


def inner(body: bytes) -> dict[str, object]:
    outer = json.loads(body)
    assert list(outer) == ["oslo.version", "oslo.message"]
    assert outer["oslo.version"] == "2.0"
    return json.loads(outer["oslo.message"])  # type: ignore[no-any-return]


def test_a_call_has_oslos_keys_in_oslos_order() -> None:
    body = encode_request(
        "select_destinations",
        {"a": 1},
        {"user_id": "u", "is_admin": True},
        version="4.5",
        namespace=None,
        unique_id="uid",
        reply=("mid", "reply_q", 60),
    )
    assert list(inner(body).items()) == [
        ("method", "select_destinations"),
        ("args", {"a": 1}),
        ("version", "4.5"),
        ("_msg_id", "mid"),
        ("_reply_q", "reply_q"),
        ("_timeout", 60),
        ("_unique_id", "uid"),
        ("_context_user_id", "u"),
        ("_context_is_admin", True),
    ]


def test_a_cast_has_no_reply_keys_and_keeps_a_namespace() -> None:
    body = encode_request(
        "m", {}, {}, version="1.0", namespace="compute_task", unique_id="uid", reply=None
    )
    assert list(inner(body)) == ["method", "args", "namespace", "version", "_unique_id"]


def test_replies_of_our_server_decode() -> None:
    reply = decode_reply(encode_reply("mid", {"x": [1]}, None, ending=True))
    assert (reply.msg_id, reply.result, reply.failure, reply.ending) == (
        "mid",
        {"x": [1]},
        None,
        True,
    )
    heartbeat = decode_reply(encode_reply("mid", None, None, ending=False))
    assert heartbeat.ending is False
    assert heartbeat.unique_id is not None


def test_a_failure_keeps_class_module_kwargs_and_drops_the_remote_suffix() -> None:
    failure = json.dumps(
        {
            "class": "NoValidHost_Remote",
            "module": "nova.exception_Remote",
            "message": "No valid host was found. ",
            "tb": ["Traceback...\n", "nova.exception.NoValidHost: No valid host\n"],
            "args": ["No valid host was found. "],
            "kwargs": {"code": 500, "reason": ""},
        }
    )
    error = RemoteCallError.from_failure(failure)
    assert (error.exc_type, error.module) == ("NoValidHost", "nova.exception")
    assert error.kwargs == {"code": 500, "reason": ""}
    assert error.traceback[1].startswith("nova.exception.NoValidHost")
    assert str(error) == "nova.exception.NoValidHost: No valid host was found. "
