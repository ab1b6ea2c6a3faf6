"""The closed loop's callers: back to back, or with a compute's own work between calls."""

from __future__ import annotations

import asyncio
import time
from itertools import pairwise
from typing import Any

from aioconductor.bench.loadgen import RpcFailed
from aioconductor.bench.workloads import closed_loop


def test_think_time_spaces_each_callers_calls() -> None:
    calls: dict[int, list[float]] = {0: [], 1: []}

    async def call(_client: Any, caller: int) -> None:
        calls[caller].append(time.monotonic())
        if len(calls[caller]) == 2:  # a failed call is followed by the same pause
            raise RpcFailed("RemoteError: boom")

    measured = asyncio.run(closed_loop(None, call, [0, 1], 0.5, think=0.1))  # type: ignore[arg-type]
    assert measured.errors == 2
    for times in calls.values():
        assert 4 <= len(times) <= 6
        gaps = [b - a for a, b in pairwise(times)]
        assert min(gaps) >= 0.095


def test_without_think_time_callers_go_back_to_back() -> None:
    count = 0

    async def call(_client: Any, _caller: int) -> None:
        nonlocal count
        count += 1
        await asyncio.sleep(0)

    asyncio.run(closed_loop(None, call, [0], 0.1))  # type: ignore[arg-type]
    assert count > 100
