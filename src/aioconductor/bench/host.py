"""What else the machine did during a level: the database's and the broker's CPU, and how much
of the machine was idle or stolen by the hypervisor.

A level's rate is set by whichever of target, database, broker, generator or the machine runs
out first; these readings let the report name it. Steal time matters on shared virtual
machines: when the hypervisor takes a share of the cores, every CPU figure grows with it, so a
run with much steal is not comparable with one without.
"""

from __future__ import annotations

from dataclasses import dataclass

import psutil

SERVICES = {"database": ("mariadbd", "mysqld"), "broker": ("beam.smp",)}


def _service_cpu(names: tuple[str, ...]) -> float:
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in names:
            try:
                times = proc.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue  # not ours to read: the figure stays 0 rather than failing the run
            total += times.user + times.system
    return total


@dataclass(frozen=True)
class HostSample:
    database_cpu: float
    broker_cpu: float
    idle: float  # machine-wide CPU seconds, all cores together
    steal: float
    total: float

    @classmethod
    def now(cls) -> HostSample:
        times = psutil.cpu_times()
        return cls(
            database_cpu=_service_cpu(SERVICES["database"]),
            broker_cpu=_service_cpu(SERVICES["broker"]),
            idle=times.idle + getattr(times, "iowait", 0.0),
            steal=getattr(times, "steal", 0.0),
            total=sum(times),
        )


@dataclass(frozen=True)
class HostUse:
    """One level's share of the machine."""

    database_cpu: float  # CPU seconds
    broker_cpu: float
    idle_share: float  # of all cores' time, 0..1
    steal_share: float

    @classmethod
    def between(cls, before: HostSample, after: HostSample) -> HostUse:
        span = after.total - before.total
        return cls(
            database_cpu=after.database_cpu - before.database_cpu,
            broker_cpu=after.broker_cpu - before.broker_cpu,
            idle_share=(after.idle - before.idle) / span if span > 0 else 0.0,
            steal_share=(after.steal - before.steal) / span if span > 0 else 0.0,
        )


NOTHING = HostUse(0.0, 0.0, 0.0, 0.0)
