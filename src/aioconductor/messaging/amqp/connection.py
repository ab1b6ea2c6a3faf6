"""One AMQP connection: frames parsed in `data_received`, channels, heartbeats, handshake.

Nothing here reconnects; `robust.py` does that around it. When the connection ends, for any
reason, every waiting call and unconfirmed publish fails with `ConnectionLost` (or the
broker's own close reason) and `closed` resolves, so the owner can start again.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final, cast

from pamqp import commands
from pamqp.base import Frame

from aioconductor.messaging.amqp import frames
from aioconductor.messaging.amqp.login import login_response

log = logging.getLogger(__name__)

# What we ask for; the broker may lower it (Connection.Tune).
_FRAME_MAX: Final = 131072
_CHANNEL_MAX: Final = 64
# py-amqp (nova's client) gives a connection up after 2 x heartbeat with nothing received.
_HEARTBEATS_MISSED: Final = 2
# How often publishes with a deadline are checked for a confirm that never came: one timer per
# channel while any are outstanding, rather than one per publish.
_CONFIRM_SWEEP: Final = 0.25


class AmqpError(Exception):
    pass


class ConnectionLost(AmqpError):
    """The connection ended before the operation completed."""


class ConsumerCancelled(ConnectionLost):
    """The broker cancelled one of our consumers (its queue deleted, a failover): the broker
    itself is up, so the owner can set everything up again without waiting."""


class BrokerClosed(AmqpError):
    """The broker closed the connection or a channel, with its reply code and text."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text


class LoginUnsupported(AmqpError):
    """The broker does not offer the login method we are configured for."""


class PublishNacked(AmqpError):
    pass


class PublishTimeout(AmqpError, TimeoutError):
    """A publish not confirmed (or held back by the broker or the socket) past its deadline."""


class Delivery:
    """A message delivered to a consumer; its properties are decoded only when read."""

    __slots__ = (
        "_channel",
        "_header",
        "_properties",
        "body",
        "consumer_tag",
        "delivery_tag",
        "exchange",
        "redelivered",
        "routing_key",
    )

    def __init__(self, channel: Channel, deliver: frames.Deliver, header: bytes, body: bytes):
        self._channel = channel
        self._header = header
        self._properties: commands.Basic.Properties | None = None
        self.body = body
        self.consumer_tag = deliver.consumer_tag
        self.delivery_tag = deliver.delivery_tag
        self.exchange = deliver.exchange
        self.redelivered = deliver.redelivered
        self.routing_key = deliver.routing_key

    @property
    def properties(self) -> commands.Basic.Properties:
        if self._properties is None:
            self._properties = frames.decode_properties(self._header)[1]
        return self._properties

    @property
    def message_id(self) -> str | None:
        return self.properties.message_id

    async def ack(self) -> None:
        self._channel.write(frames.ack(self._channel.id, self.delivery_tag))

    async def nack(self, requeue: bool = True) -> None:
        self._channel.write(frames.reject(self._channel.id, self.delivery_tag, requeue=requeue))

    async def reject(self, requeue: bool = False) -> None:
        await self.nack(requeue)


Consumer = Callable[[Delivery], None]


