"""Latency percentiles and per-run results."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


# a generator process above this share of a core may be what limits the rate
SATURATED = 0.85


@dataclass(frozen=True)
class RunResult:
    target: str
    workload: str
    concurrency: int
    calls: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rpc_per_s: float
    target_cpu_ms_per_rpc: float
    target_rss_mb: float
    loadgen_cpu_ms_per_rpc: float
    # None: the target talks to MariaDB directly; a number: through the delaying relay
    db_delay_ms: float | None = None
    relay_cpu_ms_per_rpc: float = 0.0
    loadgen_procs: int = 1
    # the largest share of one core a generator process used (rows from older runs: 0)
    loadgen_busiest: float = 0.0

    @property
    def loadgen_saturated(self) -> bool:
        return self.loadgen_busiest > SATURATED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(
    *,
    target: str,
    workload: str,
    concurrency: int,
    latencies: list[float],
    errors: int,
    seconds: float,
    target_cpu: float,
    target_rss: float,
    loadgen_cpu: float,
    db_delay_ms: float | None = None,
    relay_cpu: float = 0.0,
    loadgen_procs: int = 1,
    loadgen_busiest: float = 0.0,
) -> RunResult:
    ordered = sorted(latencies)
    calls = len(ordered)
    per = max(calls, 1)
    return RunResult(
        target=target,
        workload=workload,
        concurrency=concurrency,
        calls=calls,
        errors=errors,
        seconds=round(seconds, 3),
        p50_ms=round(percentile(ordered, 50) * 1000, 3),
        p95_ms=round(percentile(ordered, 95) * 1000, 3),
        p99_ms=round(percentile(ordered, 99) * 1000, 3),
        rpc_per_s=round(calls / seconds, 1) if seconds else 0.0,
        target_cpu_ms_per_rpc=round(target_cpu * 1000 / per, 3),
        target_rss_mb=round(target_rss / 1e6, 1),
        loadgen_cpu_ms_per_rpc=round(loadgen_cpu * 1000 / per, 3),
        db_delay_ms=db_delay_ms,
        relay_cpu_ms_per_rpc=round(relay_cpu * 1000 / per, 3),
        loadgen_procs=loadgen_procs,
        loadgen_busiest=round(loadgen_busiest, 3),
    )
