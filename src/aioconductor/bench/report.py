"""Results as JSON, CSV, a markdown table and PNG plots."""

from __future__ import annotations

import csv
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aioconductor.bench.stats import RunResult

COLUMNS = [
    "target",
    "db_delay_ms",
    "workload",
    "concurrency",
    "calls",
    "errors",
    "rpc_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "target_cpu_ms_per_rpc",
    "target_rss_mb",
    "loadgen_cpu_ms_per_rpc",
    "loadgen_procs",
    "loadgen_busiest",
    "relay_cpu_ms_per_rpc",
    "database_cpu_ms_per_rpc",
    "broker_cpu_ms_per_rpc",
    "host_idle_pct",
    "host_steal_pct",
    "limit",
    "target_cpu_quota",
    "db_socket",
]
FLEET_P99_LIMIT_MS = 100.0


def host_facts() -> dict[str, Any]:
    import os

    from aioconductor import NOVA_RELEASE, __version__

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "aioconductor": __version__,
        "aioconductor_commit": source_commit(),
        "nova": NOVA_RELEASE,
        "calibration_loop_ms": calibration_loop_ms(),
    }


def source_commit(package: Path = Path(__file__).parents[1]) -> str | None:
    """The commit of the checkout the package runs from, "+changes" when its tracked files
    differ from it (None outside a git checkout): runs of one version number can measure
    different code."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(package), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+changes" if changed else "")


def calibration_loop_ms() -> float:
    """CPU time of a fixed pure-Python loop: runs on slower or busier (stolen) cores show it,
    and their CPU-per-RPC figures scale with it."""
    started = time.process_time()
    total = 0
    for i in range(2_000_000):
        total += i
    return round((time.process_time() - started) * 1000, 1)


# in the markdown table the db_delay_ms column names the route, socket included
_MARKDOWN_COLUMNS = [c for c in COLUMNS if c != "db_socket"]


def _cell(result: RunResult, column: str) -> str:
    if column == "db_delay_ms":
        return result.db_route
    value = result.to_dict()[column]
    return "" if value is None else str(value)


def markdown(results: list[RunResult]) -> str:
    head = "| " + " | ".join(_MARKDOWN_COLUMNS) + " |\n|" + "---|" * len(_MARKDOWN_COLUMNS) + "\n"
    rows = "".join(
        "| " + " | ".join(_cell(r, c) for c in _MARKDOWN_COLUMNS) + " |\n" for r in results
    )
    return head + rows + fleet_summary(results) + scaling_summary(results) + boot_summary(results)


@dataclass(frozen=True)
class BootFigures:
    """One target's bootrequests levels in the two figures issue 23 sets goals on: CPU per
    boot (at most 1/5 of nova-conductor's) and a median that stays flat as N grows."""

    target: str
    boots: int
    cpu_ms_per_boot: float  # over all its levels, weighted by boots
    lowest: tuple[int, float]  # (N, median ms) at the lowest and highest N with boots
    highest: tuple[int, float]


def boot_figures(results: list[RunResult]) -> list[BootFigures]:
    by_target: dict[str, list[RunResult]] = {}
    for r in results:
        if r.workload == "bootrequests" and r.calls:
            by_target.setdefault(r.target, []).append(r)
    figures = []
    for target, rows in by_target.items():
        rows.sort(key=lambda r: r.concurrency)
        boots = sum(r.calls for r in rows)
        cpu = sum(r.target_cpu_ms_per_rpc * r.calls for r in rows) / boots
        figures.append(BootFigures(
            target, boots, round(cpu, 3), (rows[0].concurrency, rows[0].p50_ms),
            (rows[-1].concurrency, rows[-1].p50_ms),
        ))  # fmt: skip
    return figures


def boot_summary(results: list[RunResult]) -> str:
    figures = boot_figures(results)
    if not figures:
        return ""
    # the first nova target measured is what the others are compared with
    reference = next((f for f in figures if f.target.startswith("nova-")), None)
    versus = f"CPU vs {reference.target}" if reference else "CPU vs nova"
    lines = ["\nBoot requests, per target (CPU over all levels; median at the lowest and the "
             "highest N):\n",
             f"| target | boots | CPU ms/boot | {versus} | median at lowest N | "
             "median at highest N | highest / lowest |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for f in figures:
        ratio = f"{f.cpu_ms_per_boot / reference.cpu_ms_per_boot:.2f}" if reference else ""
        (n0, p0), (n1, p1) = f.lowest, f.highest
        flat = f"{p1 / p0:.2f}" if p0 else ""
        lines.append(f"| {f.target} | {f.boots} | {f.cpu_ms_per_boot:g} | {ratio} | "
                     f"{p0:g} ms (N={n0}) | {p1:g} ms (N={n1}) | {flat} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def fleet_capacity(results: list[RunResult]) -> dict[tuple[str, str], int]:
    """Largest fleet size per (target, DB delay) served with p99 under the limit, no errors."""
    best: dict[tuple[str, str], int] = {}
    for r in results:
        if r.workload != "fleet":
            continue
        key = (r.target, r.db_route)
        best.setdefault(key, 0)
        if r.errors == 0 and r.p99_ms < FLEET_P99_LIMIT_MS:
            best[key] = max(best[key], r.concurrency)
    return best


def fleet_summary(results: list[RunResult]) -> str:
    capacity = fleet_capacity(results)
    if not capacity:
        return ""
    lines = [f"\nLargest fleet served with p99 < {FLEET_P99_LIMIT_MS:g} ms:\n",
             "| target | DB | computes |", "|---|---|---|"]  # fmt: skip
    lines += [f"| {t} | {d} | {m} |" for (t, d), m in capacity.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ScalingPoint:
    workers: int
    target: str
    rpc_per_s: float  # the best level's
    limit: str  # at that level


def worker_scaling(results: list[RunResult]) -> dict[tuple[str, str], list[ScalingPoint]]:
    """Per (workload, family: the target name without its worker count), each worker count's
    best RPC/s, for families measured at two or more worker counts (fleets excluded)."""
    from aioconductor.bench.targets import target_spec

    best: dict[tuple[str, str], dict[int, RunResult]] = {}
    for r in results:
        if r.workload == "fleet":
            continue
        try:
            workers = target_spec(r.target).workers
        except ValueError:  # "external", or a name from an older run
            continue
        family = r.target.replace(f"-{workers}w", "-Nw", 1)
        if r.db_route != "direct":
            family += f" (DB {r.db_route})"
        counts = best.setdefault((r.workload, family), {})
        if workers not in counts or r.rpc_per_s > counts[workers].rpc_per_s:
            counts[workers] = r
    return {
        key: [ScalingPoint(w, r.target, r.rpc_per_s, r.limit) for w, r in sorted(counts.items())]
        for key, counts in best.items()
        if len(counts) > 1
    }


def scaling_summary(results: list[RunResult]) -> str:
    scaling = worker_scaling(results)
    if not scaling:
        return ""
    lines = ["\nWorker scaling (each worker count's best level):\n",
             "| workload | target | workers | RPC/s | vs the fewest workers | limit |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for (workload, _), points in scaling.items():
        base = points[0]
        lines += [
            f"| {workload} | {p.target} | {p.workers} | {p.rpc_per_s:g} | "
            f"{p.rpc_per_s / base.rpc_per_s if base.rpc_per_s else 0:.2f} | {p.limit} |"
            for p in points
        ]
    return "\n".join(lines) + "\n"


def write(results: list[RunResult], out: Path, command: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    payload = {"command": command, "host": host_facts(), "results": [r.to_dict() for r in results]}
    (out / "results.json").write_text(json.dumps(payload, indent=2) + "\n")
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(r.to_dict() for r in results)
    (out / "results.md").write_text(f"Command: `{command}`\n\n" + markdown(results))
    plot(results, out)


def plot(results: list[RunResult], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({(r.workload, r.db_route) for r in results})
    for workload, delay in groups:
        rows = [r for r in results if r.workload == workload and r.db_route == delay]
        fleet = workload == "fleet"
        fig, (lat, cpu) = plt.subplots(1, 2, figsize=(13, 5))
        for target in dict.fromkeys(r.target for r in rows):
            series = sorted((r for r in rows if r.target == target), key=lambda r: r.concurrency)
            lat.plot(
                [r.concurrency for r in series],
                [r.p99_ms if fleet else r.p50_ms for r in series],
                marker="o",
                label=target,
            )
        where = {"direct": "", "socket": ", DB over its Unix socket"}.get(
            delay, f", DB +{delay} each way"
        )
        paces = {r.think_ms for r in rows if r.think_ms}
        if len(paces) == 1:
            where = f", {paces.pop():g} ms between calls{where}"
        lat.set(
            xlabel="simulated computes (M)" if fleet else "concurrent callers (N)",
            ylabel="p99 latency (ms)" if fleet else "median latency (ms)",
            yscale="log",
            title=f"{workload}{where}: {'p99' if fleet else 'median'} RPC latency",
        )
        if fleet:
            lat.axhline(FLEET_P99_LIMIT_MS, color="grey", linestyle="--", linewidth=1)
            lat.set_xscale("log")
        lat.legend(fontsize=8)
        targets = list(dict.fromkeys(r.target for r in rows))
        per_rpc = [
            sum(r.target_cpu_ms_per_rpc * r.calls for r in rows if r.target == t)
            / max(1, sum(r.calls for r in rows if r.target == t))
            for t in targets
        ]
        cpu.barh(targets, per_rpc)
        cpu.set(
            xlabel="target CPU ms per RPC (all levels)", title=f"{workload}{where}: CPU per RPC"
        )
        fig.tight_layout()
        suffix = "" if delay == "direct" else "-db" + delay.replace(" ms", "ms")  # -dbsocket
        fig.savefig(out / f"{workload}{suffix}.png", dpi=110)
        plt.close(fig)
    plot_scaling(results, out)


def plot_scaling(results: list[RunResult], out: Path) -> None:
    """RPC/s against workers, one line per family, with the line a perfect scaling would
    follow from its fewest workers: scaling-<workload>.png."""
    import matplotlib.pyplot as plt

    scaling = worker_scaling(results)
    for workload in dict.fromkeys(w for w, _ in scaling):
        fig, ax = plt.subplots(figsize=(7, 5))
        for (each, family), points in scaling.items():
            if each != workload:
                continue
            workers = [p.workers for p in points]
            line = ax.plot(workers, [p.rpc_per_s for p in points], marker="o", label=family)
            first = points[0]
            linear = [first.rpc_per_s * w / first.workers for w in workers]
            ax.plot(workers, linear, linestyle=":", color=line[0].get_color(), linewidth=1)
        quotas = {r.target_cpu_quota for r in results if r.workload == workload}
        note = "" if quotas == {None} else " (CPU quota per worker)"
        counts = sorted({p.workers for (w, _), ps in scaling.items() if w == workload for p in ps})
        ax.set(
            xlabel=f"workers{note}",
            ylabel="best RPC/s",
            xscale="log",
            yscale="log",
            title=f"{workload}: RPC/s by workers (dotted: linear from the fewest)",
        )
        ax.set_xticks(counts, [str(c) for c in counts])
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / f"scaling-{workload}.png", dpi=110)
        plt.close(fig)
