"""A nova-scheduler stand-in for the `bootrequests` workload, in a process of its own.

It consumes the `scheduler` topic queue (as nova-scheduler's RPC server does; several of
these processes share it round-robin) and answers `select_destinations` from a host list:
for each instance the next host, with the following ones as alternates when the conductor
asks for them. The Selection primitives are nova's own (serialised by nova's serializer when
the pool was made); the reply is the single `ending` message oslo's server sends. It does on
asyncio and plain JSON what nova's scheduler spends milliseconds on, so the conductor is what
the workload measures.

    python -m aioconductor.bench.boot_scheduler URL EXCHANGE SELECTIONS_JSON OFFSET ALTERNATES

prints "ready" once consuming, and on SIGTERM one JSON line: how many requests it answered
and how many it could not.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import Any

from pamqp import commands

from aioconductor.config.settings import parse_transport_url
from aioconductor.messaging.amqp import frames
from aioconductor.messaging.amqp.connection import Connection, Delivery
from aioconductor.messaging.envelope import encode_reply

TOPIC = "scheduler"


class Chooser:
    """Hosts dealt round-robin from `offset` (each process its own), alternates following."""

    def __init__(self, selections: dict[str, Any], offset: int, alternates: int) -> None:
        if not selections:
            raise ValueError("no hosts to choose from")
        self.selections = list(selections.values())
        self.next = offset
        self.alternates = alternates

    def answer(self, args: dict[str, Any]) -> list[list[Any]]:
        """select_destinations' result: a list of Selection primitives per instance uuid
        (one more per alternate with return_alternates, as nova's scheduler answers)."""
        hosts = len(self.selections)
        extra = min(self.alternates, hosts - 1) if args.get("return_alternates") else 0
        answer = []
        for _ in args.get("instance_uuids") or [None]:
            first = self.next
            self.next += 1
            answer.append([self.selections[(first + k) % hosts] for k in range(1 + extra)])
        return answer


def request_of(body: bytes) -> dict[str, Any]:
    envelope = json.loads(body)
    inner = json.loads(envelope["oslo.message"]) if "oslo.message" in envelope else envelope
    return inner  # type: ignore[no-any-return]


class StandIn:
    def __init__(self, url: str, exchange: str, chooser: Chooser) -> None:
        self.url, self.exchange, self.chooser = url, exchange, chooser
        self.answered = 0
        self.refused: dict[str, int] = {}

    async def start(self) -> None:
        endpoint = parse_transport_url(self.url)[0][0]
        self.connection = await Connection.open(
            endpoint.host, endpoint.port, username=endpoint.username,
            password=endpoint.password.get_secret_value(), virtual_host=endpoint.virtual_host,
            heartbeat=60, name="aioconductor-bench-scheduler",
        )  # fmt: skip
        channel = self.channel = await self.connection.channel()
        # as oslo declares them with amqp_durable_queues = false
        await channel.call(commands.Exchange.Declare(exchange=self.exchange, exchange_type="topic"))
        await channel.call(commands.Queue.Declare(queue=TOPIC))
        await channel.call(
            commands.Queue.Bind(queue=TOPIC, exchange=self.exchange, routing_key=TOPIC)
        )
        self._content = frames.ContentTemplate(
            channel.id,
            commands.Basic.Properties(content_type="application/json", content_encoding="utf-8"),
        )
        await channel.consume(TOPIC, self._on_request, no_ack=True)

    def _on_request(self, delivery: Delivery) -> None:
        inner = request_of(delivery.body)
        method = str(inner.get("method"))
        reply_q, msg_id = inner.get("_reply_q"), inner.get("_msg_id")
        if method != "select_destinations" or not reply_q or not msg_id:
            self.refused[method] = self.refused.get(method, 0) + 1
            return
        body = encode_reply(msg_id, self.chooser.answer(inner["args"]), None, ending=True)
        publish = frames.method(
            self.channel.id, commands.Basic.Publish(exchange="", routing_key=reply_q)
        )
        self.channel.publish_unconfirmed(publish, self._content, body)
        self.answered += 1

    async def close(self) -> None:
        await self.connection.close()


async def _main(argv: list[str], selections: dict[str, Any]) -> None:
    url, exchange, _, offset, alternates = argv
    stand_in = StandIn(url, exchange, Chooser(selections, int(offset), int(alternates)))
    await stand_in.start()
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    print("ready", flush=True)
    stopped: asyncio.Future[object] = asyncio.ensure_future(done.wait())
    lost: asyncio.Future[object] = stand_in.connection.closed  # type: ignore[assignment]
    # a broker or vhost gone ends it too: nothing would reach it any more
    await asyncio.wait([stopped, lost], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not stand_in.connection.closed.done():
        await stand_in.close()
    print(json.dumps({"answered": stand_in.answered, "refused": stand_in.refused}), flush=True)


if __name__ == "__main__":
    with open(sys.argv[3]) as f:
        asyncio.run(_main(sys.argv[1:], json.load(f)))
