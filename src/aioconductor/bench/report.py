"""Results as JSON, CSV, a markdown table and PNG plots."""

from __future__ import annotations

import csv
import json
import platform
from pathlib import Path
from typing import Any

from aioconductor.bench.stats import RunResult

COLUMNS = [
    "target",
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
]


def host_facts() -> dict[str, Any]:
    import os

    from aioconductor import NOVA_RELEASE, __version__

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "aioconductor": __version__,
        "nova": NOVA_RELEASE,
    }


def markdown(results: list[RunResult]) -> str:
    head = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS) + "\n"
    rows = "".join(
        "| " + " | ".join(str(r.to_dict()[c]) for c in COLUMNS) + " |\n" for r in results
    )
    return head + rows


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

    for workload in sorted({r.workload for r in results}):
        rows = [r for r in results if r.workload == workload]
        fig, (lat, cpu) = plt.subplots(1, 2, figsize=(13, 5))
        for target in dict.fromkeys(r.target for r in rows):
            series = sorted((r for r in rows if r.target == target), key=lambda r: r.concurrency)
            lat.plot(
                [r.concurrency for r in series],
                [r.p50_ms for r in series],
                marker="o",
                label=target,
            )
        lat.set(
            xlabel="concurrent callers (N)",
            ylabel="median latency (ms)",
            yscale="log",
            title=f"{workload}: median RPC latency",
        )
        lat.legend(fontsize=8)
        targets = list(dict.fromkeys(r.target for r in rows))
        per_rpc = [
            sum(r.target_cpu_ms_per_rpc * r.calls for r in rows if r.target == t)
            / max(1, sum(r.calls for r in rows if r.target == t))
            for t in targets
        ]
        cpu.barh(targets, per_rpc)
        cpu.set(xlabel="target CPU ms per RPC (all N)", title=f"{workload}: CPU per RPC")
        fig.tight_layout()
        fig.savefig(out / f"{workload}.png", dpi=110)
        plt.close(fig)
