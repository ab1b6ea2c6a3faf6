"""The bench's CPU quota holds a real busy process to its share (needs root and cgroups)."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from aioconductor.bench.cpu_quota import CpuQuota, QuotaUnavailable


@pytest.fixture
def quota() -> CpuQuota:
    try:
        return CpuQuota.create(0.2)
    except QuotaUnavailable as exc:
        pytest.skip(str(exc))


def test_a_busy_process_and_its_children_get_a_fifth_of_a_core(quota: CpuQuota) -> None:
    # a parent and the child it starts both spin: the group shares one quota
    spin = "import time\nend = time.monotonic() + 2\nwhile time.monotonic() < end: pass\n"
    parent = f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {spin!r}])\n" + spin
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", parent], preexec_fn=quota.joiner())  # noqa: PLW1509
    ps = psutil.Process(proc.pid)
    time.sleep(1.5)
    used = sum(sum(p.cpu_times()[:2]) for p in [ps, *ps.children(recursive=True)])
    elapsed = time.monotonic() - started
    proc.wait(30)
    time.sleep(0.2)  # the child spins a moment longer than its parent
    try:
        assert used < 0.2 * elapsed * 1.5 + 0.1  # unlimited: about 2 x elapsed
        assert quota.throttled_seconds() > 0.5
    finally:
        quota.remove()
