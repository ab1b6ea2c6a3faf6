"""Where the load comes from: this process, or several generator processes side by side.

One asyncio process drives about a thousand small RPCs a second on this machine's cores; past
that it is the bottleneck, and the report would blame the target. With `--loadgen-procs K` the
callers of a closed loop (and the computes of a fleet) are dealt round-robin to K processes,
each with its own AMQP connection and its own share of the boot pool, started together at one
wall-clock instant; their latencies are merged and their CPU summed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Literal, Protocol

from aioconductor.bench import workloads
from aioconductor.bench.bootstorm import BootStorm
from aioconductor.bench.fixture import Fixture
from aioconductor.bench.fleet import Fleet
from aioconductor.bench.loadgen import WireClient
from aioconductor.bench.workloads import Measured

# "bootstorm-paced": the boot storm with the compute's own work (think time) between calls
ClosedWorkload = Literal["ping", "heartbeat", "bootstorm", "bootstorm-paced"]
# how long after the jobs are sent the processes start, so they all start together
_START_SLACK = 0.3


class Generator(Protocol):
    async def closed(
        self, workload: ClosedWorkload, concurrency: int, seconds: float
    ) -> Measured: ...

    async def fleet(self, computes: int, seconds: float) -> Measured: ...


class InProcessGenerator:
    """The workloads driven from this process over one connection."""

    def __init__(
        self, client: WireClient, fixture: Fixture, compression: float, think: float = 0.0
    ) -> None:
        self.client, self.fixture, self.compression = client, fixture, compression
        self.think = think  # seconds between a paced boot's calls
        self._storm: BootStorm | None = None  # one per target: the pool is used up in order
        self._fleet: Fleet | None = None

    def _call(self, workload: ClosedWorkload) -> workloads.Call:
        if workload == "ping":
            return workloads.ping
        if workload == "heartbeat":
            return workloads.Heartbeats([h.service for h in self.fixture.hosts])
        if self._storm is None:
            self._storm = BootStorm(self.fixture)
        return self._storm

    async def closed(self, workload: ClosedWorkload, concurrency: int, seconds: float) -> Measured:
        return await self.closed_callers(workload, range(concurrency), seconds)

    async def closed_callers(
        self, workload: ClosedWorkload, callers: Sequence[int], seconds: float
    ) -> Measured:
        if not callers:  # more generator processes than callers: this one sits the level out
            return Measured([], 0, 0.0, 0.0)
        errors_before = Counter(self._storm.errors) if self._storm else Counter[str]()
        think = self.think if workload == "bootstorm-paced" else 0.0
        result = await workloads.closed_loop(
            self.client, self._call(workload), callers, seconds, think
        )
        if self._storm is not None:
            result.errors_by_call = dict(self._storm.errors - errors_before)
        return result

    async def fleet(self, computes: int, seconds: float) -> Measured:
        return await self.fleet_computes(range(computes), seconds)

    async def fleet_computes(self, computes: Sequence[int], seconds: float) -> Measured:
        if not computes:
            return Measured([], 0, 0.0, 0.0)
        if self._fleet is None:
            self._fleet = Fleet(self.fixture, self.compression)
        return await self._fleet.run(self.client, computes, seconds)


@dataclass(frozen=True)
class _Job:
    workload: str  # a closed workload or "fleet"
    numbers: list[int]  # the callers or computes this process runs
    seconds: float
    start_at: float  # time.time() at which every process starts


def merge(parts: Sequence[Measured]) -> Measured:
    errors_by_call: Counter[str] = Counter()
    for part in parts:
        errors_by_call.update(part.errors_by_call)
    return Measured(
        latencies=[x for part in parts for x in part.latencies],
        errors=sum(part.errors for part in parts),
        seconds=max((part.seconds for part in parts), default=0.0),
        loadgen_cpu=sum(part.loadgen_cpu for part in parts),
        busiest=max((part.busiest for part in parts), default=0.0),
        errors_by_call=dict(errors_by_call),
    )


class ProcessGenerators:
    """K generator processes; use as an async context manager around one target's run."""

    def __init__(
        self,
        procs: int,
        amqp_url: str,
        exchange: str,
        fixture: Fixture,
        compression: float,
        think: float = 0.0,
    ) -> None:
        if procs < 2:
            raise ValueError("ProcessGenerators is for two or more processes")
        context = multiprocessing.get_context("spawn")  # the parent runs an event loop
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []
        for index in range(procs):
            # each process boots its own slice of the pool, so no instance is booted twice
            share = dataclasses.replace(fixture, pool=fixture.pool[index::procs])
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_child_main,
                args=(theirs, _ChildSetup(amqp_url, exchange, share, compression, think)),
                name=f"aioconductor-loadgen-{index}",
                daemon=True,
            )
            process.start()
            theirs.close()
            self._pipes.append(ours)
            self._processes.append(process)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    async def __aenter__(self) -> ProcessGenerators:
        try:
            ready = await self._gather_replies()
            if not all(r == "ready" for r in ready):
                raise RuntimeError(f"a load generator process did not start: {ready}")
        except BaseException:
            self.close()  # __aexit__ does not run when __aenter__ fails
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for pipe in self._pipes:
            with contextlib.suppress(OSError):  # a process that died has closed its end
                pipe.send(None)
        for process in self._processes:
            process.join(10)
            if process.is_alive():
                process.kill()
        for pipe in self._pipes:
            pipe.close()

    async def _gather_replies(self) -> list[object]:
        loop = asyncio.get_running_loop()
        try:
            return list(
                await asyncio.gather(*(loop.run_in_executor(None, p.recv) for p in self._pipes))
            )
        except EOFError:
            codes = [p.exitcode for p in self._processes]
            raise RuntimeError(f"a load generator process died (exit codes {codes})") from None

    async def _run(self, workload: str, count: int, seconds: float) -> Measured:
        start_at = time.time() + _START_SLACK
        procs = len(self._pipes)
        for index, pipe in enumerate(self._pipes):
            pipe.send(_Job(workload, list(range(index, count, procs)), seconds, start_at))
        replies = await self._gather_replies()
        failed = [r for r in replies if not isinstance(r, Measured)]
        if failed:
            raise RuntimeError(f"a load generator process failed: {failed[0]}")
        return merge([r for r in replies if isinstance(r, Measured)])

    async def closed(self, workload: ClosedWorkload, concurrency: int, seconds: float) -> Measured:
        return await self._run(workload, concurrency, seconds)

    async def fleet(self, computes: int, seconds: float) -> Measured:
        return await self._run("fleet", computes, seconds)


@dataclass(frozen=True)
class _ChildSetup:
    """What a generator process needs to connect and load its share of the workloads."""

    amqp_url: str
    exchange: str
    fixture: Fixture
    compression: float
    think: float


def _child_main(pipe: Connection, setup: _ChildSetup) -> None:
    asyncio.run(_child(pipe, setup))


async def _child(pipe: Connection, setup: _ChildSetup) -> None:
    loop = asyncio.get_running_loop()
    async with WireClient(setup.amqp_url, setup.exchange) as client:
        generator = InProcessGenerator(client, setup.fixture, setup.compression, setup.think)
        pipe.send("ready")
        while (job := await loop.run_in_executor(None, pipe.recv)) is not None:
            assert isinstance(job, _Job)
            await asyncio.sleep(max(0.0, job.start_at - time.time()))
            try:
                if job.workload == "fleet":
                    result = await generator.fleet_computes(job.numbers, job.seconds)
                else:
                    workload: ClosedWorkload = job.workload  # type: ignore[assignment]
                    result = await generator.closed_callers(workload, job.numbers, job.seconds)
            except Exception as error:  # reported to the parent, which stops the run
                pipe.send(f"{type(error).__name__}: {error}")
                continue
            pipe.send(result)
