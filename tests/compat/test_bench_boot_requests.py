"""The bootrequests workload against nova-conductor 34.0.0 and aioconductor: the pool nova's
one request was copied into is booted, every boot accounted for, nothing left behind."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pymysql
import pytest

from aioconductor.bench.boot_fixture import build_boot_fixture, copy_for_target
from aioconductor.bench.cli import main as bench_main

pytestmark = [pytest.mark.connected, pytest.mark.compat]


def _databases(like: str) -> set[str]:
    with pymysql.connect(host="127.0.0.1", user="root") as conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE %s", (like,))
        return {str(row[0]) for row in cur.fetchall()}


def _foreign_keys(db: str) -> list[tuple[str, str, str]]:
    with pymysql.connect(host="127.0.0.1", user="root") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME FROM "
            "information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s "
            "ORDER BY 1, 2",
            (db,),
        )
        return [tuple(row) for row in cur.fetchall()]


def _vhosts() -> set[str]:
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True, check=True
    )
    return {line.strip() for line in out.stdout.splitlines() if line.startswith("aioc_bench_")}


def test_the_pool_holds_nova_api_s_rows(tmp_path: Path) -> None:
    fixture = build_boot_fixture(uuid.uuid4().hex[:8], 25, 3, 4, tmp_path, progress=lambda _: None)
    try:
        with pymysql.connect(host="127.0.0.1", user="root", database=fixture.api) as conn:
            cur = conn.cursor()
            for table in ("request_specs", "build_requests", "instance_mappings"):
                cur.execute(f"SELECT instance_uuid FROM `{table}` ORDER BY id")
                assert [r[0] for r in cur.fetchall()] == [b.uuid for b in fixture.boots]
            cur.execute("SELECT COUNT(DISTINCT project_id) FROM instance_mappings")
            assert cur.fetchone()[0] == 4
            cur.execute("SELECT host FROM host_mappings ORDER BY host")
            assert [r[0] for r in cur.fetchall()] == sorted(fixture.hosts)
            cur.execute("SELECT uuid, name FROM cell_mappings ORDER BY id")
            assert [r[1] for r in cur.fetchall()] == ["cell0", "cell1"]
            # the template's own request is not in the pool
            cur.execute("SELECT COUNT(*) FROM build_requests WHERE instance_uuid = %s",
                        (fixture.template.identity.uuid,))  # fmt: skip
            assert cur.fetchone()[0] == 0
        assert set(fixture.selections) == set(fixture.hosts)
        # a target's copies: rows, foreign keys, cell mappings pointed at them
        copies = copy_for_target(fixture, uuid.uuid4().hex[:8], "c0-url", "c1-url", "amqp-url")
        try:
            for source, copy in ((fixture.api, copies.api), (fixture.cell0, copies.cell0),
                                 (fixture.cell1, copies.cell1)):  # fmt: skip
                assert _foreign_keys(copy) == _foreign_keys(source)
                assert _foreign_keys(copy)
            with pymysql.connect(host="127.0.0.1", user="root", database=copies.api) as conn:
                cur = conn.cursor()
                cur.execute("SELECT COUNT(*) FROM build_requests")
                assert cur.fetchone()[0] == 25
                cur.execute("SELECT name, database_connection, transport_url FROM cell_mappings")
                assert sorted(cur.fetchall()) == [
                    ("cell0", "c0-url", "none:///"), ("cell1", "c1-url", "amqp-url")
                ]  # fmt: skip
        finally:
            copies.drop()
    finally:
        fixture.drop()
    assert not _databases(f"{fixture.api.rsplit('_', 1)[0]}%")


@pytest.mark.parametrize("target", ["nova-threading-1w", "aioconductor-1w"])
def test_a_conductor_boots_every_request(tmp_path: Path, target: str) -> None:
    """nova-conductor, and ours with no legacy conductor to forward to (so natively)."""
    before_dbs, before_vhosts = _databases("aioc_bootreq_%"), _vhosts()
    out = tmp_path / "out"
    code = bench_main([
        "--targets", target, "--workloads", "bootrequests", "--concurrency", "1,4",
        "--duration", "1.5", "--boot-requests", "600", "--computes", "3", "--out", str(out),
    ])  # fmt: skip
    assert code == 0
    rows = json.loads((out / "results.json").read_text())["results"]
    assert [(r["workload"], r["concurrency"]) for r in rows] == [
        ("bootrequests", 1), ("bootrequests", 4)
    ]  # fmt: skip
    for row in rows:
        # the level's boots all reached a compute, were built in cell1 and left no build
        # request (any shortfall is counted in errors)
        assert row["errors"] == 0, row
        assert row["calls"] > 0
        assert row["p50_ms"] <= row["p95_ms"]
        assert row["target_cpu_ms_per_rpc"] > 0
    assert _databases("aioc_bootreq_%") == before_dbs
    assert _vhosts() == before_vhosts
