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
    assert page.read() == WorkerStatus(0.0, False, False, 0, 0, None)
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
