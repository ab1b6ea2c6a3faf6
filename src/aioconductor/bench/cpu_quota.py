"""A CPU quota for a target's whole process tree: a cgroup of its own with a CFS bandwidth limit.

`--cpu-per-worker F` gives each target `workers x F` cores' worth of CPU time: N workers on
N small cores. On a host whose cores also run MariaDB, RabbitMQ and the generator, that is
the only way to watch workers scale before the machine is the limit: with a quarter of a
core each, four workers still leave half the machine to the rest. The quota is a budget per
100 ms period, not cores of its own, so the kernel may run a worker on either core.

Needs root and a cgroup filesystem with the cpu controller: the v2 unified hierarchy at
/sys/fs/cgroup (`cpu.max`) or a v1 `cpu` hierarchy at /sys/fs/cgroup/cpu
(`cpu.cfs_quota_us`). Processes join the group between fork and exec, so everything they
start is inside it from its first instruction.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path

PERIOD_US = 100_000
_V2_ROOT = Path("/sys/fs/cgroup")
_V1_ROOT = Path("/sys/fs/cgroup/cpu")


class QuotaUnavailable(RuntimeError):
    """No writable cgroup with the cpu controller on this host."""


class CpuQuota:
    def __init__(self, path: Path, cores: float) -> None:
        self.path = path
        self.cores = cores

    @classmethod
    def create(cls, cores: float, *, roots: tuple[Path, Path] = (_V2_ROOT, _V1_ROOT)) -> CpuQuota:
        if cores <= 0:
            raise ValueError("a CPU quota must be above 0 cores")
        v2, v1 = roots
        quota_us = max(1000, round(cores * PERIOD_US))  # the kernel refuses under 1 ms
        name = f"aioc-bench-{uuid.uuid4().hex[:8]}"
        try:
            if "cpu" in _read(v2 / "cgroup.controllers").split():
                if "cpu" not in _read(v2 / "cgroup.subtree_control").split():
                    (v2 / "cgroup.subtree_control").write_text("+cpu")
                path = v2 / name
                path.mkdir()
                (path / "cpu.max").write_text(f"{quota_us} {PERIOD_US}")
            elif (v1 / "cpu.cfs_quota_us").exists():
                path = v1 / name
                path.mkdir()
                (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (path / "cpu.cfs_quota_us").write_text(str(quota_us))
            else:
                raise QuotaUnavailable(
                    f"no cgroup cpu controller at {v2} (v2) or {v1} (v1): "
                    "--cpu-per-worker needs one"
                )
        except OSError as exc:
            raise QuotaUnavailable(
                f"cannot set up a CPU quota ({exc}): --cpu-per-worker needs root and a "
                "writable cgroup cpu controller"
            ) from exc
        return cls(path, cores)

    def joiner(self) -> Callable[[], None]:
        """For `subprocess.Popen(preexec_fn=...)`: the child joins the group before exec."""
        procs = str(self.path / "cgroup.procs")

        def join() -> None:
            with open(procs, "w") as f:  # plain open: as little work as possible after fork
                f.write(str(os.getpid()))

        return join

    def throttled_seconds(self) -> float:
        """How long the kernel held the group back for its quota (0 when it never did)."""
        for line in _read(self.path / "cpu.stat").splitlines():
            key, _, value = line.partition(" ")
            if key == "throttled_usec":  # v2
                return int(value) / 1e6
            if key == "throttled_time":  # v1, in ns
                return int(value) / 1e9
        return 0.0

    def remove(self) -> None:
        """Delete the group; its processes must have exited."""
        with contextlib.suppress(OSError):  # still busy (a process outlived its stop), or gone
            self.path.rmdir()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
