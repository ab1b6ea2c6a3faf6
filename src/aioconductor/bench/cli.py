"""`aioconductor bench`: run workloads against each target and write results."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aioconductor.bench import workloads
from aioconductor.bench.loadgen import WireClient
from aioconductor.bench.stats import RunResult, summarise
from aioconductor.bench.targets import TARGETS, RunningTarget

AMQP = "amqp://guest:guest@127.0.0.1:5672/"


def progress(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def _drive(
    client: WireClient,
    target: RunningTarget | None,
    name: str,
    workload: str,
    call: workloads.Call,
    levels: list[int],
    seconds: float,
) -> list[RunResult]:
    results = []
    await workloads.closed_loop(client, call, max(levels), 1.0)  # warm-up
    for n in levels:
        cpu0 = target.cpu_seconds() if target else 0.0
        measured = await workloads.closed_loop(client, call, n, seconds)
        result = summarise(
            target=name,
            workload=workload,
            concurrency=n,
            latencies=measured.latencies,
            errors=measured.errors,
            seconds=measured.seconds,
            target_cpu=(target.cpu_seconds() - cpu0) if target else 0.0,
            target_rss=target.rss_bytes() if target else 0.0,
            loadgen_cpu=measured.loadgen_cpu,
        )
        busy = measured.loadgen_cpu / measured.seconds
        progress(
            f"{name} {workload} N={n}: {result.rpc_per_s} rpc/s p50 {result.p50_ms} ms "
            f"cpu {result.target_cpu_ms_per_rpc} ms/rpc"
            + (" (LOAD GENERATOR SATURATED)" if busy > 0.85 else "")
        )
        results.append(result)
    return results


async def _run_target(name: str, args: argparse.Namespace, workdir: Path) -> list[RunResult]:
    from aioconductor.bench.seed import build_database
    from aioconductor.novaenv import drop_database

    db = f"aioc_bench_{uuid.uuid4().hex[:8]}"
    exchange = f"aioc_bench_{uuid.uuid4().hex[:8]}"
    progress(f"{name}: building database {db} (nova-manage db sync) with {args.computes} computes")
    services = build_database(db, args.computes)
    target = RunningTarget(TARGETS[name], exchange, db, workdir)
    try:
        async with WireClient(AMQP, exchange) as client:
            await client.wait_ready(time.monotonic() + 120)
            progress(f"{name}: ready")
            results: list[RunResult] = []
            for workload in args.workloads:
                call: workloads.Call = (
                    workloads.ping if workload == "ping" else workloads.Heartbeats(services)
                )
                results += await _drive(
                    client, target, name, workload, call, args.levels, args.duration
                )
            return results
    finally:
        target.stop()
        drop_database(db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aioconductor bench", description=__doc__)
    parser.add_argument(
        "--targets",
        default="aioconductor-1w,nova-threading-1w",
        help="comma list of: " + ", ".join(TARGETS),
    )
    parser.add_argument("--workloads", default="ping,heartbeat", help="ping, heartbeat")
    parser.add_argument("--concurrency", default="1,2,5,10,20,40")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per level")
    parser.add_argument("--computes", type=int, default=40, help="services to heart-beat")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument(
        "--external",
        metavar="AMQP_URL",
        help="drive an already running conductor (ping only), e.g. in compose",
    )
    parser.add_argument("--exchange", default="nova", help="with --external")
    args = parser.parse_args(argv)
    args.levels = [int(n) for n in args.concurrency.split(",")]
    args.workloads = args.workloads.split(",")
    command = "aioconductor bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    if args.external:

        async def external() -> list[RunResult]:
            async with WireClient(args.external, args.exchange) as client:
                await client.wait_ready(time.monotonic() + 120)
                return await _drive(
                    client, None, "external", "ping", workloads.ping, args.levels, args.duration
                )

        results = asyncio.run(external())
    else:
        unknown = [t for t in args.targets.split(",") if t not in TARGETS]
        if unknown:
            parser.error(f"unknown target {unknown[0]!r}")
        results = []
        with tempfile.TemporaryDirectory(prefix="aioc-bench-") as tmp:
            for name in args.targets.split(","):
                results += asyncio.run(_run_target(name, args, Path(tmp)))
    from aioconductor.bench.report import markdown, write

    write(results, args.out, command)
    print(markdown(results))
    progress(f"results in {args.out}/")
    return 0
