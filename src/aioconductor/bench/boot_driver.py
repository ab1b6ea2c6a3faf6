"""The `bootrequests` workload's load: boot request casts paced at N in flight, and the compute
stand-ins that consume the conductor's `build_and_run_instance` casts.

Each of the N slots casts `schedule_and_build_instances` for the next boot of the pool (nova's
own bytes, its identifiers swapped), waits for the cast the conductor sends to the chosen
compute's queue, and only then casts the next one. The latency of a boot is from its cast to
the arrival of its compute's cast, both read in this process. The compute stand-ins consume
their `compute.<host>` queues, as nova-compute's RPC server would, and only count and
timestamp what arrives (boot_ledger.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pamqp import commands

from aioconductor.bench.boot_ledger import Ledger
from aioconductor.bench.boot_pool import BootIdentity, BootTemplate, instance_uuid_of
from aioconductor.bench.workloads import Measured, measured, own_cpu
from aioconductor.config.settings import parse_transport_url
from aioconductor.messaging.amqp import frames
from aioconductor.messaging.amqp.connection import Connection, Delivery


class TargetExited(RuntimeError):
    pass


@dataclass
class LevelBoots:
    """The boots one level used, for the database check afterwards."""

    uuids: list[str]
    pool_exhausted: bool


class BootDriver:
    """Use as an async context manager around one target's levels."""

    def __init__(
        self,
        url: str,
        exchange: str,
        template: BootTemplate,
        boots: list[BootIdentity],
        hosts: list[str],
        arrival_timeout: float = 300.0,
        alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self.url, self.exchange = url, exchange
        self.template = template
        self.hosts = hosts
        self.arrival_timeout = arrival_timeout
        self.alive = alive  # the target still runs: a dead one fails the level at once
        self._pool: Iterator[BootIdentity] = iter(boots)
        self.ledger = Ledger()

    async def __aenter__(self) -> BootDriver:
        endpoint = parse_transport_url(self.url)[0][0]
        self._connection = await Connection.open(
            endpoint.host, endpoint.port, username=endpoint.username,
            password=endpoint.password.get_secret_value(), virtual_host=endpoint.virtual_host,
            heartbeat=60, name="aioconductor-bench-boots",
        )  # fmt: skip
        channel = self._channel = await self._connection.channel()
        await channel.call(commands.Exchange.Declare(exchange=self.exchange, exchange_type="topic"))
        for host in self.hosts:  # where nova-compute's RPC server on `host` would consume
            queue = f"compute.{host}"
            await channel.call(commands.Queue.Declare(queue=queue))
            await channel.call(
                commands.Queue.Bind(queue=queue, exchange=self.exchange, routing_key=queue)
            )
            await channel.consume(queue, self._on_compute_cast, no_ack=True)
        self._publish = frames.method(
            channel.id, commands.Basic.Publish(exchange=self.exchange, routing_key="conductor")
        )
        # what oslo's rabbit driver sets on a cast (no expiration: casts have no timeout)
        self._content = frames.ContentTemplate(
            channel.id,
            commands.Basic.Properties(
                content_type="application/json", content_encoding="utf-8", delivery_mode=2
            ),
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._connection.close()

    def _on_compute_cast(self, delivery: Delivery) -> None:
        at = time.perf_counter()
        method, uuid = instance_uuid_of(delivery.body)
        host = delivery.routing_key.removeprefix("compute.")
        self.ledger.arrived(method, uuid, host, at)

    def _next(self) -> BootIdentity | None:
        return next(self._pool, None)

    async def level(
        self, concurrency: int, seconds: float, limit: int | None = None, think: float = 0.0
    ) -> tuple[Measured, LevelBoots]:
        """N slots for `seconds`, or until the pool runs out, or `limit` boots; the boots in
        flight at the end are waited for and counted. `think`: a slot's pause after each
        arrival before its next cast (0: back to back), drawn uniformly from 0.5 to 1.5 times
        `think` and each slot starting at a random point of its first pause: slots that all
        paused alike would stay in step and arrive in bursts of N, measuring the burst's
        queue rather than the conductor."""
        latencies: list[float] = []
        errors = 0
        used: list[str] = []
        exhausted = False
        stop_at = time.monotonic() + seconds

        jitter = random.Random(concurrency)  # the same schedule for every target

        async def slot() -> None:
            nonlocal errors, exhausted
            if think:
                await asyncio.sleep(jitter.uniform(0.0, think))
            while time.monotonic() < stop_at and (limit is None or len(used) < limit):
                boot = self._next()
                if boot is None:
                    exhausted = True
                    return
                body = self.template.cast_body(boot)
                used.append(boot.uuid)
                arrived = self.ledger.sent(boot.uuid, time.perf_counter())
                self._channel.publish_unconfirmed(self._publish, self._content, body)
                try:
                    latencies.append(await asyncio.wait_for(arrived, self.arrival_timeout))
                except TimeoutError:
                    errors += 1
                if think:
                    await asyncio.sleep(think * jitter.uniform(0.5, 1.5))

        cpu0, t0 = own_cpu(), time.monotonic()
        slots = asyncio.gather(*(slot() for _ in range(concurrency)))
        while not slots.done():
            await asyncio.wait([slots], timeout=1.0)
            if not slots.done() and not self.alive():
                slots.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await slots
                raise TargetExited(f"the target exited with {len(used)} boots cast")
        slots.result()  # a slot's error, if any
        result = measured(latencies, errors, time.monotonic() - t0, own_cpu() - cpu0)
        return result, LevelBoots(used, exhausted)
