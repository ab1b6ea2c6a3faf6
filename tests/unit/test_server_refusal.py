"""A message that fails anywhere before dispatch is rejected, whatever the failure.

The server is driven with in-memory deliveries: what the broker would be told (ack, reject,
nack) is recorded on them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from aioconductor.config.settings import load_settings
from aioconductor.messaging import server as server_module
from aioconductor.messaging.dispatcher import Dispatcher
from aioconductor.messaging.server import RpcServer


class FakeDelivery:
    exchange = "nova"
    message_id = "fake-1"

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.settled: list[str] = []

    async def ack(self) -> None:
        self.settled.append("ack")

    async def nack(self, requeue: bool = True) -> None:
        self.settled.append(f"nack(requeue={requeue})")

    async def reject(self, requeue: bool = False) -> None:
        self.settled.append(f"reject(requeue={requeue})")


def body(inner: dict[str, Any]) -> bytes:
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()


PING = {"method": "ping", "namespace": "baseapi", "args": {}, "_msg_id": "m", "_reply_q": "r"}


@pytest.fixture
def server() -> RpcServer:
    return RpcServer(load_settings([], env={}), Dispatcher([]))


async def test_an_unexpected_decode_failure_rejects_and_answers(
    server: RpcServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_decoder(body: bytes, max_bytes: int) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    sent: list[tuple[str, str, Any, str | None]] = []

    async def send(reply_q: str, msg_id: str, result: Any, failure: str | None) -> bool:
        sent.append((reply_q, msg_id, result, failure))
        return True

    monkeypatch.setattr(server_module, "decode_request", broken_decoder)
    monkeypatch.setattr(server.replies, "send", send)
    message = FakeDelivery(body(PING))
    await server._serve(message)  # type: ignore[arg-type]
    assert message.settled == ["reject(requeue=False)"]
    assert [(q, m) for q, m, _, _ in sent] == [("r", "m")]
    failure = json.loads(sent[0][3] or "{}")
    assert failure["class"] == "InvalidRequest"
    assert "RecursionError" in failure["message"]


async def test_a_failing_describe_rejects_before_any_ack(server: RpcServer) -> None:
    def broken_describe(request: Any) -> str:
        raise TypeError("unhashable")

    server._describe = broken_describe
    message = FakeDelivery(body({**PING, "_reply_q": None}))
    await server._serve(message)  # type: ignore[arg-type]
    assert message.settled == ["reject(requeue=False)"]


async def test_a_refusal_whose_answer_cannot_be_sent_still_rejects(
    server: RpcServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def send(reply_q: str, msg_id: str, result: Any, failure: str | None) -> bool:
        raise ConnectionError("the reply channel is gone")

    monkeypatch.setattr(server.replies, "send", send)
    message = FakeDelivery(body({**PING, "method": 7}))  # invalid: the method is not a string
    with caplog.at_level(logging.WARNING):
        await server._serve(message)  # type: ignore[arg-type]
    assert message.settled == ["reject(requeue=False)"]
    assert "could not tell r why" in caplog.text
    assert server.status.in_flight == 0