class Channel:
    def __init__(self, connection: Connection, channel_id: int) -> None:
        self.id = channel_id
        self._connection = connection
        self._calls: deque[asyncio.Future[Frame]] = deque()
        self._call_lock = asyncio.Lock()
        self._consumers: dict[str, Consumer] = {}
        self._consumer_count = 0
        self._no_ack_tags: set[str] = set()  # their deliveries are not ours to reject
        self._closed: BaseException | None = None
        # A delivery (or a return) arrives as method, header, then body frames.
        self._incoming: frames.Deliver | None = None
        self._returning = False
        self._header = b""
        self._expected = 0
        self._chunks: list[bytes] = []
        # publisher confirms
        self._confirming = False
        self._next_tag = 1
        self._unconfirmed: dict[int, tuple[asyncio.Future[bool], str, float | None]] = {}
        self._returned: set[str] = set()
        self._sweep: asyncio.TimerHandle | None = None
        # Publishes wait on this while the broker or the socket cannot take them (None: go).
        self._gate: asyncio.Future[None] | None = None
        self.flow_active = True  # Channel.Flow from the broker
        # Called when the broker closes this channel (a channel error such as an unknown
        # delivery tag); the server's channels treat it as the loss of the connection.
        self.on_broker_close: Callable[[BrokerClosed], None] | None = None
        # Reply codes the owner expects the broker to close this channel with (a passive
        # declare probing for a queue that may not exist: 404), logged at DEBUG only.
        self.expected_closes: frozenset[int] = frozenset()

    @property
    def is_open(self) -> bool:
        return self._closed is None

    def write(self, *data: frames.Buffer) -> None:
        if self._closed is not None:
            raise ConnectionLost(f"channel {self.id} is closed: {self._closed}")
        self._connection.write(*data)

    async def call(self, method: Frame) -> Frame:
        """Send a synchronous method and wait for the broker's answer to it."""
        async with self._call_lock:  # AMQP allows one synchronous request at a time
            future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
            self._calls.append(future)
            self.write(frames.method(self.id, method))
            return await future

    async def consume(
        self,
        queue: str,
        consumer: Consumer,
        arguments: dict[str, Any] | None = None,
        *,
        no_ack: bool = False,
    ) -> str:
        # We name the consumer and register it before Basic.Consume leaves: the broker may
        # send deliveries right behind ConsumeOk, in the same read, and each one must find
        # its consumer (a delivery without one would hold a prefetch slot).
        self._consumer_count += 1
        tag = f"ctag{self.id}.{self._consumer_count}"
        self._consumers[tag] = consumer
        if no_ack:
            self._no_ack_tags.add(tag)
        consume = commands.Basic.Consume(
            queue=queue, consumer_tag=tag, no_ack=no_ack, arguments=arguments or {}
        )
        try:
            ok = await self.call(consume)
        except BaseException:
            self._consumers.pop(tag, None)
            raise
        assert isinstance(ok, commands.Basic.ConsumeOk)
        return tag

    async def cancel(self, consumer_tag: str) -> None:
        await self.call(commands.Basic.Cancel(consumer_tag=consumer_tag))
        self._consumers.pop(consumer_tag, None)

    async def select_confirms(self) -> None:
        await self.call(commands.Confirm.Select())
        self._confirming = True

    async def publish_reply(
        self, routing_key: str, body: bytes, *, timeout: float | None = None
    ) -> bool:
        """Publish a mandatory reply and wait for its confirm; False when it was returned.

        Raises PublishTimeout when `timeout` seconds pass first (held or unconfirmed).
        """
        deadline = None if timeout is None else self._connection.loop_time() + timeout
        if self._gate is not None:
            await self._wait_for_gate(deadline, timeout)
        # From here to the write nothing awaits: the message id is the confirm tag to come.
        message_id = str(self._next_tag)  # names the publish in a Basic.Return, which has no tag
        return await self._confirmed(
            frames.reply(self.id, routing_key, message_id, body, self._connection.frame_max),
            message_id,
            deadline,
        )

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: commands.Basic.Properties,
        *,
        mandatory: bool,
        timeout: float | None = None,
    ) -> bool:
        """Publish any message and wait for its confirm; False when it was returned.

        A mandatory publish without a message id gets one (it names the publish in a
        Basic.Return); any other leaves with exactly the properties given, as oslo's do.
        """
        deadline = None if timeout is None else self._connection.loop_time() + timeout
        if self._gate is not None:
            await self._wait_for_gate(deadline, timeout)
        if mandatory and not properties.message_id:
            properties.message_id = str(self._next_tag)
        publish = commands.Basic.Publish(
            exchange=exchange, routing_key=routing_key, mandatory=mandatory
        )
        frames_out = [
            frames.method(self.id, publish),
            frames.content(self.id, properties, body, self._connection.frame_max),
        ]
        return await self._confirmed(frames_out, properties.message_id or "", deadline)

    def publish_unconfirmed(
        self, publish: bytes, content: frames.ContentTemplate, body: bytes
    ) -> None:
        """Publish without waiting for anything, as oslo's RPC client sends its requests:
        `publish` is a marshalled Basic.Publish, `content` the message's fixed properties."""
        if self._confirming:
            raise RuntimeError("a confirm-mode channel numbers every publish: use publish()")
        self.write(publish, *content.frames(body, self._connection.frame_max))

    def _confirmed(
        self, data: Sequence[frames.Buffer], message_id: str, deadline: float | None
    ) -> asyncio.Future[bool]:
        if not self._confirming:
            raise RuntimeError("publishing needs a channel in confirm mode")
        self.write(*data)
        tag = self._next_tag
        self._next_tag += 1
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._unconfirmed[tag] = (future, message_id, deadline)
        if deadline is not None and self._sweep is None:
            self._sweep = self._connection._loop.call_later(_CONFIRM_SWEEP, self._expire)
        return future

    def _expire(self) -> None:
        """Fail the publishes whose deadline passed without a confirm."""
        self._sweep = None
        now = self._connection.loop_time()
        waiting = False
        for tag, (future, _, deadline) in list(self._unconfirmed.items()):
            if deadline is None:
                continue
            if deadline > now and not future.done():
                waiting = True
                continue
            # Forgotten: a confirm arriving later finds nothing to settle.
            del self._unconfirmed[tag]
            if not future.done():
                future.set_exception(
                    PublishTimeout(f"RabbitMQ sent no confirm for publish {tag} in time")
                )
        if waiting and self._closed is None:
            self._sweep = self._connection._loop.call_later(_CONFIRM_SWEEP, self._expire)

    async def _wait_for_gate(self, deadline: float | None, timeout: float | None) -> None:
        while self._gate is not None:
            gate = self._gate
            reason = self.publishing_blocked
            remaining = None if deadline is None else deadline - self._connection.loop_time()
            try:
                # shielded: the gate is shared by every held publisher
                await asyncio.wait_for(asyncio.shield(gate), remaining)
            except TimeoutError:
                raise PublishTimeout(f"publish held for {timeout} s: {reason}") from None

    @property
    def publishing_blocked(self) -> str | None:
        """Why a publish on this channel would be held now; None when it would go out."""
        if not self.flow_active:
            return f"RabbitMQ paused channel {self.id} (channel.flow)"
        return self._connection._held_for_all()

    def update_gate(self) -> None:
        """Hold or release publishers after a change of flow, blocking or socket state."""
        held = self._closed is None and self.publishing_blocked is not None
        if held and self._gate is None:
            self._gate = self._connection._loop.create_future()
        elif not held and self._gate is not None:
            gate, self._gate = self._gate, None
            gate.set_result(None)  # a closed channel: the publisher's write raises its reason

    # --- frames from the connection -------------------------------------------------------

    def on_method(self, payload: bytes) -> None:
        index = int.from_bytes(payload[:4], "big")
        if index == frames.BASIC_DELIVER:
            self._incoming = frames.Deliver(payload)
        elif index == frames.BASIC_ACK:
            self._settle(*frames.confirm(payload), nacked=False)
        elif index == frames.BASIC_NACK:
            self._settle(*frames.confirm(payload), nacked=True)
        elif index == frames.BASIC_RETURN:
            self._returning = True
        else:
            self._on_other(frames.decode_method(payload))

    def on_header(self, payload: bytes) -> None:
        self._header = payload
        self._expected = frames.body_size(payload)
        self._chunks = []
        if self._expected == 0:
            self._content_done(b"")

    def on_body(self, payload: bytes) -> None:
        if self._expected == len(payload) and not self._chunks:
            self._content_done(payload)
            return
        self._chunks.append(payload)
        if sum(map(len, self._chunks)) >= self._expected:
            self._content_done(b"".join(self._chunks))

    def _content_done(self, body: bytes) -> None:
        self._chunks = []
        if self._returning:
            self._returning = False
            message_id = frames.decode_properties(self._header)[1].message_id
            if message_id:
                self._returned.add(message_id)
            return
        deliver, self._incoming = self._incoming, None
        if deliver is None:
            raise AmqpError(f"content without a delivery on channel {self.id}")
        consumer = self._consumers.get(deliver.consumer_tag)
        if consumer is None:
            # Only a consumer already cancelled (or whose consume failed) gets here. Unacked,
            # the message would hold a prefetch slot until the connection ends: give it back.
            if deliver.consumer_tag in self._no_ack_tags:  # the broker counts it delivered
                log.warning("no consumer %s for a no-ack delivery: dropped", deliver.consumer_tag)
                return
            log.warning(
                "no consumer %s on channel %d for delivery %d: requeued",
                deliver.consumer_tag,
                self.id,
                deliver.delivery_tag,
            )
            self.write(frames.reject(self.id, deliver.delivery_tag, requeue=True))
            return
        consumer(Delivery(self, deliver, self._header, body))

    def _settle(self, tag: int, multiple: bool, *, nacked: bool) -> None:
        if multiple:
            tags = [t for t in self._unconfirmed if t <= tag]
        else:
            tags = [tag] if tag in self._unconfirmed else []
        for settled in tags:
            future, message_id, _ = self._unconfirmed.pop(settled)
            returned = message_id in self._returned
            self._returned.discard(message_id)  # also for a publisher that gave up waiting
            if future.done():
                continue
            if nacked:
                future.set_exception(PublishNacked(f"publish {settled} nacked by the broker"))
            else:
                future.set_result(not returned)

    def _on_other(self, method: Frame) -> None:
        if isinstance(method, commands.Channel.Close):
            self._connection.write(frames.method(self.id, commands.Channel.CloseOk()))
            closed = BrokerClosed(method.reply_code or 0, method.reply_text)
            level = logging.DEBUG if closed.code in self.expected_closes else logging.WARNING
            log.log(level, "RabbitMQ closed channel %d: %s", self.id, closed)
            self._fail(closed)
            self._connection.forget(self.id)
            if self.on_broker_close is not None:
                self.on_broker_close(closed)
        elif isinstance(method, commands.Basic.Cancel):
            # The broker ended a consumer (queue deleted, HA failover): the owner reconnects,
            # which declares and consumes again, as oslo does on ConsumerCancelled.
            log.warning("the broker cancelled consumer %s", method.consumer_tag)
            self._consumers.pop(method.consumer_tag or "", None)
            # Acks already queued must reach the broker, or it delivers those messages again.
            self._connection.lose(
                ConsumerCancelled(f"consumer {method.consumer_tag} cancelled"), flush=True
            )
        elif isinstance(method, commands.Channel.Flow):
            # RabbitMQ itself uses connection.blocked these days; other brokers may pause.
            self.flow_active = bool(method.active)
            log.warning(
                "RabbitMQ %s publishing on channel %d (channel.flow)",
                "resumed" if self.flow_active else "paused",
                self.id,
            )
            self._connection.write(frames.method(self.id, commands.Channel.FlowOk(method.active)))
            self.update_gate()
        elif self._calls:
            future = self._calls.popleft()
            if not future.done():
                future.set_result(method)
        else:
            log.debug("unexpected %s on channel %d", method.name, self.id)

    def _fail(self, reason: BaseException) -> None:
        if self._closed is not None:
            return
        self._closed = reason
        while self._calls:
            future = self._calls.popleft()
            if not future.done():
                future.set_exception(reason)
        for unconfirmed, _, _ in self._unconfirmed.values():
            if not unconfirmed.done():
                unconfirmed.set_exception(reason)
        self._unconfirmed.clear()
        self._consumers.clear()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        self.update_gate()


