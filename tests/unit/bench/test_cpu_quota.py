"""The CPU quota's cgroup files, on a directory laid out as each cgroup version lays them."""

from __future__ import annotations

from pathlib import Path

import pytest

from aioconductor.bench.cpu_quota import CpuQuota, QuotaUnavailable


def hierarchy(tmp_path: Path, version: int) -> tuple[Path, Path]:
    v2, v1 = tmp_path / "v2", tmp_path / "v1"
    v2.mkdir()
    v1.mkdir()
    if version == 2:
        (v2 / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
        (v2 / "cgroup.subtree_control").write_text("memory\n")
    else:
        (v1 / "cpu.cfs_quota_us").write_text("-1\n")
    return v2, v1


def test_v2_limits_the_group_by_cpu_max(tmp_path: Path) -> None:
    roots = hierarchy(tmp_path, 2)
    quota = CpuQuota.create(0.75, roots=roots)
    assert quota.path.parent == roots[0]
    assert (quota.path / "cpu.max").read_text() == "75000 100000"
    assert (roots[0] / "cgroup.subtree_control").read_text() == "+cpu"  # enabled for children
    (quota.path / "cpu.stat").write_text("usage_usec 10\nthrottled_usec 2500000\n")
    assert quota.throttled_seconds() == 2.5


def test_v1_limits_the_group_by_cfs_quota(tmp_path: Path) -> None:
    roots = hierarchy(tmp_path, 1)
    quota = CpuQuota.create(0.25, roots=roots)
    assert quota.path.parent == roots[1]
    assert (quota.path / "cpu.cfs_quota_us").read_text() == "25000"
    assert (quota.path / "cpu.cfs_period_us").read_text() == "100000"
    (quota.path / "cpu.stat").write_text("nr_periods 3\nthrottled_time 1500000000\n")
    assert quota.throttled_seconds() == 1.5


def test_each_target_gets_a_group_of_its_own(tmp_path: Path) -> None:
    roots = hierarchy(tmp_path, 1)
    first, second = CpuQuota.create(0.5, roots=roots), CpuQuota.create(0.5, roots=roots)
    assert first.path != second.path
    for quota in (first, second):
        for child in quota.path.iterdir():
            child.unlink()  # a real group's files go with it; these are plain files
        quota.remove()
    assert not first.path.exists()
    assert not second.path.exists()


def test_no_cpu_controller_says_so(tmp_path: Path) -> None:
    roots = (tmp_path / "none2", tmp_path / "none1")
    with pytest.raises(QuotaUnavailable, match="no cgroup cpu controller"):
        CpuQuota.create(0.5, roots=roots)


def test_a_quota_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="above 0"):
        CpuQuota.create(0, roots=hierarchy(tmp_path, 1))
