"""`aioconductor bench`: run workloads against each target and write results."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shlex
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from aioconductor.bench import workloads
from aioconductor.bench.boot_fixture import BootFixture, build_boot_fixture
from aioconductor.bench.boot_run import run_boot_target
from aioconductor.bench.fixture import Fixture, build_fixture, clone_database, scratch_dir
from aioconductor.bench.generators import (
    ClosedWorkload,
    Generator,
    InProcessGenerator,
    ProcessGenerators,
)
from aioconductor.bench.host import HostSample, HostUse
from aioconductor.bench.loadgen import WireClient
from aioconductor.bench.stats import RunResult, summarise
from aioconductor.bench.targets import (
    TARGETS,
    DatabaseAddress,
    Relay,
    RunningTarget,
    notification_queues,
    target_spec,
)
from aioconductor.bench.vhost import Vhost

AMQP = "amqp://guest:guest@127.0.0.1:5672/"
WORKLOADS = ("ping", "heartbeat", "bootstorm", "bootstorm-paced", "fleet", "bootrequests")
BOOT_REQUESTS = "bootrequests"  # the conductor alone on schedule_and_build_instances
FLEET_P99_LIMIT_MS = 100.0
STEAL_WARNING = 0.10


def progress(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


@dataclass
class Meters:
    """Where CPU is read from during one target's run."""

    target: RunningTarget | None
    relay: Relay | None
    delay_ms: float | None
    db_socket: bool = False  # the target reaches MariaDB over its Unix socket

    def cpu(self) -> tuple[float, float]:
        return (
            self.target.cpu_seconds() if self.target else 0.0,
            self.relay.cpu_seconds() if self.relay else 0.0,
        )


Measure = Callable[[int], Awaitable[workloads.Measured]]


async def _levels(
    name: str, workload: str, levels: list[int], meters: Meters, measure: Measure,
    stop: Callable[[RunResult], bool] | None = None, loadgen_procs: int = 1,
) -> list[RunResult]:  # fmt: skip
    results = []
    for n in levels:
        target0, relay0 = meters.cpu()
        host0 = HostSample.now()
        m = await measure(n)
        target1, relay1 = meters.cpu()
        host = HostUse.between(host0, HostSample.now())
        result = summarise(
            target=name, workload=workload, concurrency=n, latencies=m.latencies,
            errors=m.errors, seconds=m.seconds, target_cpu=target1 - target0,
            target_rss=meters.target.rss_bytes() if meters.target else 0.0,
            loadgen_cpu=m.loadgen_cpu, db_delay_ms=meters.delay_ms, relay_cpu=relay1 - relay0,
            loadgen_procs=loadgen_procs, loadgen_busiest=m.busiest, host=host,
            workers=meters.target.spec.workers if meters.target else 1,
            cpu_quota=meters.target.quota.cores if meters.target and meters.target.quota else None,
            db_socket=meters.db_socket,
        )  # fmt: skip
        where = "" if meters.delay_ms is None else f" db+{meters.delay_ms}ms"
        unit = "boot" if workload == BOOT_REQUESTS else "rpc"  # one boot request: casts
        progress(
            f"{name}{where} {workload} N={n}: {result.rpc_per_s} {unit}s/s p50 {result.p50_ms} "
            f"ms p95 {result.p95_ms} ms p99 {result.p99_ms} ms cpu "
            f"{result.target_cpu_ms_per_rpc} ms/{unit} errors {m.errors}"
            f" limit: {result.limit}, steal {result.host_steal_pct}%"
            + (" (LOAD GENERATOR SATURATED)" if result.loadgen_saturated else "")
        )
        if host.steal_share > STEAL_WARNING:
            progress("the hypervisor took over 10% of the cores: not comparable with a quiet run")
        if m.errors_by_call:
            progress(f"{name} {workload} N={n} errors by call: {m.errors_by_call}")
        results.append(result)
        if stop is not None and stop(result):
            break
    return results


