"""The databases of the `bootrequests` workload: an API database holding a pool of boot
requests as nova-api leaves them, an empty cell0 and a cell1 with the computes' services.

Built once per run as templates; each target gets fresh copies (its cell mappings pointed at
its own copies), so every target starts from the same rows and nothing a run wrote survives
it. One boot request is made by nova's own objects (nova_side/boot_request.py), the pool is
copied from it in bulk (boot_pool.py).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql

from aioconductor.bench.boot_pool import BOOT_TABLES, BootIdentity, BootTemplate, identities
from aioconductor.bench.fixture import NOVA_SIDE, clone_database
from aioconductor.bench.seed import build_database
from aioconductor.novaenv import create_database, drop_database, ensure_nova_venv
from aioconductor.novaenv.database import api_db_sync
from aioconductor.novaenv.venv import NovaVenv

CELL0_UUID = "00000000-0000-0000-0000-000000000000"
USER_ID = "b0075e2d1c3f4a5b8c9d0e1f2a3b4c5d"
_CHUNK = 500


@dataclass
class BootFixture:
    api: str  # template databases, copied for each target
    cell0: str
    cell1: str
    cell1_uuid: str
    template: BootTemplate
    boots: list[BootIdentity]
    hosts: list[str]  # compute hosts, mapped to cell1, each with a Selection
    selections: dict[str, Any]  # host -> nova's Selection primitive for it

    def drop(self) -> None:
        for db in (self.api, self.cell0, self.cell1):
            drop_database(db)


@dataclass(frozen=True)
class BootDatabases:
    """One target's copies."""

    api: str
    cell0: str
    cell1: str

    def drop(self) -> None:
        for db in (self.api, self.cell0, self.cell1):
            drop_database(db)


def _connect(db: str) -> Any:
    return pymysql.connect(host="127.0.0.1", user="root", database=db, autocommit=False)


