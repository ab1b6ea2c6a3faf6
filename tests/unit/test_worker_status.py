"""A worker's status page: what the worker writes is what the supervisor reads."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aioconductor.worker_status import StatusPage, WorkerStatus


@pytest.fixture
def page() -> StatusPage:
    return StatusPage.create()


def test_a_new_page_says_the_worker_has_not_started(page: StatusPage) -> None:
    assert page.read() == WorkerStatus(0.0, False, False, 0, 0, None, ("starting",))
    page.close()


@pytest.mark.parametrize("db_ok", [None, True, False])
def test_another_process_writes_what_the_supervisor_reads(
    page: StatusPage, db_ok: bool | None
) -> None:
    written = WorkerStatus(1764323000.25, True, True, 7, 123456789, db_ok)
    writer = (
        "import sys\n"
        "from aioconductor.worker_status import StatusPage, WorkerStatus\n"
        f"StatusPage.attach({page.fd}).write(WorkerStatus{tuple(written)!r})\n"
    )
    subprocess.run([sys.executable, "-c", writer], pass_fds=[page.fd], check=True)
    assert page.read() == written
    page.close()


def test_a_page_survives_many_writes_and_keeps_the_last(page: StatusPage) -> None:
    worker_side = StatusPage.attach(page.fd)
    for served in range(1000):
        worker_side.write(WorkerStatus(float(served), True, served % 2 == 0, 1, served, True))
    assert page.read() == WorkerStatus(999.0, True, False, 1, 999, True)
    page.close()


def test_what_keeps_a_worker_from_being_ready_reaches_the_supervisor(page: StatusPage) -> None:
    reasons = ("broker blocked: low on memory", "link quiet for 12 s (heartbeat 10 s)")
    StatusPage.attach(page.fd).write(WorkerStatus(5.0, True, True, 64, 9, True, reasons))
    assert page.read().not_ready == reasons
    long = ("é" * 2000,)
    StatusPage.attach(page.fd).write(WorkerStatus(6.0, True, True, 0, 9, True, long))
    (cut,) = page.read().not_ready
    assert cut.startswith("éé")
    assert cut.endswith("...")
    assert len(cut.encode()) <= 1024
    page.close()