class Connection(asyncio.Protocol):
    """Open with `await Connection.open(...)`; `closed` resolves with why it ended."""

    def __init__(
        self,
        username: str,
        password: str,
        virtual_host: str,
        heartbeat: int,
        name: str,
        *,
        heartbeat_rate: int = 3,
        login_method: str = "AMQPLAIN",
    ):
        self._login_method = login_method
        self._login = login_response(login_method, username, password)  # ValueError if unknown
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._clock = loop.time
        self._virtual_host = virtual_host
        self._heartbeat_wanted = heartbeat
        self._name = name
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._pending: list[frames.Buffer] = []
        self._channels: dict[int, Channel] = {}
        self._handshake: asyncio.Future[Frame] | None = None
        self._handshake_waiting: type[Frame] | None = None
        self._heartbeat_timer: asyncio.TimerHandle | None = None
        self._heartbeat_rate = heartbeat_rate if heartbeat_rate > 0 else 2
        self._last_data = loop.time()  # when the last byte came in
        self._wrote = False  # anything written since the last heartbeat check
        self._last_sent = 0.0
        self.frame_max = _FRAME_MAX
        self.heartbeat = 0
        self.blocked_reason: str | None = None  # Connection.Blocked from the broker
        self._writing_paused = False  # the transport's buffer is over its high-water mark
        self.closed: asyncio.Future[BaseException] = loop.create_future()

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        username: str,
        password: str,
        virtual_host: str,
        heartbeat: int,
        name: str,
        heartbeat_rate: int = 3,
        login_method: str = "AMQPLAIN",
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 10,
    ) -> Connection:
        loop = asyncio.get_running_loop()
        connection = cls(
            username,
            password,
            virtual_host,
            heartbeat,
            name,
            heartbeat_rate=heartbeat_rate,
            login_method=login_method,
        )
        try:
            async with asyncio.timeout(timeout):
                await loop.create_connection(lambda: connection, host, port, ssl=ssl_context)
                await connection._negotiate()
        except BaseException:
            connection.abort()
            raise
        return connection

    @property
    def is_open(self) -> bool:
        return not self.closed.done()

    def loop_time(self) -> float:
        return self._loop.time()

    @property
    def seconds_since_data(self) -> float:
        """Seconds since the broker last sent anything (a heartbeat counts): a link going
        quiet shows here long before it is declared dead at 2 x heartbeat."""
        return self._clock() - self._last_data

    @property
    def publishing_blocked(self) -> str | None:
        """Why publishing cannot proceed now (None: it can): the broker blocked the
        connection, the socket's send buffer is full, or the broker paused a channel."""
        held = self._held_for_all()
        if held is not None:
            return held
        paused = [str(c.id) for c in self._channels.values() if not c.flow_active]
        if paused:
            return f"RabbitMQ paused channel {', '.join(paused)} (channel.flow)"
        return None

    def _held_for_all(self) -> str | None:
        """What holds publishing on every channel (channel.flow holds only its own)."""
        if self.blocked_reason is not None:
            return f"RabbitMQ blocked the connection: {self.blocked_reason}"
        if self._writing_paused:
            return "the socket's send buffer is full (writing paused)"
        return None

    def _update_gates(self) -> None:
        for channel in list(self._channels.values()):
            channel.update_gate()

    def write(self, *data: frames.Buffer) -> None:
        """Queue frames; they leave in one socket write at the end of this loop pass.

        On loopback a send costs tens of µs of the sender's CPU (the receiver's network stack
        runs in it), and in a busy pass several acks and replies are ready at once.
        """
        if self._transport is None or self.closed.done():
            raise ConnectionLost("the AMQP connection is closed")
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending += data

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        self._wrote = True
        if self._transport is not None and not self._transport.is_closing():
            if len(pending) == 1:
                self._transport.write(pending[0])
            else:
                self._transport.writelines(pending)  # one writev, nothing joined

    async def channel(self) -> Channel:
        channel_id = next(i for i in range(1, _CHANNEL_MAX + 1) if i not in self._channels)
        channel = Channel(self, channel_id)
        self._channels[channel_id] = channel
        channel.update_gate()  # opened while the broker blocks us: held from the start
        await channel.call(commands.Channel.Open())
        return channel

    def forget(self, channel_id: int) -> None:
        self._channels.pop(channel_id, None)

    async def close(self) -> None:
        if self.closed.done():
            return
        try:
            self.write(frames.method(0, commands.Connection.Close(200, "bye", 0, 0)))
            await asyncio.wait_for(asyncio.shield(self.closed), 3)
        except (TimeoutError, AmqpError):
            pass
        self.lose(ConnectionLost("closed by us"))

    def abort(self) -> None:
        self.lose(ConnectionLost("aborted"))

    def lose(self, reason: BaseException, *, flush: bool = False) -> None:
        """End the connection now; with `flush`, what this loop pass queued (acks) still
        goes out first."""
        if self._transport is not None:
            if flush and not self._transport.is_closing():
                self._flush()
                self._transport.close()  # sends what is buffered, then closes
            else:
                self._transport.abort()
        self._ended(reason)

    # --- handshake --------------------------------------------------------------------

    def _expect(self, kind: type[Frame]) -> asyncio.Future[Frame]:
        # Set before the request goes out: the answer can arrive in the next read.
        self._handshake = self._loop.create_future()
        self._handshake_waiting = kind
        return self._handshake

    async def _negotiate(self) -> None:
        assert self._transport is not None
        waiting = self._expect(commands.Connection.Start)
        self._transport.write(frames.PROTOCOL_HEADER)
        start = await waiting
        assert isinstance(start, commands.Connection.Start)
        if self._login_method not in start.mechanisms.split():
            raise LoginUnsupported(
                f"RabbitMQ does not offer login method {self._login_method} "
                f"(it offers {start.mechanisms}): see [oslo_messaging_rabbit] rabbit_login_method"
            )
        waiting = self._expect(commands.Connection.Tune)
        self.write(frames.start_ok(self._client_properties(), self._login_method, self._login))
        tune = await waiting
        assert isinstance(tune, commands.Connection.Tune)
        self.frame_max = min(tune.frame_max or _FRAME_MAX, _FRAME_MAX)
        channel_max = min(tune.channel_max or _CHANNEL_MAX, _CHANNEL_MAX)
        # As py-amqp: the smaller of the two, or the one that is set; none if we want none.
        if not self._heartbeat_wanted:
            self.heartbeat = 0
        elif tune.heartbeat:
            self.heartbeat = min(self._heartbeat_wanted, tune.heartbeat)
        else:
            self.heartbeat = self._heartbeat_wanted
        self.write(
            frames.method(
                0, commands.Connection.TuneOk(channel_max, self.frame_max, self.heartbeat)
            )
        )
        waiting = self._expect(commands.Connection.OpenOk)
        self.write(frames.method(0, commands.Connection.Open(virtual_host=self._virtual_host)))
        await waiting
        if self.heartbeat:
            self._last_sent, self._wrote = self._clock(), False
            self._heartbeat_timer = self._loop.call_later(self._check_every, self._heartbeat_tick)

    @property
    def _check_every(self) -> float:
        # oslo checks every heartbeat_timeout_threshold / heartbeat_rate / 2 seconds
        return self.heartbeat / self._heartbeat_rate / 2

    def _client_properties(self) -> dict[str, Any]:
        from aioconductor import __version__

        return {
            "product": "aioconductor",
            "version": __version__,
            "platform": f"Python {platform.python_version()}",
            "connection_name": self._name,
            "capabilities": {
                "authentication_failure_close": True,
                "basic.nack": True,
                "connection.blocked": True,
                "consumer_cancel_notify": True,
                "publisher_confirms": True,
            },
        }

    def _heartbeat_tick(self) -> None:
        if self.closed.done():
            return
        now = self._clock()
        quiet = now - self._last_data
        if quiet > _HEARTBEATS_MISSED * self.heartbeat:
            log.warning(
                "no data from RabbitMQ for %.0f s (heartbeat %d s): connection dead",
                quiet,
                self.heartbeat,
            )
            self.lose(ConnectionLost(f"missed heartbeats: nothing received for {quiet:.0f} s"))
            return
        if self._wrote:  # anything we send tells the broker we are alive
            self._wrote = False
            self._last_sent = now
        if now - self._last_sent >= self.heartbeat / self._heartbeat_rate:
            # straight out (a whole frame, fine between queued ones), so that it does not
            # count as other traffic at the next check
            self._transport_write_quietly(frames.heartbeat())
            self._last_sent = now
        self._heartbeat_timer = self._loop.call_later(self._check_every, self._heartbeat_tick)

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they implement it.
        self._transport = cast("asyncio.Transport", transport)

    def pause_writing(self) -> None:
        # Every reply over the transport's high-water mark (64 KiB) gets here for a moment:
        # debug only. A pause that lasts shows in publishing_blocked and in publish timeouts.
        self._writing_paused = True
        log.debug("the RabbitMQ socket's send buffer is full: publishes wait")
        self._update_gates()

    def resume_writing(self) -> None:
        self._writing_paused = False
        log.debug("the RabbitMQ socket's send buffer drained: publishes resume")
        self._update_gates()

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended(ConnectionLost(str(exc) if exc else "the broker closed the socket"))

    def data_received(self, data: bytes) -> None:
        self._last_data = self._clock()
        buffer = self._buffer + data if self._buffer else data
        size = len(buffer)
        pos = 0
        try:
            while size - pos >= frames.FRAME_OVERHEAD:
                kind = buffer[pos]
                channel = int.from_bytes(buffer[pos + 1 : pos + 3], "big")
                end = pos + 7 + int.from_bytes(buffer[pos + 3 : pos + 7], "big")
                if end >= size:
                    break
                if buffer[end] != frames.FRAME_END:
                    raise AmqpError("frame without its end octet: not an AMQP 0-9-1 peer?")
                payload = buffer[pos + 7 : end]
                pos = end + 1
                self._on_frame(kind, channel, payload)
        except Exception as exc:
            if self.closed.done():
                return  # frames read behind a close or a consumer cancel: the broker requeues
            # A frame we cannot parse leaves the stream unusable: drop the connection, the
            # owner reconnects, and the broker requeues what we had not acked.
            log.error("AMQP protocol error; dropping the connection: %s", exc, exc_info=True)
            self.lose(ConnectionLost(f"protocol error: {exc}"))
            return
        self._buffer = buffer[pos:] if pos < size else b""

    def _on_frame(self, kind: int, channel_id: int, payload: bytes) -> None:
        if channel_id:
            channel = self._channels.get(channel_id)
            if channel is None:
                log.debug("frame for unknown channel %d", channel_id)
            elif kind == frames.BODY:
                channel.on_body(payload)
            elif kind == frames.METHOD:
                channel.on_method(payload)
            elif kind == frames.HEADER:
                channel.on_header(payload)
            return
        if kind == frames.HEARTBEAT:
            return
        if kind != frames.METHOD:
            raise AmqpError(f"frame type {kind} on channel 0")
        method = frames.decode_method(payload)
        if isinstance(method, commands.Connection.Close):
            self._transport_write_quietly(frames.method(0, commands.Connection.CloseOk()))
            self.lose(BrokerClosed(method.reply_code or 0, method.reply_text))
        elif isinstance(method, commands.Connection.CloseOk):
            self.lose(ConnectionLost("closed by us"))
        elif isinstance(method, commands.Connection.Blocked):
            # A resource alarm (memory, disk): the broker reads nothing more from a publishing
            # connection, so publishes wait here rather than in the socket buffers.
            self.blocked_reason = method.reason or "no reason given"
            log.error("RabbitMQ blocked this connection: %s", self.blocked_reason)
            self._update_gates()
        elif isinstance(method, commands.Connection.Unblocked):
            self.blocked_reason = None
            log.warning("RabbitMQ unblocked this connection")
            self._update_gates()
        elif self._handshake is not None and isinstance(method, self._handshake_waiting or ()):
            if not self._handshake.done():
                self._handshake.set_result(method)
        else:
            raise AmqpError(f"unexpected {method.name} on channel 0")

    def _transport_write_quietly(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _ended(self, reason: BaseException) -> None:
        if self.closed.done():
            return
        self.closed.set_result(reason)
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
        if self._handshake is not None and not self._handshake.done():
            self._handshake.set_exception(reason)
        for channel in list(self._channels.values()):
            channel._fail(reason)
        self._channels.clear()
