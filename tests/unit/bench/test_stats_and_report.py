"""The harness's arithmetic and report files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from aioconductor.bench.host import HostUse
from aioconductor.bench.report import markdown, source_commit, worker_scaling, write
from aioconductor.bench.stats import RunResult, percentile, summarise


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 95) == 7.0


def test_summary_per_rpc_figures() -> None:
    result = summarise(
        target="t",
        workload="w",
        concurrency=4,
        latencies=[0.001] * 1000,
        errors=2,
        seconds=2.0,
        target_cpu=1.5,
        target_rss=50e6,
        loadgen_cpu=0.5,
    )
    assert result.rpc_per_s == 500.0
    assert result.target_cpu_ms_per_rpc == 1.5
    assert result.loadgen_cpu_ms_per_rpc == 0.5
    assert result.p50_ms == pytest.approx(1.0)
    assert result.errors == 2


def test_report_files(tmp_path: Path) -> None:
    results = [
        summarise(
            target=t,
            workload="ping",
            concurrency=n,
            latencies=[0.002, 0.003],
            errors=0,
            seconds=1.0,
            target_cpu=0.001,
            target_rss=1e6,
            loadgen_cpu=0.001,
        )
        for t in ("a", "b")
        for n in (1, 10)
    ]
    write(results, tmp_path, "aioconductor bench --x")
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["command"] == "aioconductor bench --x"
    assert payload["host"]["nova"] == "34.0.0"
    assert payload["host"]["calibration_loop_ms"] > 0  # runs on different days compare by it
    # the code measured, which the version number alone does not tell
    assert payload["host"]["aioconductor_commit"] == source_commit()
    assert len(payload["results"]) == 4
    assert (tmp_path / "ping.png").stat().st_size > 1000
    assert markdown(results).count("\n") == 2 + 4


def test_results_name_the_commit_measured_and_say_when_it_was_changed(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "code.py").write_text("x = 1\n")
    assert source_commit(package) is None  # not a checkout
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    head = git("rev-parse", "--short=12", "HEAD")
    assert source_commit(package) == head
    (package / "code.py").write_text("x = 2\n")
    assert source_commit(package) == f"{head}+changes"


@pytest.mark.parametrize(
    ("busy", "workers", "expected"),
    [
        ({"generator": 0.95}, 1, "generator"),
        ({"target": 1.9}, 1, "target"),  # 0.95 of a core for one worker
        ({"target": 1.9}, 2, "none"),  # two workers at half a core each have room
        ({"database": 1.8}, 1, "database"),
        ({"broker": 1.9}, 1, "broker"),
        ({"idle": 0.05}, 1, "machine"),
        ({"idle": 0.2}, 1, "machine"),
        ({}, 1, "none"),
        ({"target": 1.5, "steal": 0.2}, 1, "target"),  # 0.75 of a core, a fifth of it stolen
        ({"target": 1.5}, 1, "none"),
    ],
)
def test_the_level_names_what_limited_it(
    busy: dict[str, float], workers: int, expected: str
) -> None:
    host = HostUse(
        database_cpu=busy.get("database", 0.2),
        broker_cpu=busy.get("broker", 0.2),
        idle_share=busy.get("idle", 0.6),
        steal_share=busy.get("steal", 0.0),
    )
    result = summarise(
        target="t", workload="w", concurrency=40, latencies=[0.01] * 100, errors=0,
        seconds=2.0, target_cpu=busy.get("target", 0.5), target_rss=0.0, loadgen_cpu=0.1,
        loadgen_busiest=busy.get("generator", 0.1), host=host, workers=workers,
    )  # fmt: skip
    assert result.limit == expected
    assert result.host_idle_pct == round(host.idle_share * 100, 1)
    assert result.database_cpu_ms_per_rpc == round(host.database_cpu * 10, 3)


def test_a_target_at_its_cpu_quota_is_the_limit() -> None:
    # 0.45 of a core over 2 s: idle for two workers, the whole of a 0.5-core quota
    host = HostUse(database_cpu=0.2, broker_cpu=0.2, idle_share=0.6, steal_share=0.0)

    def level(cpu_quota: float | None) -> RunResult:
        return summarise(
            target="t", workload="w", concurrency=40, latencies=[0.01] * 100, errors=0,
            seconds=2.0, target_cpu=0.9, target_rss=0.0, loadgen_cpu=0.1, host=host, workers=2,
            cpu_quota=cpu_quota,
        )  # fmt: skip

    assert level(None).limit == "none"
    assert level(0.5).limit == "target"
    assert level(0.5).target_cpu_quota == 0.5


def test_worker_counts_of_one_family_are_shown_as_scaling(tmp_path: Path) -> None:
    def level(target: str, n: int, calls: int) -> RunResult:
        return summarise(
            target=target, workload="bootstorm", concurrency=n, latencies=[0.01] * calls,
            errors=0, seconds=1.0, target_cpu=0.1, target_rss=1e6, loadgen_cpu=0.01,
        )  # fmt: skip

    results = [
        level("aioconductor-1w", 10, 100),
        level("aioconductor-1w", 40, 120),  # the best level counts
        level("aioconductor-2w", 40, 190),
        level("nova-threading-1w", 40, 12),  # one worker count: nothing to scale
    ]
    scaling = worker_scaling(results)
    assert list(scaling) == [("bootstorm", "aioconductor-Nw")]
    assert [(p.workers, p.rpc_per_s) for p in scaling[("bootstorm", "aioconductor-Nw")]] == [
        (1, 120.0),
        (2, 190.0),
    ]
    assert "| bootstorm | aioconductor-2w | 2 | 190 | 1.58 |" in markdown(results)
    write(results, tmp_path, "aioconductor bench --targets aioconductor-1w,aioconductor-2w")
    assert (tmp_path / "scaling-bootstorm.png").stat().st_size > 1000


@pytest.mark.parametrize(
    ("delay", "socket", "route"),
    [(None, False, "direct"), (None, True, "socket"), (1.0, False, "1 ms")],
)
def test_each_level_says_how_the_target_reached_the_database(
    delay: float | None, socket: bool, route: str
) -> None:
    result = summarise(
        target="t", workload="w", concurrency=1, latencies=[0.01], errors=0, seconds=1.0,
        target_cpu=0.1, target_rss=0.0, loadgen_cpu=0.0, db_delay_ms=delay, db_socket=socket,
    )  # fmt: skip
    assert result.db_route == route
    assert f"| t | {route} | w |" in markdown([result])
    assert "None" not in markdown([result])  # an unmeasured figure is an empty cell