def _nova_side(venv: NovaVenv, job: dict[str, Any]) -> Any:
    import subprocess

    proc = subprocess.run(
        [str(venv.python), str(NOVA_SIDE / "boot_request.py")],
        input=json.dumps(job), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if proc.returncode:
        raise RuntimeError(f"boot_request.py failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_boot_fixture(
    tag: str,
    boots: int,
    computes: int,
    projects: int,
    workdir: Path,
    progress: Callable[[str], None] = print,
) -> BootFixture:
    api, cell0, cell1 = (f"aioc_bootreq_{tag}_{part}" for part in ("api", "cell0", "cell1"))
    venv = ensure_nova_venv()
    made: list[str] = []
    try:
        create_database(api)
        made.append(api)
        api_db_sync(venv, api)
        made.append(cell1)
        services = build_database(cell1, computes)
        made.append(cell0)
        clone_database(cell1, cell0)
        with _connect(cell0) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM services")  # cell0 holds no computes
            conn.commit()
        hosts = [s["nova_object.data"]["host"] for s in services]
        rng = random.Random()
        project_ids = [f"{rng.getrandbits(128):032x}" for _ in range(projects)]
        template_project = f"{rng.getrandbits(128):032x}"
        template_identity = identities(1, [template_project], seed=rng.getrandbits(64))[0]
        cell1_uuid = str(uuid.uuid4())
        conf = workdir / "bootrequests-template.conf"
        conf.write_text(
            "[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:5672/\n"
            f"[api_database]\nconnection = mysql+pymysql://root@127.0.0.1/{api}\n"
            f"[database]\nconnection = mysql+pymysql://root@127.0.0.1/{cell1}\n"
        )
        progress("one boot request through nova's own objects (nova-api's rows and cast)")
        made_by_nova = _nova_side(
            venv,
            {
                "config_file": str(conf),
                # pointed at each target's own copies when they are made
                "cells": {
                    "cell0": {"uuid": CELL0_UUID, "database": "none", "transport_url": "none:///"},
                    "cell1": {"uuid": cell1_uuid, "database": "none", "transport_url": "none"},
                },
                "hosts": [{"host": h, "node": h, "node_uuid": str(uuid.uuid4())} for h in hosts],
                "user_id": USER_ID,
                "project_id": template_identity.project_id,
                "instance_uuid": template_identity.uuid,
                "request_id": template_identity.request_id,
                "reservation_id": template_identity.reservation_id,
            },
        )
        (cast,) = made_by_nova["casts"]
        template = BootTemplate.from_recording(template_identity, cast, _take_rows(api))
        pool = identities(boots, project_ids, seed=rng.getrandbits(64))
        progress(f"copying it into {boots} boot requests ({projects} projects)")
        _write_pool(api, template, pool)
        return BootFixture(
            api, cell0, cell1, cell1_uuid, template, pool, hosts, made_by_nova["selections"]
        )
    except BaseException:
        for db in made:
            drop_database(db)
        raise


def _take_rows(api: str) -> dict[str, dict[str, Any]]:
    """The template request's rows, removed from the database (the pool holds copies)."""
    rows = {}
    with _connect(api) as conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
        for table in BOOT_TABLES:
            cur.execute(f"SELECT * FROM `{table}`")
            found = cur.fetchall()
            if len(found) != 1:
                raise RuntimeError(f"{table}: {len(found)} rows after one boot request")
            rows[table] = dict(found[0])
            cur.execute(f"DELETE FROM `{table}`")
        conn.commit()
    return rows


def _write_pool(api: str, template: BootTemplate, pool: list[BootIdentity]) -> None:
    with _connect(api) as conn, conn.cursor() as cur:
        for table in BOOT_TABLES:
            columns = ["id", *template.rows[table]]
            names = ", ".join(f"`{c}`" for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO `{table}` ({names}) VALUES ({marks})"
            for start in range(0, len(pool), _CHUNK):
                rows = template.rows_of(table, pool[start : start + _CHUNK])
                cur.executemany(sql, [tuple(r[c] for c in columns) for r in rows])
        conn.commit()


def copy_for_target(
    fixture: BootFixture, tag: str, cell0_url: str, cell1_url: str, transport_url: str
) -> BootDatabases:
    """Fresh copies of the templates for one target, its cell mappings pointed at them."""
    dbs = BootDatabases(*(f"aioc_bootreq_{tag}_{p}" for p in ("api", "cell0", "cell1")))
    try:
        for source, target in zip(
            (fixture.api, fixture.cell0, fixture.cell1), (dbs.api, dbs.cell0, dbs.cell1),
            strict=True,
        ):  # fmt: skip
            clone_database(source, target)
        with _connect(dbs.api) as conn, conn.cursor() as cur:
            cur.execute(
                "UPDATE cell_mappings SET database_connection = %s, transport_url = %s "
                "WHERE uuid = %s",
                (cell1_url, transport_url, fixture.cell1_uuid),
            )
            cur.execute(
                "UPDATE cell_mappings SET database_connection = %s WHERE uuid = %s",
                (cell0_url, CELL0_UUID),
            )
            conn.commit()
    except BaseException:
        dbs.drop()
        raise
    return dbs


def check_boots(dbs: BootDatabases, cell1_uuid: str, uuids: list[str]) -> list[str]:
    """What a boot left wrong in the databases, for the given instances: each must be in
    cell1, mapped there, its build request gone, nothing buried in cell0."""
    if not uuids:
        return []
    marks = ", ".join(["%s"] * len(uuids))
    problems = []

    def count(db: str, sql: str, *args: Any) -> int:
        with _connect(db) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return int(cur.fetchone()[0])

    left = count(dbs.api, f"SELECT COUNT(*) FROM build_requests WHERE instance_uuid IN ({marks})",
                 *uuids)  # fmt: skip
    if left:
        problems.append(f"{left} build requests not consumed")
    mapped = count(
        dbs.api,
        "SELECT COUNT(*) FROM instance_mappings m JOIN cell_mappings c ON m.cell_id = c.id "
        f"WHERE c.uuid = %s AND m.instance_uuid IN ({marks})",
        cell1_uuid, *uuids,
    )  # fmt: skip
    if mapped != len(uuids):
        problems.append(f"{len(uuids) - mapped} instances not mapped to cell1")
    created = count(dbs.cell1, f"SELECT COUNT(*) FROM instances WHERE uuid IN ({marks})", *uuids)
    if created != len(uuids):
        problems.append(f"{len(uuids) - created} instances missing in cell1")
    buried = count(dbs.cell0, f"SELECT COUNT(*) FROM instances WHERE uuid IN ({marks})", *uuids)
    if buried:
        problems.append(f"{buried} instances buried in cell0")
    return problems