async def _run_target(
    name: str, args: argparse.Namespace, fixture: Fixture, delay_ms: float | None, workdir: Path
) -> list[RunResult]:
    from aioconductor.novaenv import drop_database

    db = f"aioc_bench_{uuid.uuid4().hex[:8]}"
    exchange = f"aioc_bench_{uuid.uuid4().hex[:8]}"
    clone_database(fixture.database, db)
    relay = Relay(delay_ms) if delay_ms is not None else None
    database = DatabaseAddress(db, relay.port if relay else 3306, args.db_socket)
    notify_tag = exchange if args.notifications else None
    target = RunningTarget(
        target_spec(name),
        exchange,
        database,
        workdir,
        cpu_per_worker=args.cpu_per_worker,
        notify_tag=notify_tag,
    )
    meters = Meters(target, relay, delay_ms, db_socket=args.db_socket is not None)
    try:
        async with WireClient(AMQP, exchange) as client:
            await client.wait_ready(time.monotonic() + 180)
            progress(
                f"{name}: ready" + ("" if relay is None else f" (DB via relay +{delay_ms} ms)")
            )
            if args.loadgen_procs > 1:
                async with ProcessGenerators(
                    args.loadgen_procs, AMQP, exchange, fixture, args.compression, args.think
                ) as many:
                    return await _workloads(name, many, args, meters)
            one = InProcessGenerator(client, fixture, args.compression, args.think)
            return await _workloads(name, one, args, meters)
    finally:
        target.stop()
        if relay is not None:
            relay.stop()
        drop_database(db)
        if notify_tag is not None:  # nobody reads them: gone with the run
            async with WireClient(AMQP, exchange) as cleaner:
                await cleaner.delete_queues(notification_queues(notify_tag))


async def _workloads(
    name: str, generator: Generator, args: argparse.Namespace, meters: Meters
) -> list[RunResult]:
    results: list[RunResult] = []
    for workload in args.workloads:
        results += await _workload(name, workload, generator, args, meters)
    return results


async def _workload(
    name: str, workload: str, generator: Generator, args: argparse.Namespace, meters: Meters
) -> list[RunResult]:
    procs = args.loadgen_procs
    if workload == "fleet":

        async def computes(m: int) -> workloads.Measured:
            return await generator.fleet(m, args.fleet_seconds)

        def over(result: RunResult) -> bool:
            return result.errors > 0 or result.p99_ms >= FLEET_P99_LIMIT_MS

        return await _levels(name, workload, args.fleet_sizes, meters, computes, over, procs)
    closed: ClosedWorkload = workload  # type: ignore[assignment]

    async def callers(n: int) -> workloads.Measured:
        return await generator.closed(closed, n, args.duration)

    if not closed.startswith("bootstorm"):  # the boot pool is not spent on warming up
        await generator.closed(closed, max(args.levels), 1.0)
    results = await _levels(name, workload, args.levels, meters, callers, loadgen_procs=procs)
    if closed == "bootstorm-paced":
        return [dataclasses.replace(r, think_ms=args.think_ms) for r in results]
    return results


