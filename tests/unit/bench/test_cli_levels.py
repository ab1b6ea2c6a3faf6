"""A level's results say how the callers were paced."""

from __future__ import annotations

import argparse
import asyncio

from aioconductor.bench.cli import Meters, _workload
from aioconductor.bench.workloads import Measured


class OneCallEach:
    """A generator whose every caller made one 1 ms call."""

    async def closed(self, workload: str, concurrency: int, seconds: float) -> Measured:
        return Measured([0.001] * concurrency, 0, seconds, 0.0)

    async def fleet(self, computes: int, seconds: float) -> Measured:
        raise AssertionError("not a fleet")


def levels(workload: str) -> list[float]:
    args = argparse.Namespace(loadgen_procs=1, levels=[1, 2], duration=1.0, think_ms=100.0)
    results = asyncio.run(
        _workload("t", workload, OneCallEach(), args, Meters(None, None, None))  # type: ignore[arg-type]
    )
    assert [r.concurrency for r in results] == [1, 2]
    return [r.think_ms for r in results]


def test_paced_levels_carry_their_think_time() -> None:
    assert levels("bootstorm-paced") == [100.0, 100.0]


def test_back_to_back_levels_have_none() -> None:
    assert levels("bootstorm") == [0.0, 0.0]
