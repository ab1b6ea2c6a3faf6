"""Frame encoding and decoding: the per-RPC frames by hand, everything else through pamqp.

A conductor RPC moves five kinds of frames: a delivery (method, header, body) in, an ack out,
a reply (method, header, body) out and a publisher confirm in. pamqp's generic marshalling
walks each frame's attributes by name; the hand-written forms here are a struct call each.
tests/unit/test_amqp_frames.py checks every one against pamqp's own encoding.
"""

from __future__ import annotations

import struct
from typing import Any, Final

from pamqp import commands, encode, frame, header
from pamqp.base import Frame

FRAME_END: Final = 0xCE
METHOD: Final = 1
HEADER: Final = 2
BODY: Final = 3
HEARTBEAT: Final = 8
FRAME_OVERHEAD: Final = 8  # type, channel, size, end octet
PROTOCOL_HEADER: Final = b"AMQP\x00\x00\x09\x01"

BASIC_DELIVER: Final = 0x003C003C
BASIC_ACK: Final = 0x003C0050
BASIC_NACK: Final = 0x003C0078
BASIC_RETURN: Final = 0x003C0032

_frame_head = struct.Struct(">BHI")
_tag_method = struct.Struct(">BHIIQBB")  # Basic.Ack / Basic.Nack: tag and flag bits
_header_head = struct.Struct(">BHIHHQH")
_heartbeat = struct.pack(">BHIB", HEARTBEAT, 0, 0, FRAME_END)

_REPLY_FLAGS: Final = (
    commands.Basic.Properties.flags["content_type"]
    | commands.Basic.Properties.flags["content_encoding"]
    | commands.Basic.Properties.flags["headers"]
    | commands.Basic.Properties.flags["delivery_mode"]
    | commands.Basic.Properties.flags["priority"]
    | commands.Basic.Properties.flags["message_id"]
)
# content_type, content_encoding, headers {}, delivery_mode, priority: the properties oslo
# gives a reply, in the order the flags put them on the wire; the message id follows.
_REPLY_PROPERTIES: Final = (
    b"\x10application/json" + b"\x05utf-8" + b"\x00\x00\x00\x00" + b"\x02" + b"\x00"
)


def start_ok(client_properties: dict[str, Any], mechanism: str, response: bytes) -> bytes:
    """Connection.StartOk by hand: pamqp encodes the response as UTF-8 text, and an
    AMQPLAIN response is binary (a field table)."""
    payload = b"".join(
        (
            b"\x00\x0a\x00\x0b",  # class 10 (connection), method 11 (start-ok)
            encode.field_table(client_properties),
            shortstr(mechanism),
            struct.pack(">I", len(response)),
            response,
            shortstr("en_US"),
        )
    )
    return _frame_head.pack(METHOD, 0, len(payload)) + payload + b"\xce"


def heartbeat() -> bytes:
    return _heartbeat


def method(channel: int, value: Frame) -> bytes:
    return frame.marshal(value, channel)


def content(
    channel: int, properties: commands.Basic.Properties, body: bytes, frame_max: int
) -> bytes:
    parts = [frame.marshal(header.ContentHeader(0, len(body), properties), channel)]
    parts.extend(_body_frames(channel, body, frame_max))
    return b"".join(parts)


class ContentTemplate:
    """Content frames for messages whose properties never change (a load generator's
    requests): the header is marshalled once and only its body size is filled in."""

    _BODY_SIZE_AT: Final = 11  # frame type, channel, size; class id, weight

    def __init__(self, channel: int, properties: commands.Basic.Properties) -> None:
        self.channel = channel
        self._header = frame.marshal(header.ContentHeader(0, 0, properties), channel)

    def frames(self, body: bytes, frame_max: int) -> list[bytes]:
        head = bytearray(self._header)
        struct.pack_into(">Q", head, self._BODY_SIZE_AT, len(body))
        return [bytes(head), *_body_frames(self.channel, body, frame_max)]


def _body_frames(channel: int, body: bytes, frame_max: int) -> list[bytes]:
    chunk = frame_max - FRAME_OVERHEAD
    frames = []
    for start in range(0, len(body), chunk):
        piece = body[start : start + chunk]
        frames.append(_frame_head.pack(BODY, channel, len(piece)) + piece + b"\xce")
    return frames