def _numbers(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aioconductor bench", description=__doc__)
    parser.add_argument(
        "--targets",
        default="aioconductor-1w,nova-threading-1w",
        help="comma list of <family>-<N>w: aioconductor (optionally -aiomysql), "
        "nova-threading, nova-eventlet-pymysql, nova-eventlet-mysqldb; e.g. " + ", ".join(TARGETS),
    )
    parser.add_argument("--workloads", default="bootstorm,fleet", help=", ".join(WORKLOADS))
    parser.add_argument("--concurrency", default="1,2,5,10,20,40", help="N for closed loops")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per level")
    parser.add_argument("--computes", type=int, default=20, help="compute hosts seeded")
    parser.add_argument("--running", type=int, default=2000, help="instances on the hosts")
    parser.add_argument("--boot-pool", type=int, default=3000, help="instances ready to boot")
    parser.add_argument("--fleet-sizes", default="10,20,50,100,200,400,800")
    parser.add_argument("--fleet-seconds", type=float, default=12.0, help="seconds per size")
    parser.add_argument("--compression", type=float, default=10.0,
                        help="fleet time compression (10: a heartbeat every second)")  # fmt: skip
    parser.add_argument(
        "--think-ms",
        type=float,
        default=100.0,
        help="bootstorm-paced: the compute's own work between a boot's calls, in ms (100: a "
        "boot's 22 calls span about 2.3 s, where a real boot takes tens of seconds)",
    )
    parser.add_argument(
        "--db-delay-ms",
        help="comma list of delays added each way between targets and MariaDB by a relay "
        "(e.g. 0,1: 0 is the control through the same relay); default: no relay",
    )
    parser.add_argument(
        "--loadgen-procs",
        type=int,
        default=1,
        help="load generator processes (callers and computes are dealt among them)",
    )
    parser.add_argument(
        "--cpu-per-worker",
        type=float,
        metavar="CORES",
        help="run each target in a cgroup limited to workers x CORES cores' worth of CPU (e.g. "
        "0.25): N workers on N small cores, to watch them scale on a small host (needs root)",
    )
    parser.add_argument(
        "--db-socket",
        metavar="PATH",
        help="targets reach MariaDB over this Unix socket instead of TCP to 127.0.0.1 (e.g. "
        "/run/mysqld/mysqld.sock): a database on the conductor's own host",
    )
    parser.add_argument(
        "--notifications",
        action="store_true",
        help="targets send nova's instance and service notifications (vm_and_task_state, "
        "both formats, messagingv2) to queues of the run's own, deleted at the end",
    )
    parser.add_argument(
        "--boot-requests",
        type=int,
        default=3000,
        help="bootrequests: boot requests prepared in the API database (the pool all levels "
        "of a target draw from; a level stops early when it runs out)",
    )
    parser.add_argument(
        "--boot-projects", type=int, default=20, help="bootrequests: projects the pool is dealt to"
    )
    parser.add_argument(
        "--boot-schedulers",
        type=int,
        default=1,
        help="bootrequests: scheduler stand-in processes answering select_destinations",
    )
    parser.add_argument(
        "--boot-think-ms",
        type=float,
        default=0.0,
        help="bootrequests: each of the N slots pauses this long after its boot's compute cast "
        "arrived before casting the next (0: back to back)",
    )
    parser.add_argument(
        "--boot-timeout",
        type=float,
        default=300.0,
        help="bootrequests: seconds a boot may take to reach its compute before it counts as "
        "an error",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument(
        "--external",
        metavar="AMQP_URL",
        help="drive an already running conductor (ping only), e.g. in compose",
    )
    parser.add_argument("--exchange", default="nova", help="with --external")
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="RESULTS_JSON",
        help="run nothing: combine earlier runs' results.json files into --out",
    )
    args = parser.parse_args(argv)
    if args.merge:
        return _merge(args.merge, args.out)
    if args.loadgen_procs < 1:
        parser.error("--loadgen-procs must be at least 1")
    if args.think_ms < 0:
        parser.error("--think-ms must not be negative")
    if args.cpu_per_worker is not None:
        _check_quota(parser, args.cpu_per_worker)
    if args.db_socket is not None:
        if args.db_delay_ms:
            parser.error("--db-socket and --db-delay-ms exclude each other (the relay is TCP)")
        if not Path(args.db_socket).is_socket():
            parser.error(f"--db-socket {args.db_socket}: no Unix socket there")
    args.think = args.think_ms / 1000
    args.levels = _numbers(args.concurrency)
    args.fleet_sizes = _numbers(args.fleet_sizes)
    args.workloads = args.workloads.split(",")
    bad = [w for w in args.workloads if w not in WORKLOADS]
    if bad:
        parser.error(f"unknown workload {bad[0]!r}")
    if BOOT_REQUESTS in args.workloads:
        for option in ("db_delay_ms", "db_socket", "notifications", "external"):
            if getattr(args, option):
                parser.error(f"{BOOT_REQUESTS} does not take --{option.replace('_', '-')}")
        if args.boot_requests < 10 or args.boot_projects < 1 or args.boot_schedulers < 1:
            parser.error("--boot-requests at least 10, --boot-projects and --boot-schedulers 1")
        if args.boot_think_ms < 0 or args.boot_timeout <= 0:
            parser.error("--boot-think-ms must not be negative, --boot-timeout positive")
    delays: list[float | None] = (
        [float(d) for d in args.db_delay_ms.split(",")] if args.db_delay_ms else [None]
    )
    command = "aioconductor bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    if args.external:
        results = asyncio.run(_external(args))
    else:
        for name in args.targets.split(","):
            try:
                target_spec(name)
            except ValueError as exc:
                parser.error(str(exc))
        results = _run_all(args, delays)
    from aioconductor.bench.report import markdown, write

    write(results, args.out, command)
    print(markdown(results))
    progress(f"results in {args.out}/")
    return 0


def _check_quota(parser: argparse.ArgumentParser, cores: float) -> None:
    """Refuse a quota this host cannot give before building anything."""
    from aioconductor.bench.cpu_quota import CpuQuota, QuotaUnavailable

    if not 0 < cores <= (os.cpu_count() or 1):
        parser.error("--cpu-per-worker must be above 0 and at most the host's cores")
    try:
        CpuQuota.create(cores).remove()
    except QuotaUnavailable as exc:
        parser.error(str(exc))


def _merge(files: list[Path], out: Path) -> int:
    import json

    from aioconductor.bench.report import markdown, write

    results: list[RunResult] = []
    commands = []
    for path in files:
        payload = json.loads(path.read_text())
        commands.append(payload["command"])
        results += [RunResult(**row) for row in payload["results"]]
    write(results, out, " && ".join(commands))
    print(markdown(results))
    return 0


def _run_all(args: argparse.Namespace, delays: list[float | None]) -> list[RunResult]:
    from aioconductor.novaenv import drop_database

    workdir = scratch_dir()
    others = [w for w in args.workloads if w != BOOT_REQUESTS]
    results: list[RunResult] = []
    with ExitStack() as cleanup:
        boots = None
        if BOOT_REQUESTS in args.workloads:  # first: it may find it has no vhost of its own
            boots = _boot_fixture(args, workdir, cleanup)
        fixture = None
        if others:
            name = f"aioc_fixture_{uuid.uuid4().hex[:8]}"
            progress(f"building the fixture {name}: nova-manage db sync, {args.computes} hosts")
            fixture = build_fixture(
                name, args.computes, args.boot_pool, args.running, workdir, progress
            )
            cleanup.callback(drop_database, name)
        for delay in delays:
            for target in args.targets.split(","):
                if fixture is not None:
                    own = argparse.Namespace(**{**vars(args), "workloads": others})
                    results += asyncio.run(_run_target(target, own, fixture, delay, workdir))
                if boots is not None:
                    results += asyncio.run(_run_boots(target, args, boots, workdir))
    return results


@dataclass
class _Boots:
    fixture: BootFixture
    vhost: Vhost


def _boot_fixture(args: argparse.Namespace, workdir: Path, cleanup: ExitStack) -> _Boots:
    vhost = cleanup.enter_context(Vhost())
    if not vhost.own:
        # oslo's `scheduler` and `compute.<host>` queues are named alike on every exchange:
        # on a shared vhost the stand-ins would take another deployment's requests
        raise SystemExit(
            "aioconductor bench: bootrequests needs a RabbitMQ vhost of its own, made with "
            "rabbitmqctl on this host (add_vhost, set_permissions for guest); it could not be"
        )
    progress(f"building the boot requests: API, cell0 and cell1 databases, {args.computes} hosts")
    fixture = build_boot_fixture(
        uuid.uuid4().hex[:8], args.boot_requests, args.computes, args.boot_projects, workdir,
        progress,
    )  # fmt: skip
    cleanup.callback(fixture.drop)
    return _Boots(fixture, vhost)


async def _run_boots(
    name: str, args: argparse.Namespace, boots: _Boots, workdir: Path
) -> list[RunResult]:
    def meters(target: RunningTarget) -> Meters:
        return Meters(target, None, None)

    return await run_boot_target(
        name, args, boots.fixture, boots.vhost.url, workdir, _levels, meters, progress
    )


async def _external(args: argparse.Namespace) -> list[RunResult]:
    async with WireClient(args.external, args.exchange) as client:
        await client.wait_ready(time.monotonic() + 120)
        meters = Meters(None, None, None)

        async def callers(n: int) -> workloads.Measured:
            return await workloads.closed_loop(client, workloads.ping, range(n), args.duration)

        return await _levels("external", "ping", args.levels, meters, callers)
