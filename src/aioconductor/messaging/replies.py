"""Send replies the way oslo's AMQPIncomingMessage does.

To the default exchange, routing key = the caller's `_reply_q`, mandatory, persistent. If the
broker returns the reply (the reply queue does not exist yet or any more) we retry every
0.25 s for `kombu_missing_consumer_retry_timeout`, then drop it with one log line and
remember the queue as obsolete for a minute so later replies to it are dropped at once.
The same deadline bounds the wait for the broker's confirm and for a broker that holds
publishes (connection.blocked, channel.flow, a full socket buffer).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aioconductor.messaging.amqp.connection import (
    AmqpError,
    Channel,
    PublishNacked,
    PublishTimeout,
)
from aioconductor.messaging.envelope import encode_reply

log = logging.getLogger(__name__)

_RETRY_INTERVAL = 0.25
_MIN_CONFIRM_WAIT = _RETRY_INTERVAL  # a publish's wait when the deadline is (nearly) spent
_OBSOLETE_SIZE = 200
_OBSOLETE_TTL = 60.0


class ObsoleteReplyQueues:
    def __init__(self, size: int = _OBSOLETE_SIZE, ttl: float = _OBSOLETE_TTL) -> None:
        self._size, self._ttl = size, ttl
        self._entries: OrderedDict[str, float] = OrderedDict()

    def add(self, reply_q: str) -> None:
        self._entries[reply_q] = time.monotonic() + self._ttl
        self._entries.move_to_end(reply_q)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __contains__(self, reply_q: object) -> bool:
        if not isinstance(reply_q, str):
            return False
        expiry = self._entries.get(reply_q)
        if expiry is None:
            return False
        if expiry < time.monotonic():
            del self._entries[reply_q]
            return False
        return True


class ReplySender:
    def __init__(
        self,
        channel: Callable[[], Awaitable[Channel]],
        open_channel: Callable[[], Channel | None],
        missing_queue_timeout: float,
    ) -> None:
        self._channel = channel
        self._open_channel = open_channel
        self._missing_queue_timeout = missing_queue_timeout
        self._obsolete = ObsoleteReplyQueues()

    async def send(
        self, reply_q: str, msg_id: str, result: Any, failure: str | None, *, ending: bool = True
    ) -> bool:
        """Publish one reply; True once the broker routed it to the reply queue."""
        if reply_q in self._obsolete:
            log.info("dropping reply %s: reply queue %s is gone", msg_id, reply_q)
            return False
        body = encode_reply(msg_id, result, failure, ending=ending)
        deadline = time.monotonic() + self._missing_queue_timeout
        why = "the reply queue did not exist"
        while True:
            try:
                channel = self._open_channel()
                if channel is None:  # the connection is down: wait for it, up to the deadline
                    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                        channel = await self._channel()
                # Bounded too: a confirm that never comes (or a broker that blocks publishing)
                # must not hold this request's slot forever.
                timeout = max(deadline - time.monotonic(), _MIN_CONFIRM_WAIT)
                if await channel.publish_reply(reply_q, body, timeout=timeout):
                    return True
                why = "the reply queue did not exist"  # returned unroutable
            except PublishNacked as exc:  # retry like a return
                log.warning("reply %s to %s nacked by the broker: %s", msg_id, reply_q, exc)
                why = "the reply queue did not exist"
            except PublishTimeout as exc:
                why = str(exc)
                break
            except TimeoutError:
                why = "the broker stayed unreachable"
                break
            except AmqpError as exc:
                # Our connection went down under the publish. The caller's reply queue lives
                # on the caller's connection: send again once ours is back.
                log.info("reply %s waits for the broker connection: %s", msg_id, exc)
                why = "the broker stayed unreachable"
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(_RETRY_INTERVAL)
        if why == "the reply queue did not exist":
            self._obsolete.add(reply_q)
        log.warning(
            "reply %s to %s dropped after %.0f s: %s",
            msg_id,
            reply_q,
            self._missing_queue_timeout,
            why,
        )
        return False

    async def heartbeat_until_done(self, reply_q: str, msg_id: str, interval: float) -> None:
        """Call-monitor heartbeats (`ending: false`) every interval; cancelled by the caller."""
        while True:
            await asyncio.sleep(interval)
            await self.send(reply_q, msg_id, None, None, ending=False)
