"""The `bootrequests` workload for one target: the conductor measured alone on boot requests.

Around the target: fresh copies of the boot databases (boot_fixture.py), K scheduler
stand-in processes (boot_scheduler.py), and in this process the compute stand-ins and the
paced casts (boot_driver.py), all on the run's own exchange and vhost. Per level: boots/s
(the `rpc_per_s` column), median and p95 from cast to compute cast, and the target's CPU per
boot (`target_cpu_ms_per_rpc`, its whole process tree). After each level every boot is
accounted for: one compute cast each, its build request gone, its instance in cell1 and
mapped there; whatever is not is counted in the level's errors and named.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil

from aioconductor.bench.boot_driver import BootDriver
from aioconductor.bench.boot_fixture import BootFixture, check_boots, copy_for_target
from aioconductor.bench.loadgen import WireClient
from aioconductor.bench.stats import SATURATED, RunResult
from aioconductor.bench.targets import (
    PLACEMENT_UNUSED,
    DatabaseAddress,
    RunningTarget,
    conf_driver,
    target_spec,
)
from aioconductor.bench.workloads import Measured

WORKLOAD = "bootrequests"
WARM_UP_BOOTS = 5
# logged once the process can take a boot; consuming is proven by a ping afterwards (nova
# logs its line before its RPC server's queue exists, and a cast sent then is lost)
READY_LINE = {
    "aioconductor": "serving compute_task.schedule_and_build_instances natively",
    "nova": "Starting conductor node",
}

Progress = Callable[[str], None]
Levels = Callable[..., Awaitable[list[RunResult]]]


def boot_conf(spec_kind: str, api_url: str) -> str:
    """What a conductor serving boots reads beyond a cell conductor's options: the API
    database, quotas that never refuse (they are still counted, as the recheck does; the
    pool's projects hold more instances than nova's default limits), and for ours the
    placement options its boot path is built with (nova's come with every bench target)."""
    text = (
        f"[api_database]\nconnection = {api_url}\n[quota]\ninstances = -1\ncores = -1\nram = -1\n"
    )
    return text + (PLACEMENT_UNUSED if spec_kind == "aioconductor" else "")


class SchedulerStandIns:
    """K scheduler stand-in processes consuming the `scheduler` queue."""

    def __init__(self, count: int, amqp_url: str, exchange: str, selections: Path) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        try:
            for index in range(count):
                argv = [sys.executable, "-m", "aioconductor.bench.boot_scheduler", amqp_url,
                        exchange, str(selections), str(index), "1"]  # fmt: skip
                proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
                self.procs.append(proc)
                assert proc.stdout is not None
                if proc.stdout.readline().strip() != "ready":
                    raise RuntimeError("a scheduler stand-in did not start")
        except BaseException:
            self.stop()
            raise
        self.ps = [psutil.Process(p.pid) for p in self.procs]

    def cpu_seconds(self) -> list[float]:
        out = []
        for proc in self.ps:
            try:
                times = proc.cpu_times()
                out.append(times.user + times.system)
            except psutil.NoSuchProcess:
                out.append(0.0)
        return out

    def stop(self) -> dict[str, int]:
        """Stops them; what they answered (and refused), summed."""
        totals: dict[str, int] = {"answered": 0, "refused": 0}
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
            try:
                out, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            for line in (out or "").splitlines():
                if line.startswith("{"):
                    report = json.loads(line)
                    totals["answered"] += report["answered"]
                    totals["refused"] += sum(report["refused"].values())
        self.procs = []
        return totals


def _wait_log(target: RunningTarget, line: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while line not in target.log.read_text(errors="replace"):
        if target.proc.poll() is not None or time.monotonic() > deadline:
            tail = target.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{target.spec.name} did not start:\n{tail}")
        time.sleep(0.2)


async def run_boot_target(
    name: str,
    args: argparse.Namespace,
    fixture: BootFixture,
    vhost_url: Callable[[str], str],
    workdir: Path,
    levels: Levels,
    meters_for: Callable[[RunningTarget], object],
    progress: Progress,
) -> list[RunResult]:
    """`levels` and `meters_for` are the CLI's own (`_levels`, `Meters`), so the rows are
    measured and reported as every other workload's."""
    spec = target_spec(name)
    tag = uuid.uuid4().hex[:8]
    exchange = f"aioc_bootreq_{tag}"
    transport = vhost_url("rabbit")
    driver = conf_driver(spec)
    cell_urls = {
        part: DatabaseAddress(f"aioc_bootreq_{tag}_{part}").url(driver)
        for part in ("api", "cell0", "cell1")
    }
    dbs = copy_for_target(fixture, tag, cell_urls["cell0"], cell_urls["cell1"], transport)
    selections = workdir / f"selections-{tag}.json"
    selections.write_text(json.dumps(fixture.selections))
    target: RunningTarget | None = None
    schedulers: SchedulerStandIns | None = None
    try:
        target = RunningTarget(
            spec, exchange, DatabaseAddress(dbs.cell1), workdir, transport_url=transport,
            cpu_per_worker=args.cpu_per_worker,
            extra_conf=boot_conf(spec.kind, cell_urls["api"]),
        )  # fmt: skip
        schedulers = SchedulerStandIns(
            args.boot_schedulers, vhost_url("amqp"), exchange, selections
        )
        _wait_log(target, READY_LINE[spec.kind], 180)
        async with WireClient(vhost_url("amqp"), exchange) as pinger:
            await pinger.wait_ready(time.monotonic() + 120)
        async with BootDriver(
            vhost_url("amqp"), exchange, fixture.template, fixture.boots, fixture.hosts,
            arrival_timeout=args.boot_timeout, alive=lambda: target.proc.poll() is None,
        ) as boots:  # fmt: skip
            # not measured: a process's first boots open connections and fill caches
            _, warm = await boots.level(1, 600.0, limit=WARM_UP_BOOTS)
            problems = check_boots(dbs, fixture.cell1_uuid, warm.uuids) + boots.ledger.problems()
            if problems:
                raise RuntimeError(f"{name}: the warm-up boots failed: {'; '.join(problems)}")
            progress(f"{name}: {len(warm.uuids)} warm-up boots done")
            stand_ins = schedulers

            async def measure(n: int) -> Measured:
                cpu0 = stand_ins.cpu_seconds()
                mark = boots.ledger.mark()
                t0 = time.monotonic()
                m, level = await boots.level(n, args.duration, think=args.boot_think_ms / 1000)
                busiest = max(
                    (b - a for a, b in zip(cpu0, stand_ins.cpu_seconds(), strict=True)),
                    default=0.0,
                ) / max(time.monotonic() - t0, 1e-9)
                await asyncio.sleep(0.2)  # a late duplicate would show in the ledger
                problems = check_boots(dbs, fixture.cell1_uuid, level.uuids)
                problems += boots.ledger.problems(level.uuids, since=mark)
                if problems:
                    m.errors_by_call = dict.fromkeys(problems, 1)
                    m.errors = max(m.errors, 1)
                if busiest > SATURATED:
                    progress(f"{name} N={n}: a scheduler stand-in used {busiest:.0%} of a core:"
                             " add --boot-schedulers")  # fmt: skip
                else:
                    progress(f"{name} N={n}: the busiest scheduler stand-in used {busiest:.0%} "
                             "of a core")  # fmt: skip
                if level.pool_exhausted:
                    progress(f"{name} N={n}: the boot pool ran out; raise --boot-requests")
                return m

            meters = meters_for(target)
            results: list[RunResult] = await levels(name, WORKLOAD, args.levels, meters, measure)
            await asyncio.sleep(1.0)  # late casts (of boots that timed out) still count
        answered = schedulers.stop()
        sent, arrived = len(boots.ledger.sent_at), len(boots.ledger.arrived_at)
        problems = boots.ledger.problems()
        if answered["answered"] != sent:
            problems.append(f"the scheduler answered {answered['answered']} select_destinations")
        if answered["refused"]:
            problems.append(f"the scheduler refused {answered['refused']} other requests")
        progress(
            f"{name}: {sent} boot requests cast (warm-up included), {arrived} compute casts: "
            + ("every boot accounted for" if not problems else "; ".join(problems))
        )
        return [dataclasses.replace(r, think_ms=args.boot_think_ms) for r in results]
    finally:
        if schedulers is not None:
            schedulers.stop()
        if target is not None:
            target.stop()
        dbs.drop()
        selections.unlink(missing_ok=True)
