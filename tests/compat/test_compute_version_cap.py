"""`[upgrade_levels] compute = auto` against nova's own ComputeAPI._determine_version_cap,
on the same cell databases (mapped in a `nova-manage api_db sync`ed API database): the
oldest nova-compute across cells, forced-down, deleted and zero versions left out; no
computes at all; a compute newer than this release. Also the tables we carry (release
aliases, service version history) against nova's."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import sqlalchemy

from aioconductor.boot import compute_client, scheduler_client
from aioconductor.boot.compute_client import compute_version_cap
from aioconductor.config.settings import Settings, UpgradeLevels
from aioconductor.db.engine import Database
from aioconductor.db.schema import services
from aioconductor.errors import ServiceTooOld
from aioconductor.novaenv import ensure_nova_venv
from tests.compat.nova_processes import nova_api_database, run_nova_script
from tests.integration.conftest import schema_database

pytestmark = [pytest.mark.connected, pytest.mark.compat]

URL = "mysql+pymysql://root@127.0.0.1/{}"


@pytest.fixture
def fresh_cap() -> Iterator[None]:
    compute_client.reset_compute_version_cap()
    yield
    compute_client.reset_compute_version_cap()


def test_our_tables_are_novas() -> None:
    script = (
        "import json\n"
        "from nova.objects import service\n"
        "from nova.compute.rpcapi import ComputeAPI\n"
        "from nova.scheduler.rpcapi import SchedulerAPI\n"
        "print(json.dumps([[h['compute_rpc'] for h in service.SERVICE_VERSION_HISTORY],\n"
        "  service.SERVICE_VERSION, ComputeAPI.VERSION_ALIASES, SchedulerAPI.VERSION_ALIASES]))\n"
    )
    out = subprocess.run(
        [str(ensure_nova_venv().python), "-c", script],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import json

    history, version, compute_aliases, scheduler_aliases = json.loads(out.splitlines()[-1])
    assert list(compute_client.COMPUTE_RPC_BY_SERVICE_VERSION) == history
    assert len(history) == version + 1
    assert compute_aliases == compute_client.VERSION_ALIASES
    assert scheduler_aliases == scheduler_client.VERSION_ALIASES


def _set_services(db: str, rows: list[dict[str, Any]]) -> None:
    engine = sqlalchemy.create_engine(URL.format(db))
    try:
        with engine.begin() as conn:
            conn.execute(services.delete())
            for i, row in enumerate(rows, 1):
                values = {
                    "host": f"h{i}",
                    "binary": "nova-compute",
                    "topic": "compute",
                    "report_count": 0,
                    "disabled": False,
                    "deleted": 0,
                    "forced_down": False,
                }
                values.update(row)
                conn.execute(services.insert().values(**values))
    finally:
        engine.dispose()


async def _our_cap(cells: list[str], broken: bool) -> Any:
    settings = Settings(
        upgrade_levels=UpgradeLevels(compute="auto"),
        api_database_connection="mysql+pymysql://root@127.0.0.1/unused",
    )
    names = [*cells, "aioc_no_such_database"] if broken else cells
    dbs = [Database.from_url(f"mysql+aiomysql://root@127.0.0.1/{n}", pool_size=1) for n in names]
    compute_client.reset_compute_version_cap()
    try:
        return {"cap": await compute_version_cap(settings, dbs)}
    except ServiceTooOld as exc:
        return {"error": "ServiceTooOld", "kwargs": exc.kwargs}
    finally:
        for db in dbs:
            await db.close()


CASES = {
    "oldest compute across cells": (
        [
            [{"version": 66}, {"version": 60, "forced_down": True}, {"version": 30, "deleted": 9}],
            [{"version": 64}, {"binary": "nova-conductor", "topic": "conductor", "version": 20}],
            [],
        ],
        {"cap": "6.1"},
    ),
    "only zero versions": ([[{"version": 0}], []], {"cap": "6.5"}),
    "the oldest compute is newer than us": (
        [[{"version": 99}], [{"version": 0}]],
        {"error": "ServiceTooOld"},
    ),
}


@pytest.mark.usefixtures("fresh_cap")
def test_auto_cap_matches_novas() -> None:
    with ExitStack() as stack:
        api_db = stack.enter_context(nova_api_database("capapi"))
        cells = [stack.enter_context(schema_database(f"capcell{i}")) for i in range(3)]
        for label, (rows, expected) in CASES.items():
            for cell, cell_rows in zip(cells, rows + [[]] * 3, strict=False):
                _set_services(cell, cell_rows)
            novas = run_nova_script("nova_compute_cap.py", {"api_db": api_db, "cells": cells})
            ours = asyncio.run(_our_cap(cells, broken=True))
            assert ours == novas, label
            assert {k: v for k, v in novas.items() if k != "kwargs"} == expected, label
