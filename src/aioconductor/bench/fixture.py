"""The benchmark's database: nova's schema and objects, compute hosts, a pool of instances ready
to boot, instances already running, and the recorded requests of one real boot.

Built once per run, then copied table by table for each target (every target starts from the
same rows):
1. `nova-manage db sync` and the compute services (seed.py);
2. nova's own objects create the boot template (bench/nova_side/boot_delete.py: an instance
   as the scheduler hands it to a compute, its flavor, info cache, BDM and instance action);
3. every host gets a compute node, and the template is copied row by row into the boot pool
   (scheduled, not yet on a host) and into the running instances spread over the hosts;
4. the template is booted through nova's own client against a throw-away aioconductor while
   oslo.messaging's transport records each request (nova_side/recorder.py).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from aioconductor.bench.seed import build_database
from aioconductor.bench.targets import DatabaseAddress, RunningTarget, target_spec
from aioconductor.novaenv import ensure_nova_venv

NOVA_SIDE = Path(__file__).with_name("nova_side")
RABBIT = "rabbit://guest:guest@127.0.0.1:5672/"
# child tables whose rows are copied with an instance (keyed by instance_uuid)
_CHILDREN = ("instance_extra", "instance_info_caches", "instance_system_metadata",
             "instance_metadata")  # fmt: skip


@dataclass
class PoolInstance:
    """One instance of the boot pool and the identifiers its requests carry."""

    uuid: str
    id: int
    bdm_uuid: str
    bdm_id: int
    host: str
    node_id: int
    node_uuid: str
    service_id: int
    request_id: str
    port: str
    mac: str


@dataclass
class Host:
    host: str
    node_id: int
    node_uuid: str
    service_id: int
    service: dict[str, Any]  # the Service primitive a compute holds (heartbeats)
    instances: list[str] = field(default_factory=list)


@dataclass
class Fixture:
    database: str
    template: dict[str, Any]
    boot_steps: list[dict[str, Any]]
    hosts: list[Host]
    pool: list[PoolInstance]


def _nova_side(script: str, job: dict[str, Any]) -> Any:
    proc = subprocess.run(
        [str(ensure_nova_venv().python), str(NOVA_SIDE / script)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(f"{script} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _conf(path: Path, db: str, exchange: str) -> Path:
    path.write_text(
        f"[DEFAULT]\ntransport_url = {RABBIT}\ncontrol_exchange = {exchange}\n"
        f"rpc_response_timeout = 60\n[database]\nconnection = "
        f"mysql+pymysql://root@127.0.0.1/{db}\n"
    )
    return path


def _connect(db: str) -> Any:
    return pymysql.connect(host="127.0.0.1", user="root", database=db, autocommit=False)


class _Copier:
    """INSERT ... SELECT copies of the template's rows with some columns replaced."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.cur = conn.cursor()
        self._columns: dict[str, list[str]] = {}

    def columns(self, table: str) -> list[str]:
        if table not in self._columns:
            self.cur.execute(f"SELECT * FROM `{table}` LIMIT 0")
            self._columns[table] = [d[0] for d in self.cur.description if d[0] != "id"]
        return self._columns[table]

    def copy(self, table: str, where: str, args: tuple[Any, ...], **replace: Any) -> int:
        cols = self.columns(table)
        exprs = ", ".join("%s" if c in replace else f"`{c}`" for c in cols)
        values = tuple(replace[c] for c in cols if c in replace)
        names = ", ".join(f"`{c}`" for c in cols)
        self.cur.execute(
            f"INSERT INTO `{table}` ({names}) SELECT {exprs} FROM `{table}` WHERE {where}",
            values + args,
        )
        return int(self.cur.lastrowid)


def _mac(n: int) -> str:
    return "fa:16:3e:" + ":".join(f"{(n >> s) & 0xFF:02x}" for s in (16, 8, 0))


def build_fixture(
    name: str, computes: int, pool: int, running: int, workdir: Path, progress: Any = print
) -> Fixture:
    services = build_database(name, computes)
    exchange = f"aioc_rec_{uuid.uuid4().hex[:8]}"
    conf = _conf(workdir / "fixture.conf", name, exchange)
    template = _nova_side("recorder.py", {"phase": "seed", "config_file": str(conf)})
    conn = _connect(name)
    copier = _Copier(conn)
    try:
        hosts = _nodes(copier, template, services)
        progress(f"copying the template into {pool} instances to boot, {running} running")
        boot_pool = _boot_pool(copier, template, hosts, pool)
        _running(copier, template, hosts, running)
        conn.commit()
    finally:
        conn.close()
    progress("recording one boot through nova's own client")
    target = RunningTarget(target_spec("aioconductor-1w"), exchange, DatabaseAddress(name), workdir)
    try:
        recorded = _record(conf, target)
    finally:
        target.stop()
    boot = [s for s in recorded["steps"] if s["label"].split()[0].isdigit()][:22]
    return Fixture(name, template, boot, hosts, boot_pool)


