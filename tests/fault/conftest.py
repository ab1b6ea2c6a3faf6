"""The fault tier's lab: one private RabbitMQ node and MariaDB for the whole session."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fault.conductors import NOVA_BIN
from tests.fault.lab import Lab


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    if shutil.which("mariadb-install-db") is None or not Path("/usr/lib/rabbitmq").exists():
        pytest.fail("the fault tier needs rabbitmq-server and mariadb-server installed")
    if not (NOVA_BIN / "nova-conductor").exists():
        pytest.fail("nova 34.0.0 virtualenv missing: run scripts/run-tests")
    base = Path(tempfile.mkdtemp(prefix="aioc-fault-"))
    running = Lab(base)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def results() -> dict[tuple[str, str], Any]:
    """(scenario, conductor) -> Outcome, so aioconductor's run is held to nova-conductor's."""
    return {}
