"""Closed-loop workloads: N concurrent callers, each waiting for its reply before the next.

A caller may also pause between its calls (think time). Without a pause the loop measures a
saturated target, where the median latency is simply N over the throughput; with the pause of
a compute doing its own work between calls, it asks whether latency stays flat as callers are
added while the target still has room.
"""

from __future__ import annotations

import asyncio
import copy
import resource
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aioconductor.bench.loadgen import RpcFailed, WireClient

Call = Callable[[WireClient, int], Awaitable[Any]]


async def ping(client: WireClient, caller: int) -> Any:
    return await client.call("ping", {"arg": caller}, namespace="baseapi", version="1.0")


class Heartbeats:
    """Service.save as nova-compute's report_state sends it, one service per caller."""

    def __init__(self, services: list[dict[str, Any]]) -> None:
        self.services = services

    async def __call__(self, client: WireClient, caller: int) -> Any:
        service = self.services[caller % len(self.services)]
        service["nova_object.data"]["report_count"] += 1
        objinst = copy.copy(service)
        objinst["nova_object.changes"] = ["report_count"]
        updates, _ = await client.call(
            "object_action", {"objinst": objinst, "objmethod": "save", "args": [], "kwargs": {}}
        )
        service["nova_object.data"].update(
            {k: v for k, v in updates.items() if k != "obj_what_changed"}
        )


@dataclass
class Measured:
    latencies: list[float]
    errors: int
    seconds: float
    loadgen_cpu: float
    # the largest share of one core any generator process used: above ~0.85 it is the limit
    busiest: float = 0.0
    errors_by_call: dict[str, int] = field(default_factory=dict)


def measured(latencies: list[float], errors: int, seconds: float, cpu: float) -> Measured:
    return Measured(latencies, errors, seconds, cpu, cpu / seconds if seconds else 0.0)


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def closed_loop(
    client: WireClient, call: Call, callers: Sequence[int], seconds: float, think: float = 0.0
) -> Measured:
    """Each numbered caller (all of a level's, or this process's share) loops for `seconds`,
    pausing `think` seconds after each reply."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds

    async def caller(index: int) -> None:
        nonlocal errors
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                await call(client, index)
            except (RpcFailed, TimeoutError):
                errors += 1
            else:
                latencies.append(time.perf_counter() - started)
            if think:
                await asyncio.sleep(think)

    cpu0, t0 = own_cpu(), time.monotonic()
    await asyncio.gather(*(caller(i) for i in callers))
    return measured(latencies, errors, time.monotonic() - t0, own_cpu() - cpu0)
