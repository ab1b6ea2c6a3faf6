"""Requests decoded and replies encoded exactly as oslo.messaging 18.x does (captured traffic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aioconductor.errors import NoSuchMethod, ServiceNotFound, UnsupportedVersion
from aioconductor.messaging.envelope import BadMessage, decode_request, encode_reply
from aioconductor.messaging.failures import failure_dict

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "spec" / "vectors"
MAX = 1 << 20


def captured(name: str) -> list[dict[str, Any]]:
    path = VECTORS / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    data: list[dict[str, Any]] = json.loads(path.read_text())
    return data


def wrap(inner: dict[str, Any]) -> bytes:
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()


def test_decodes_every_captured_nova_request() -> None:
    requests = [
        e
        for e in captured("nova-conductor-objects-capture.json")
        if e.get("op") == "publish" and e.get("exchange") == "nova"
    ]
    assert requests
    for entry in requests:
        inner = entry["inner"]
        req = decode_request(wrap(inner), MAX)
        assert req.method == inner["method"]
        assert req.args == inner["args"]
        assert req.version == inner.get("version", "1.0")
        assert req.msg_id == inner.get("_msg_id")
        assert req.context.is_admin is inner["_context_is_admin"]
        assert req.context.request_id == inner["_context_request_id"]


def test_legacy_unwrapped_message_and_default_version() -> None:
    req = decode_request(json.dumps({"method": "ping", "args": {"arg": 1}}).encode(), MAX)
    assert (req.method, req.version, req.namespace, req.wants_reply) == ("ping", "1.0", None, False)


@pytest.mark.parametrize(
    "body",
    [
        # a lone surrogate escape: valid JSON to Python's json (and so to oslo), not to every parser
        wrap({"method": "ping", "args": {"arg": "\ud800"}}),
        # json.loads also reads UTF-16 and UTF-32 documents
        json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps({"method": "ping"})}).encode(
            "utf-16"
        ),
    ],
    ids=["lone-surrogate", "utf-16"],
)
def test_whatever_oslo_could_parse_is_decoded(body: bytes) -> None:
    assert decode_request(body, MAX).method == "ping"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff not json", "not JSON"),
        (b"[1, 2]", "not an object"),
        (json.dumps({"oslo.version": "3.0", "oslo.message": "{}"}).encode(), "envelope version"),
        (json.dumps({"oslo.version": "2.1", "oslo.message": "{}"}).encode(), "envelope version"),
        (json.dumps({"oslo.version": "2.0", "oslo.message": "{nope"}).encode(), "not JSON"),
        (wrap({"args": {}}), "method"),
        (wrap({"method": 5}), "method"),
        (wrap({"method": "x", "args": [1]}), "args"),
        (wrap({"method": "x", "_timeout": "soon"}), "_timeout"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(BadMessage) as err:
        decode_request(body, MAX)
    assert reason in err.value.reason


def test_refusal_keeps_the_reply_address_when_readable() -> None:
    body = wrap({"args": {}, "_msg_id": "m1", "_reply_q": "reply_1"})
    with pytest.raises(BadMessage) as err:
        decode_request(body, MAX)
    assert (err.value.msg_id, err.value.reply_q) == ("m1", "reply_1")


def test_oversized_message_is_refused_but_answerable() -> None:
    body = wrap({"method": "ping", "args": {"arg": "x" * 5000}, "_msg_id": "m", "_reply_q": "r"})
    with pytest.raises(BadMessage) as err:
        decode_request(body, 1024)
    assert "max_message_bytes" in err.value.reason
    assert err.value.reply_q == "r"


def test_reply_shape_matches_captured_reply() -> None:
    reply = next(
        e
        for e in captured("oslo-generic-capture.json")
        if e.get("body", {}).get("oslo.message", "").startswith('{"result": "ns-hello"')
    )
    expected = json.loads(reply["body"]["oslo.message"])
    ours = json.loads(
        json.loads(encode_reply(expected["_msg_id"], "ns-hello", None, ending=True))["oslo.message"]
    )
    assert list(ours) == list(expected)  # same keys, same order
    assert {k: ours[k] for k in ("result", "failure", "ending", "_msg_id")} == {
        k: expected[k] for k in ("result", "failure", "ending", "_msg_id")
    }


def test_nova_failure_carries_formatted_message_and_kwargs_with_code() -> None:
    f = failure_dict(ServiceNotFound(service_id=999))
    assert f["class"] == "ServiceNotFound"
    assert f["module"] == "nova.exception"
    assert f["message"] == "Service 999 could not be found."
    assert f["args"] == ["Service 999 could not be found."]
    assert f["kwargs"] == {"service_id": 999, "code": 404}
    assert f["tb"][-1] == "nova.exception.ServiceNotFound: Service 999 could not be found.\n"


def test_dispatcher_failures_use_oslo_module_and_messages() -> None:
    f = failure_dict(NoSuchMethod("nope"))
    assert (f["class"], f["module"], f["args"]) == (
        "NoSuchMethod",
        "oslo_messaging.rpc.dispatcher",
        ["Endpoint does not support RPC method nope"],
    )
    u = failure_dict(UnsupportedVersion("4.0", method="echo"))
    assert u["message"] == "Endpoint does not support RPC version 4.0. Attempted method: echo"
    assert u["kwargs"] == {}


def test_builtin_failure_format() -> None:
    f = failure_dict(KeyError("missing"))
    assert (f["class"], f["module"], f["args"], f["message"]) == (
        "KeyError",
        "builtins",
        ["missing"],
        "'missing'",
    )


def test_reply_unique_ids_look_like_oslo_ones_and_never_repeat() -> None:
    from aioconductor.messaging.envelope import next_unique_id

    ids = [next_unique_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def nested(depth: int) -> dict[str, Any]:
    return {"method": "ping", "args": {"arg": json.loads("[" * depth + "]" * depth)}}


def deep_wrap(depth: int, lone_surrogate: bool = False, **extra: Any) -> bytes:
    """A body nested `depth` levels deep in args; built as text, json cannot dump it."""
    arg = "[" * depth + "]" * depth
    inner = '{"method": "ping", "args": {"arg": ' + arg + "}"
    inner += "".join(f', "{k}": "{v}"' for k, v in extra.items())
    if lone_surrogate:
        inner += ', "odd": "\\ud800"'
    return json.dumps({"oslo.version": "2.0", "oslo.message": inner + "}"}).encode()


@pytest.mark.parametrize("lone_surrogate", [False, True], ids=["fast-parser", "json-fallback"])
@pytest.mark.parametrize("depth", [250, 10_000, 200_000])
def test_a_body_nested_too_deep_is_refused_not_crashed_on(depth: int, lone_surrogate: bool) -> None:
    with pytest.raises(BadMessage) as err:
        decode_request(deep_wrap(depth, lone_surrogate), 1 << 30)
    assert "nested" in err.value.reason


def test_a_too_deep_body_is_still_answered_when_its_reply_address_is_readable() -> None:
    body = deep_wrap(10_000, _msg_id="m-deep", _reply_q="reply_deep")
    with pytest.raises(BadMessage) as err:
        decode_request(body, 1 << 30)
    assert (err.value.msg_id, err.value.reply_q) == ("m-deep", "reply_deep")


@pytest.mark.parametrize("lone_surrogate", [False, True], ids=["fast-parser", "json-fallback"])
def test_nesting_far_deeper_than_nova_sends_is_accepted(lone_surrogate: bool) -> None:
    # nova's deepest captured request is under 10 levels; 150 leaves a wide margin
    request = decode_request(deep_wrap(150, lone_surrogate), 1 << 30)
    assert request.args == nested(150)["args"]


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    from aioconductor.messaging import jsonwire

    text = json.dumps({"a": "[{" * 5000, "b": "\ud800", "c": '\\"[[['})
    assert jsonwire.loads(text)["a"] == "[{" * 5000
