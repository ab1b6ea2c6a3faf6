"""The hand-written per-RPC frames against pamqp's own encoding and decoding."""

from __future__ import annotations

import pytest
from pamqp import body as content
from pamqp import commands, frame, header

from aioconductor.messaging.amqp import frames


def parse_all(data: bytes) -> list[object]:
    parsed, pos = [], 0
    while pos < len(data):
        used, _, value = frame.unmarshal(data[pos:])
        parsed.append(value)
        pos += used
    return parsed


def test_ack_is_the_frame_pamqp_writes() -> None:
    assert frames.ack(3, 2**40 + 7) == frame.marshal(commands.Basic.Ack(2**40 + 7), 3)


@pytest.mark.parametrize("requeue", [True, False])
def test_reject_is_a_single_message_nack(requeue: bool) -> None:
    expected = frame.marshal(commands.Basic.Nack(9, multiple=False, requeue=requeue), 1)
    assert frames.reject(1, 9, requeue=requeue) == expected


@pytest.mark.parametrize("size", [0, 1_000, 131_072 - 8, 131_072 - 7, 400_000])
def test_reply_reads_back_as_oslo_reply_publish(size: int) -> None:
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    data = b"".join(frames.reply(2, "reply_abc", "17", body, 131_072))
    publish, content_header, *bodies = parse_all(data)
    assert isinstance(publish, commands.Basic.Publish)
    assert (publish.exchange, publish.routing_key, publish.mandatory) == ("", "reply_abc", True)
    assert isinstance(content_header, header.ContentHeader)
    assert content_header.body_size == size
    assert content_header.properties == commands.Basic.Properties(
        content_type="application/json",
        content_encoding="utf-8",
        headers={},
        delivery_mode=2,
        priority=0,
        message_id="17",
    )
    assert all(isinstance(piece, content.ContentBody) for piece in bodies)
    assert all(len(piece.value) <= 131_072 - 8 for piece in bodies)  # type: ignore[attr-defined]
    assert b"".join(piece.value for piece in bodies) == body  # type: ignore[attr-defined]


def test_a_routing_key_too_long_for_amqp_is_refused() -> None:
    with pytest.raises(ValueError, match="255"):
        frames.reply(1, "q" * 256, "1", b"{}", 131_072)


def test_deliver_is_decoded_like_pamqp_does() -> None:
    method = commands.Basic.Deliver("ctag1.x", 2**33, True, "nova", "conductor.host-1")
    payload = frame.marshal(method, 1)[7:-1]
    decoded = frames.Deliver(payload)
    assert (
        decoded.consumer_tag,
        decoded.delivery_tag,
        decoded.redelivered,
        decoded.exchange,
        decoded.routing_key,
    ) == ("ctag1.x", 2**33, True, "nova", "conductor.host-1")


@pytest.mark.parametrize("multiple", [True, False])
def test_confirms_are_decoded(multiple: bool) -> None:
    ack = frame.marshal(commands.Basic.Ack(41, multiple=multiple), 1)[7:-1]
    nack = frame.marshal(commands.Basic.Nack(42, multiple=multiple), 1)[7:-1]
    assert frames.confirm(ack) == (41, multiple)
    assert frames.confirm(nack) == (42, multiple)


@pytest.mark.parametrize("size", [0, 5, 131_072 - 8, 300_000])
def test_content_template_is_the_content_pamqp_writes(size: int) -> None:
    properties = commands.Basic.Properties(
        content_type="application/json", content_encoding="utf-8", delivery_mode=2,
        expiration="60000",
    )  # fmt: skip
    body = b"y" * size
    template = frames.ContentTemplate(4, properties)
    assert b"".join(template.frames(body, 131_072)) == frames.content(4, properties, body, 131_072)


def test_start_ok_is_the_frame_pamqp_writes_for_a_text_response() -> None:
    properties = {"product": "aioconductor", "capabilities": {"basic.nack": True}}
    expected = frame.marshal(
        commands.Connection.StartOk(
            client_properties=properties, mechanism="PLAIN", response="\0u\0p", locale="en_US"
        ),
        0,
    )
    assert frames.start_ok(properties, "PLAIN", b"\0u\0p") == expected