def ack(channel: int, delivery_tag: int) -> bytes:
    return _tag_method.pack(METHOD, channel, 13, BASIC_ACK, delivery_tag, 0, FRAME_END)


def reject(channel: int, delivery_tag: int, *, requeue: bool) -> bytes:
    # Basic.Nack with multiple=False is Basic.Reject; RabbitMQ treats both alike.
    return _tag_method.pack(
        METHOD, channel, 13, BASIC_NACK, delivery_tag, 0b10 if requeue else 0, FRAME_END
    )


def shortstr(value: str) -> bytes:
    raw = value.encode()
    if len(raw) > 255:
        raise ValueError(f"AMQP short string longer than 255 bytes: {value[:40]!r}...")
    return bytes((len(raw),)) + raw


Buffer = bytes | memoryview
_JOIN_BELOW: Final = 16384


def reply(
    channel: int, routing_key: str, message_id: str, body: bytes, frame_max: int
) -> list[Buffer]:
    """Basic.Publish to the default exchange, mandatory, with oslo's reply properties.

    The frames as buffers for one `writelines`: the body is never copied, which for a host's
    instance list (megabytes) would double the worker's peak memory.
    """
    key = shortstr(routing_key)
    publish = b"\x00\x3c\x00\x28\x00\x00\x00" + key + b"\x01"  # ticket 0, exchange "", mandatory
    mid = shortstr(message_id)
    head_size = 14 + len(_REPLY_PROPERTIES) + len(mid)
    head = b"".join(
        (
            _frame_head.pack(METHOD, channel, len(publish)),
            publish,
            b"\xce",
            _header_head.pack(HEADER, channel, head_size, 60, 0, len(body), _REPLY_FLAGS),
            _REPLY_PROPERTIES,
            mid,
            b"\xce",
        )
    )
    chunk = frame_max - FRAME_OVERHEAD
    if not body:
        return [head]  # no body frames at all for an empty body
    if len(body) <= _JOIN_BELOW:  # the common case: one buffer, one plain write
        return [b"".join((head, _frame_head.pack(BODY, channel, len(body)), body, b"\xce"))]
    if len(body) <= chunk:
        return [head + _frame_head.pack(BODY, channel, len(body)), body, b"\xce"]
    parts: list[Buffer] = [head]
    view = memoryview(body)
    for start in range(0, len(body), chunk):
        piece = view[start : start + chunk]
        parts += (_frame_head.pack(BODY, channel, len(piece)), piece, b"\xce")
    return parts


class Deliver:
    """Basic.Deliver, decoded by hand: it arrives once per RPC."""

    __slots__ = ("consumer_tag", "delivery_tag", "exchange", "redelivered", "routing_key")

    def __init__(self, payload: bytes) -> None:
        pos = 5 + payload[4]
        self.consumer_tag = payload[5:pos].decode()
        self.delivery_tag, bits = struct.unpack_from(">QB", payload, pos)
        self.redelivered = bool(bits & 1)
        pos += 9
        end = pos + 1 + payload[pos]
        self.exchange = payload[pos + 1 : end].decode()
        self.routing_key = payload[end + 1 : end + 1 + payload[end]].decode()


def confirm(payload: bytes) -> tuple[int, bool]:
    """Basic.Ack or Basic.Nack from the broker: (delivery tag, multiple)."""
    tag, bits = struct.unpack_from(">QB", payload, 4)
    return tag, bool(bits & 1)


def decode_method(payload: bytes) -> Frame:
    index = int.from_bytes(payload[:4], "big")
    value: Frame = commands.INDEX_MAPPING[index]()
    value.unmarshal(payload[4:])
    return value


def decode_properties(payload: bytes) -> tuple[int, commands.Basic.Properties]:
    content_header = header.ContentHeader()
    content_header.unmarshal(payload)
    return content_header.body_size, content_header.properties


def body_size(payload: bytes) -> int:
    return int.from_bytes(payload[4:12], "big")
