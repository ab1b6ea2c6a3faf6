"""A scripted broker for the AMQP client's unit tier: frames in, frames out, no network.

`FakeTransport` stands in for the socket: it keeps every byte the client writes. `FakeBroker`
decodes those bytes with pamqp (`sent()`, `expect()`) and feeds the client frames built with
pamqp's marshal (`feed()`), whole, several in one read, or cut at any byte boundary.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from pamqp import body, commands, frame, header, heartbeat
from pamqp.base import Frame

from aioconductor.messaging.amqp.connection import Channel, Connection

F = TypeVar("F", bound=Frame)
Sent = tuple[int, Any]  # (channel, decoded frame)


class FakeTransport(asyncio.Transport):
    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.written = bytearray()
        self._protocol = protocol
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            raise AssertionError("write after close")
        self.written += data

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self.abort()

    def abort(self) -> None:
        if not self._closing:
            self._closing = True
            asyncio.get_running_loop().call_soon(self._protocol.connection_lost, None)

    def get_write_buffer_size(self) -> int:
        return 0


def method(channel: int, value: Frame) -> bytes:
    return frame.marshal(value, channel)


def content(
    channel: int,
    data: bytes,
    properties: commands.Basic.Properties | None = None,
    frame_max: int = 131072,
) -> bytes:
    """A content header and its body frames (none for an empty body)."""
    properties = properties or commands.Basic.Properties()
    parts = [frame.marshal(header.ContentHeader(0, len(data), properties), channel)]
    chunk = frame_max - 8
    for start in range(0, len(data), chunk):
        parts.append(frame.marshal(body.ContentBody(data[start : start + chunk]), channel))
    return b"".join(parts)


def deliver(
    channel: int, consumer_tag: str, delivery_tag: int, data: bytes, frame_max: int = 131072
) -> bytes:
    deliver_method = commands.Basic.Deliver(consumer_tag, delivery_tag, False, "nova", "conductor")
    return method(channel, deliver_method) + content(channel, data, frame_max=frame_max)


def heartbeat_frame() -> bytes:
    return frame.marshal(heartbeat.Heartbeat(), 0)


class FakeBroker:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.transport = FakeTransport(connection)
        self._read = 0
        self._inbox: list[Sent] = []
        connection.connection_made(self.transport)

    def feed(self, *data: bytes, cut_at: Sequence[int] = ()) -> None:
        """Hand the client bytes: all in one read, or cut into reads at the given offsets."""
        stream = b"".join(data)
        edges = [0, *cut_at, len(stream)]
        for start, end in itertools.pairwise(edges):
            if end > start:
                self.connection.data_received(stream[start:end])

    def _pull(self) -> None:
        data = bytes(self.transport.written[self._read :])
        pos = 0
        while pos < len(data):
            used, channel, value = frame.unmarshal(data[pos:])
            self._inbox.append((channel, value))
            pos += used
        self._read += pos

    def sent(self) -> list[Sent]:
        """Frames the client wrote and no `expect` took yet, decoded."""
        self._pull()
        decoded, self._inbox = self._inbox, []
        return decoded

    async def expect(self, kind: type[F], channel: int | None = None, *, turns: int = 20) -> F:
        """Wait a few loop turns for the client to send a frame of this kind; frames before
        it are skipped."""
        for _ in range(turns):
            self._pull()
            for index, (sent_channel, value) in enumerate(self._inbox):
                if isinstance(value, kind) and channel in (None, sent_channel):
                    del self._inbox[: index + 1]
                    return value
            await asyncio.sleep(0)
        raise AssertionError(f"the client sent no {kind.__name__}")

    async def settle(self, turns: int = 5) -> list[Sent]:
        """Let the loop run a few turns; what the client sent meanwhile."""
        for _ in range(turns):
            await asyncio.sleep(0)
        return self.sent()

    async def handshake(
        self,
        negotiate: asyncio.Task[None],
        *,
        mechanisms: str = "AMQPLAIN PLAIN EXTERNAL",
        heartbeat: int = 0,
        frame_max: int = 131072,
    ) -> commands.Connection.StartOk:
        await self.settle()
        assert self.transport.written.startswith(b"AMQP\x00\x00\x09\x01")
        self.sent()
        self.feed(
            method(
                0,
                commands.Connection.Start(
                    server_properties={"product": "fake"}, mechanisms=mechanisms
                ),
            )
        )
        start_ok = await self.expect(commands.Connection.StartOk)
        self.feed(method(0, commands.Connection.Tune(0, frame_max, heartbeat)))
        await self.expect(commands.Connection.TuneOk)
        await self.expect(commands.Connection.Open)
        self.feed(method(0, commands.Connection.OpenOk()))
        await asyncio.wait_for(negotiate, 1)
        return start_ok

    async def open_channel(self) -> Channel:
        opening = asyncio.ensure_future(self.connection.channel())
        await self.expect(commands.Channel.Open)
        channel_id = len(self.connection._channels)
        self.feed(method(channel_id, commands.Channel.OpenOk()))
        return await asyncio.wait_for(opening, 1)

    async def confirm_channel(self) -> Channel:
        channel = await self.open_channel()
        selecting = asyncio.ensure_future(channel.select_confirms())
        await self.expect(commands.Confirm.Select)
        self.feed(method(channel.id, commands.Confirm.SelectOk()))
        await asyncio.wait_for(selecting, 1)
        return channel


def new_connection(**options: Any) -> Connection:
    settings: dict[str, Any] = {
        "username": "guest",
        "password": "secret",
        "virtual_host": "/",
        "heartbeat": 0,
        "name": "test",
    }
    settings.update(options)
    return Connection(**settings)


async def connected(**options: Any) -> FakeBroker:
    """A connection through the whole handshake, with the broker that answered it."""
    heartbeat = options.pop("broker_heartbeat", 0)
    broker = FakeBroker(new_connection(**options))
    negotiate = asyncio.ensure_future(broker.connection._negotiate())
    await broker.handshake(negotiate, heartbeat=heartbeat)
    return broker