def _record(conf: Path, target: RunningTarget) -> Any:
    deadline = time.monotonic() + 60
    while "worker ready" not in target.log.read_text():
        if time.monotonic() > deadline or target.proc.poll() is not None:
            raise RuntimeError(target.log.read_text()[-3000:])
        time.sleep(0.2)
    recorded = _nova_side("recorder.py", {"phase": "record", "config_file": str(conf)})
    if recorded["failures"]:
        raise RuntimeError(f"recording the boot failed: {recorded['failures']}")
    return recorded


def _nodes(copier: _Copier, template: dict[str, Any], services: list[dict[str, Any]]) -> list[Host]:
    hosts = []
    for service in services:
        data = service["nova_object.data"]
        node_uuid = str(uuid.uuid4())
        node_id = copier.copy(
            "compute_nodes", "id = %s", (template["node_id"],),
            host=data["host"], hypervisor_hostname=data["host"], uuid=node_uuid,
            service_id=data["id"],
        )  # fmt: skip
        hosts.append(Host(data["host"], node_id, node_uuid, data["id"], service))
    return hosts


def _copy_instance(copier: _Copier, template: dict[str, Any], new: str, **columns: Any) -> int:
    instance_id = copier.copy("instances", "uuid = %s", (template["uuid"],), uuid=new, **columns)
    for table in _CHILDREN:
        copier.copy(table, "instance_uuid = %s", (template["uuid"],), instance_uuid=new)
    return instance_id


def _boot_pool(
    copier: _Copier, template: dict[str, Any], hosts: list[Host], size: int
) -> list[PoolInstance]:
    pool = []
    for n in range(size):
        host = hosts[n % len(hosts)]
        new = str(uuid.uuid4())
        instance_id = _copy_instance(copier, template, new)
        bdm_uuid = str(uuid.uuid4())
        bdm_id = copier.copy("block_device_mapping", "instance_uuid = %s", (template["uuid"],),
                             instance_uuid=new, uuid=bdm_uuid)  # fmt: skip
        request_id = f"req-{uuid.uuid4()}"
        copier.copy("instance_actions", "instance_uuid = %s AND request_id = %s",
                    (template["uuid"], template["boot_request_id"]), instance_uuid=new,
                    request_id=request_id)  # fmt: skip
        pool.append(PoolInstance(new, instance_id, bdm_uuid, bdm_id, host.host, host.node_id,
                                 host.node_uuid, host.service_id, request_id,
                                 str(uuid.uuid4()), _mac(n + 1)))  # fmt: skip
    return pool


def _running(copier: _Copier, template: dict[str, Any], hosts: list[Host], count: int) -> None:
    for n in range(count):
        host = hosts[n % len(hosts)]
        new = str(uuid.uuid4())
        _copy_instance(copier, template, new, host=host.host, node=host.host,
                       compute_id=host.node_id, launched_on=host.host, vm_state="active",
                       task_state=None, power_state=1)  # fmt: skip
        copier.copy("block_device_mapping", "instance_uuid = %s", (template["uuid"],),
                    instance_uuid=new, uuid=str(uuid.uuid4()))  # fmt: skip
        host.instances.append(new)


def clone_database(source: str, target: str) -> None:
    """A copy of every table of `source`, rows and foreign keys included (each target starts
    the same). `CREATE TABLE ... LIKE` would drop the foreign keys, whose checks are part of
    what an insert costs and what a wrong insert order trips on."""
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute(f"CREATE DATABASE `{target}` CHARACTER SET utf8mb4")
        cur.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_TYPE = 'BASE TABLE'",
            (source,),
        )
        tables = [row[0] for row in cur.fetchall()]
        cur.execute(f"USE `{target}`")
        cur.execute("SET FOREIGN_KEY_CHECKS = 0")
        for table in tables:
            cur.execute(f"SHOW CREATE TABLE `{source}`.`{table}`")
            cur.execute(cur.fetchone()[1])  # unqualified: created in `target`
            cur.execute(f"INSERT INTO `{table}` SELECT * FROM `{source}`.`{table}`")
        cur.execute("SET FOREIGN_KEY_CHECKS = 1")
    finally:
        conn.close()


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="aioc-fixture-"))
