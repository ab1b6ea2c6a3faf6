"""Results from several generator processes merge into one level's figures."""

from __future__ import annotations

from aioconductor.bench.generators import merge
from aioconductor.bench.stats import summarise
from aioconductor.bench.workloads import Measured


def test_merged_processes_keep_every_latency_and_sum_their_cpu() -> None:
    a = Measured([0.001, 0.002], 1, 5.0, 2.0, busiest=0.4, errors_by_call={"Instance.save": 1})
    b = Measured([0.003], 2, 5.1, 4.5, busiest=0.9, errors_by_call={"Instance.save": 1, "X.y": 1})
    merged = merge([a, b])
    assert sorted(merged.latencies) == [0.001, 0.002, 0.003]
    assert merged.errors == 3
    assert merged.seconds == 5.1
    assert merged.loadgen_cpu == 6.5
    assert merged.busiest == 0.9  # one saturated process is enough to distrust the level
    assert merged.errors_by_call == {"Instance.save": 2, "X.y": 1}


def test_a_saturated_generator_process_is_flagged() -> None:
    def level(busiest: float) -> bool:
        return summarise(
            target="t", workload="w", concurrency=1, latencies=[0.001], errors=0, seconds=1.0,
            target_cpu=0.0, target_rss=0.0, loadgen_cpu=0.5, loadgen_procs=2,
            loadgen_busiest=busiest,
        ).loadgen_saturated  # fmt: skip

    assert level(0.95)
    assert not level(0.5)
