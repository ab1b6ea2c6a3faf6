"""Latency percentiles and per-run results."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from aioconductor.bench.host import NOTHING, HostUse


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


# a generator process above this share of a core may be what limits the rate
SATURATED = 0.85
# below this share of idle time on all cores together the machine itself is the limit
MACHINE_BUSY = 0.25


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
    database_cpu_ms_per_rpc: float = 0.0
    broker_cpu_ms_per_rpc: float = 0.0
    host_idle_pct: float | None = None  # None: not measured (rows from older runs)
    host_steal_pct: float | None = None
    # what set the rate: generator, target, database, broker, machine, or none (waits)
    limit: str = ""
    # bootstorm-paced: each caller's pause after a reply (0: back to back)
    think_ms: float = 0.0
    # --cpu-per-worker: the cores' worth of CPU time the target's processes shared (None: no quota)
    target_cpu_quota: float | None = None
    # --db-socket: the target reached MariaDB over its Unix socket, not TCP
    db_socket: bool = False

    @property
    def db_route(self) -> str:
        """How the target reached MariaDB: "direct" (TCP), "socket", or the relay's delay."""
        if self.db_socket:
            return "socket"
        return "direct" if self.db_delay_ms is None else f"{self.db_delay_ms:g} ms"

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
    host: HostUse = NOTHING,
    workers: int = 1,
    cpu_quota: float | None = None,
    db_socket: bool = False,
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
        database_cpu_ms_per_rpc=round(host.database_cpu * 1000 / per, 3),
        broker_cpu_ms_per_rpc=round(host.broker_cpu * 1000 / per, 3),
        host_idle_pct=None if host is NOTHING else round(host.idle_share * 100, 1),
        host_steal_pct=None if host is NOTHING else round(host.steal_share * 100, 1),
        limit=""
        if host is NOTHING
        else what_limits(
            seconds, target_cpu, workers if cpu_quota is None else cpu_quota, loadgen_busiest, host
        ),
        target_cpu_quota=cpu_quota,
        db_socket=db_socket,
    )


def what_limits(
    seconds: float, target_cpu: float, cores: float, loadgen_busiest: float, host: HostUse
) -> str:
    """The first resource found saturated during a level, or "none" when nothing was (then
    waits set the rate: round trips to a delayed database, or too few callers). `cores`: what
    the target may use, a core per worker or its CPU quota."""
    if not seconds:
        return "none"
    if loadgen_busiest > SATURATED:
        return "generator"
    # a core the hypervisor takes a share of is that much smaller
    core = SATURATED * (1 - host.steal_share)
    if target_cpu / seconds > core * cores:
        return "target"
    if host.database_cpu / seconds > core:
        return "database"
    if host.broker_cpu / seconds > core:
        return "broker"
    if host.idle_share < MACHINE_BUSY:
        # several processes share the cores: run queues form before any one of them is full
        return "machine"
    return "none"
