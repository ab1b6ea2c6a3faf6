"""The end-to-end tier, short version: real nova-api, nova-scheduler, placement and two
nova-computes (fake driver) 34.0.0 boot, list, reboot and delete 1 server, then 1 whose first
build fails on the first compute (rescheduled to the second through
`compute_task.build_instances`), then 3 at once, through aioconductor, and once more through
nova-conductor alone, the reference.

`AIOC_E2E_MODE` picks aioconductor's mode: `alone` (the default: no nova-conductor anywhere,
every conductor call native, the boot included) or `legacy` (a nova-conductor beside it for
what is forwarded; nothing is, on this path). scripts/e2e-tier runs the long version.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.run import RunReport, compare_streams, run, summary
from tests.e2e.scenario import Plan

pytestmark = [pytest.mark.connected, pytest.mark.e2e, pytest.mark.timeout(300)]

MODE = os.environ.get("AIOC_E2E_MODE", "alone")
PLAN = Plan(sequential=1, parallel=3, rescheduled=1)
COMPUTES = 2  # the first fails the rescheduled server's first build


@pytest.fixture(scope="module")
def aioconductor_run(tmp_path_factory: pytest.TempPathFactory) -> RunReport:
    if MODE not in ("legacy", "alone"):
        pytest.fail(f"AIOC_E2E_MODE={MODE!r}: legacy or alone")
    return _run(MODE, tmp_path_factory.mktemp(f"e2e-{MODE}"))


@pytest.fixture(scope="module")
def nova_run(tmp_path_factory: pytest.TempPathFactory) -> RunReport:
    return _run("nova", tmp_path_factory.mktemp("e2e-nova"))


def _run(mode: str, root: Path) -> RunReport:
    report = run(mode, root, PLAN, COMPUTES)
    print(summary(report))  # shown with -rA, and on failure
    return report


def test_servers_boot_and_delete_through_aioconductor(aioconductor_run: RunReport) -> None:
    checked = {k: v for k, v in aioconductor_run.problems.items() if k != "conductor"}
    assert not any(checked.values()), summary(aioconductor_run)
    assert len(aioconductor_run.records) == PLAN.sequential + PLAN.rescheduled + PLAN.parallel


def test_conductor_calls_native_but_what_is_forwarded_by_design(
    aioconductor_run: RunReport,
) -> None:
    """Every call native, in either mode: the boot (compute_task.schedule_and_build_instances)
    too, when aioconductor has its [api_database]."""
    report = aioconductor_run
    assert not report.problems["conductor"], summary(report)
    native = {method for method, by in report.routes.items() if by.get("native")}
    assert {"Instance.save", "Instance.destroy"} <= native, report.routes
    assert report.forwarded == {}, summary(report)


def test_a_failed_build_is_rescheduled_to_the_alternate(aioconductor_run: RunReport) -> None:
    """The rescheduled server ends ACTIVE on the other compute, its resources there only,
    both builds in its create action as nova records them, and (`alone`) aioconductor
    served the compute's build_instances natively and cast it to that compute."""
    report = aioconductor_run
    assert not report.problems["reschedule"], summary(report)
    served = report.routes.get("compute_task.build_instances", {})
    if MODE == "alone":
        assert served == {"native": PLAN.rescheduled}, report.routes


def test_nova_conductor_alone_passes_the_same_checks(nova_run: RunReport) -> None:
    assert nova_run.passed, summary(nova_run)


def test_notification_streams_equal_nova_conductors(
    nova_run: RunReport, aioconductor_run: RunReport
) -> None:
    """Per server and format, what each publisher sent: same event types in the same order,
    same payloads (modulo ids, timestamps and the conductor's host)."""
    assert nova_run.streams, "nova-conductor's run sent no notification"
    comparison = compare_streams(nova_run, aioconductor_run)
    assert not comparison.differences, "\n".join(comparison.differences[:40])


def test_notification_streams_interleave_publishers_as_nova_does(
    nova_run: RunReport, aioconductor_run: RunReport
) -> None:
    """A call's notifications reach the broker before its reply (within
    `notification_reply_wait`), so a compute's next notification never overtakes the
    conductor's: the per-server stream interleaves publishers as nova-conductor's does."""
    comparison = compare_streams(nova_run, aioconductor_run)
    assert not comparison.interleaving, "\n".join(comparison.interleaving)
