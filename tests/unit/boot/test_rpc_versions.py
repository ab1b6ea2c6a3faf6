"""The RPC versions and caps the boot clients choose, as nova's SchedulerAPI and ComputeAPI
choose them (without a database: `[upgrade_levels]` set to a release name or a version)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from aioconductor.boot import compute_client
from aioconductor.boot.compute_client import build_version, compute_version_cap
from aioconductor.boot.scheduler_client import can_send_version, scheduler_version_cap
from aioconductor.config.settings import Settings, UpgradeLevels
from aioconductor.errors import RPCVersionCapError


@pytest.fixture(autouse=True)
def fresh_cap() -> Iterator[None]:
    compute_client.reset_compute_version_cap()
    yield
    compute_client.reset_compute_version_cap()


@pytest.mark.parametrize(
    ("cap", "version"),
    [
        (None, "6.0"),
        ("6.5", "6.0"),
        ("6.0", "6.0"),
        ("5.13", "5.11"),
        ("5.11", "5.11"),
        ("5.10", "5.0"),
        ("5.0", "5.0"),
    ],
)
def test_build_and_run_instance_version_follows_the_cap(cap: str | None, version: str) -> None:
    assert build_version(cap) == version


def test_a_cap_below_5_0_is_refused_as_oslo_refuses_it() -> None:
    with pytest.raises(RPCVersionCapError, match=r"version cap 4\.17"):
        build_version("4.17")


def test_compute_cap_from_a_release_name_a_version_or_nothing() -> None:
    def cap(level: str | None) -> str | None:
        compute_client.reset_compute_version_cap()
        settings = Settings(upgrade_levels=UpgradeLevels(compute=level))
        return asyncio.run(compute_version_cap(settings, []))

    assert cap(None) is None
    assert cap("ussuri") == "5.11"
    assert cap("gazpacho") == "6.5"
    assert cap("6.2") == "6.2"


def test_the_compute_cap_is_worked_out_once_per_process() -> None:
    first = Settings(upgrade_levels=UpgradeLevels(compute="queens"))
    later = Settings(upgrade_levels=UpgradeLevels(compute="6.5"))
    assert asyncio.run(compute_version_cap(first, [])) == "5.0"
    assert asyncio.run(compute_version_cap(later, [])) == "5.0"


def test_scheduler_cap_aliases_and_what_it_allows() -> None:
    assert scheduler_version_cap(Settings()) is None
    assert scheduler_version_cap(Settings(upgrade_levels=UpgradeLevels(scheduler="pike"))) == "4.4"
    assert can_send_version(None, "4.5")
    assert can_send_version("4.5", "4.5")
    assert not can_send_version("4.4", "4.5")
    assert not can_send_version("5.0", "4.5")
