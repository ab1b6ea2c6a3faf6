"""HTTP clients for the stack's nova-api and placement (stdlib only), and the one broker
question the stack asks: does anyone consume a queue yet."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import aio_pika

# 2.37: `"networks": "none"`; 2.21: actions of deleted servers; 2.51: events for admins
NOVA_MICROVERSION = "2.60"
PLACEMENT_MICROVERSION = "1.39"


class HttpError(Exception):
    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url}: {status} {body[:500]}")
        self.status = status


@dataclass(frozen=True)
class JsonApi:
    """A JSON API at `base`; nova-api and placement are told apart by their headers."""

    base: str
    headers: tuple[tuple[str, str], ...]
    timeout: float = 60.0

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        for name, value in self.headers:
            request.add_header(name, value)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                text = answer.read().decode()
        except urllib.error.HTTPError as failure:
            raise HttpError(method, path, failure.code, failure.read().decode()) from None
        return json.loads(text) if text else None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def answers(self) -> bool:
        """Whether the server answers its root document at all (up, application loaded)."""
        try:
            urllib.request.urlopen(f"{self.base}/", timeout=5).close()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True


# 2.62: the host of each instance action event (which compute built, which failed first)
EVENT_HOSTS_MICROVERSION = "2.62"


def nova_api(base: str, microversion: str = NOVA_MICROVERSION) -> JsonApi:
    return JsonApi(
        f"{base}/v2.1",
        (
            ("OpenStack-API-Version", f"compute {microversion}"),
            ("X-OpenStack-Nova-API-Version", microversion),
        ),
    )


def placement_api(base: str) -> JsonApi:
    return JsonApi(
        base,
        (
            ("OpenStack-API-Version", f"placement {PLACEMENT_MICROVERSION}"),
            ("X-Auth-Token", "admin:admin"),
        ),
    )


def queue_consumers(amqp_url: str, queue: str) -> int:
    """How many consumers `queue` has (0 when it does not exist yet)."""
    return asyncio.run(_consumers(amqp_url, queue))


async def _consumers(amqp_url: str, queue: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        try:
            declared = await channel.declare_queue(queue, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return 0
        result = declared.declaration_result
        return int(result.consumer_count or 0)
    finally:
        await connection.close()
