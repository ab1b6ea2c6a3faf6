"""An end-to-end stack: real nova-api, nova-scheduler, placement and nova-compute (fake
driver) 34.0.0 around a conductor, on the local MariaDB and RabbitMQ.

Modes, by who serves the `conductor` topic:
- `legacy`: aioconductor, forwarding what it does not serve (compute_task) to a nova-conductor
  beside it (`[aioconductor] fallback_host`);
- `alone`: aioconductor and no nova-conductor at all (the goal of issue 23);
- `nova`: nova-conductor alone, no aioconductor (the reference), in 34.0.0's default
  threading mode on PyMySQL;
- `nova-eventlet`: nova-conductor alone in eventlet mode on mysqlclient (`mysql+mysqldb://`
  in its nova.conf and in the cell mappings, which every nova service reads the cells by).

Each run has fresh databases (api, cell0, cell1 and more cells, placement; a FakeDriver
compute cannot restart on an old services row) and a RabbitMQ virtual host of its own (one
per level with several cells), removed afterwards. Every process logs to a file under the
run's directory.

With several cells the stack is laid out as nova's cells v2 guide lays out a multi-cell
deployment: the conductor at the API level is the superconductor, and each cell has a
conductor of its own (the same kind as the superconductor: aioconductor in `alone` and
`legacy` modes, nova-conductor in `nova` mode, nova-conductor in eventlet mode in
`nova-eventlet` mode) on its vhost and database; cells are
created with `nova-manage cell_v2 create_cell`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psutil
import pymysql

from aioconductor.bench.host import HostSample
from aioconductor.novaenv import create_database, db_sync, drop_database, ensure_nova_venv
from aioconductor.novaenv.database import api_db_sync, cell_url
from tests.compat.nova_processes import free_port
from tests.compat.test_real_compute import query, scrape, tail
from tests.e2e import confs
from tests.e2e.clients import (
    EVENT_HOSTS_MICROVERSION,
    JsonApi,
    nova_api,
    placement_api,
    queue_consumers,
)

MODES = ("legacy", "alone", "nova", "nova-eventlet")
AIOCONDUCTOR_MODES = ("legacy", "alone")
ROOT = Path(__file__).resolve().parents[2]
NOVA_SIDE = Path(__file__).with_name("nova_side")
CELL0 = "00000000-0000-0000-0000-000000000000"
START_SECONDS = 120  # 2 shared cores start six Python services at once
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Service:
    name: str
    log: Path
    proc: subprocess.Popen[bytes]
    nova: bool  # nova's own code (its log is checked for ERROR records)
    exit_code: int | None = None


@dataclass
class Stack:
    mode: str
    layout: confs.Layout
    compute_hosts: list[str]
    services: list[Service] = field(default_factory=list)
    cell_uuids: dict[str, str] = field(default_factory=dict)  # name -> cell mapping uuid

    @property
    def api(self) -> JsonApi:
        return nova_api(self.layout.api_url)

    @property
    def events_api(self) -> JsonApi:
        """nova-api at the microversion that shows each action event's host."""
        return nova_api(self.layout.api_url, EVENT_HOSTS_MICROVERSION)

    @property
    def placement(self) -> JsonApi:
        return placement_api(self.layout.placement_url)

    @property
    def with_aioconductor(self) -> bool:
        return self.mode in AIOCONDUCTOR_MODES

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of each service's process tree (forked workers included), of
        MariaDB, RabbitMQ and this process (the scenario's HTTP clients), and the machine's
        idle time (all cores together): the stack shares the machine's cores."""
        host = HostSample.now()
        own = psutil.Process().cpu_times()
        spent = {s.name: _tree_cpu_seconds(s.proc.pid) for s in self.services}
        return spent | {
            "mariadb": host.database_cpu,
            "rabbitmq": host.broker_cpu,
            "scenario": own.user + own.system,
            "idle": host.idle,
        }

    @property
    def conductor_ports(self) -> dict[str, int]:
        """Each aioconductor's host -> its /metrics port (the superconductor's and, with
        several cells, each cell conductor's)."""
        ports = {confs.CONDUCTOR_HOST: self.layout.metrics_port}
        if self.layout.split:
            ports |= {cell.conductor_host: cell.metrics_port for cell in self.layout.cells}
        return ports

    def metrics_by_conductor(self) -> dict[str, Samples]:
        """Each aioconductor's /metrics samples (none in `nova` mode)."""
        if not self.with_aioconductor:
            return {}
        return {host: scrape(port) for host, port in self.conductor_ports.items()}

    def metrics(self) -> Samples:
        """Every aioconductor's /metrics samples, summed (empty in `nova` mode)."""
        total: Samples = {}
        for samples in self.metrics_by_conductor().values():
            for key, value in samples.items():
                total[key] = total.get(key, 0.0) + value
        return total

    def cell_name(self, compute: str) -> str:
        """The cell a compute was configured into."""
        return self.layout.cell_of(compute).name

    def host_cells(self) -> dict[str, str]:
        """Compute host -> the cell its host mapping names (nova-manage discover_hosts')."""
        rows = query(
            self.layout.api_db,
            "SELECT h.host, c.name FROM host_mappings h JOIN cell_mappings c ON h.cell_id = c.id",
        )
        return {str(host): str(cell) for host, cell in rows}

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def check_alive(self) -> None:
        for service in self.services:
            code = service.proc.poll()
            assert code is None, f"{service.name} exited with {code}:\n{tail(service.log)}"

    def stop(self) -> dict[str, int]:
        """Stop every process, front to back (computes, API and scheduler first, then the
        conductors, placement last), each group at once; their exit codes."""
        groups = (
            lambda s: s.name.startswith("nova-compute") or s.name in ("nova-api", "nova-scheduler"),
            lambda s: "conductor" in s.name,
            lambda s: True,
        )
        for belongs in groups:
            group = [s for s in self.services if s.exit_code is None and belongs(s)]
            for service in group:
                if service.proc.poll() is None:
                    service.proc.send_signal(signal.SIGTERM)
            for service in group:
                service.exit_code = _reap(service.proc)
        return {s.name: s.exit_code for s in self.services if s.exit_code is not None}


@contextmanager
def running_stack(
    mode: str, root: Path, computes: int = 1, cells: int = 1, reschedule: bool = False
) -> Iterator[Stack]:
    """A started stack; stopped, its databases dropped and its vhosts deleted on the way out
    (logs and configuration stay under `root`). `cells` real cells (computes dealt to them
    in turn); `reschedule`: the first compute fails every first build (at least 2 computes
    in its cell)."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: one of {', '.join(MODES)}")
    if computes < cells:
        raise ValueError(f"{cells} cells need at least as many computes (got {computes})")
    if reschedule and computes < 2 * cells:
        raise ValueError("a reschedule needs a second compute in the first compute's cell")
    prefix = f"e2e_{mode.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    vhost = f"aioc_{prefix}"
    layout = confs.Layout(
        prefix=prefix,
        root=root,
        vhost=vhost,
        api_db=f"aioc_{prefix}_api",
        cell0_db=f"aioc_{prefix}_cell0",
        cells=tuple(
            confs.Cell(
                name=f"cell{i}",
                db=f"aioc_{prefix}_cell{i}",
                vhost=f"{vhost}_cell{i}" if cells > 1 else vhost,
                metrics_port=free_port() if cells > 1 else 0,
            )
            for i in range(1, cells + 1)
        ),
        placement_db=f"aioc_{prefix}_placement",
        api_port=free_port(),
        placement_port=free_port(),
        metrics_port=free_port(),
        reschedule=reschedule,
        conductor_driver="mysqldb" if mode == "nova-eventlet" else "pymysql",
    )
    stack = Stack(mode, layout, [confs.compute_host(i) for i in range(1, computes + 1)])
    with ExitStack() as cleanup:
        for name in layout.vhosts:
            _virtual_host(name)
            cleanup.callback(_rabbitmqctl, "delete_vhost", name)
        cell_dbs = [cell.db for cell in layout.cells]
        for name in (layout.api_db, layout.cell0_db, *cell_dbs, layout.placement_db):
            create_database(name)
            cleanup.callback(drop_database, name)
        cleanup.callback(stack.stop)
        _build_databases(stack)
        _start(stack)
        yield stack


def _rabbitmqctl(*args: str) -> None:
    if shutil.which("rabbitmqctl") is None:
        raise RuntimeError("rabbitmqctl not found: the e2e tier needs a vhost of its own")
    subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, check=True)


def _virtual_host(name: str) -> None:
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")


def _build_databases(stack: Stack) -> None:
    """nova's and placement's own schema tools, at once (each is mostly interpreter start),
    then the cell mappings: with one cell written as `nova-manage cell_v2 map_cell0` and
    `create_cell` would write them (two more interpreters saved), with several cells by
    those commands themselves, as an operator adds cells."""
    layout = stack.layout
    venv = ensure_nova_venv()
    conf = layout.service_dir("placement") / "placement.conf"
    conf.write_text(confs.placement_conf(layout))
    placement_sync = [str(venv.bin("placement-manage")), "--config-file", str(conf), "db", "sync"]
    with ThreadPoolExecutor(3 + len(layout.cells)) as pool:
        jobs: list[Future[Any]] = [
            pool.submit(api_db_sync, venv, layout.api_db),
            pool.submit(db_sync, venv, layout.cell0_db),
            *(pool.submit(db_sync, venv, cell.db) for cell in layout.cells),
            pool.submit(subprocess.run, placement_sync, capture_output=True, check=True),
        ]
        for job in jobs:
            job.result()
    if layout.split:
        _create_cells(stack)
    else:
        cell, driver = layout.cells[0], layout.conductor_driver
        _insert_cell_mappings(
            layout.api_db,
            [
                (CELL0, "cell0", "none:///", cell_url(layout.cell0_db, driver)),
                (str(uuid.uuid4()), cell.name, cell.transport_url, cell_url(cell.db, driver)),
            ],
        )
    rows = query(layout.api_db, "SELECT name, uuid FROM cell_mappings")
    stack.cell_uuids = {str(name): str(cell_uuid) for name, cell_uuid in rows}


def _insert_cell_mappings(api_db: str, rows: list[tuple[str, str, str, str]]) -> None:
    connection = pymysql.connect(host="127.0.0.1", user="root", database=api_db)
    try:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO cell_mappings (created_at, uuid, name, transport_url, "
                "database_connection, disabled) VALUES (NOW(), %s, %s, %s, %s, 0)",
                rows,
            )
        connection.commit()
    finally:
        connection.close()


def _create_cells(stack: Stack) -> None:
    """`nova-manage cell_v2 map_cell0` and one `create_cell` per cell, with the API
    level's nova.conf, at once."""
    layout = stack.layout
    conf = _api_conf(layout)
    driver = layout.conductor_driver
    commands = [
        ["map_cell0", "--database_connection", cell_url(layout.cell0_db, driver)],
        *(
            [
                "create_cell",
                "--name",
                cell.name,
                "--database_connection",
                cell_url(cell.db, driver),
                "--transport-url",
                cell.transport_url,
            ]
            for cell in layout.cells
        ),
    ]
    with ThreadPoolExecutor(len(commands)) as pool:
        for done in pool.map(lambda args: _nova_manage(conf, "cell_v2", *args), commands):
            assert done.returncode == 0, f"{done.args}: {done.stdout}{done.stderr}"


def _nova_manage(conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    manage = str(ensure_nova_venv().bin("nova-manage"))
    command = [manage, "--config-file", str(conf), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _api_conf(layout: confs.Layout) -> Path:
    """nova-api's directory, with its nova.conf and api-paste.ini."""
    api_dir = layout.service_dir(confs.API_HOST)
    (api_dir / "nova.conf").write_text(confs.nova_conf(layout, confs.API_HOST))
    (api_dir / "api-paste.ini").write_text(confs.api_paste_ini())
    return api_dir / "nova.conf"


def _start(stack: Stack) -> None:
    layout = stack.layout
    placement_dir = layout.service_dir("placement")
    _wsgi(stack, "placement", layout.placement_port, placement_dir)
    _wait(stack, "placement", stack.placement.answers)
    conductors: list[confs.Cell | None] = [None]  # the (super)conductor
    if layout.split:
        conductors += list(layout.cells)
    for cell in conductors:
        host = cell.conductor_host if cell else confs.CONDUCTOR_HOST
        if stack.with_aioconductor:
            _aioconductor(stack, cell, fallback=stack.mode == "legacy")
        if stack.mode == "legacy":
            _nova_service(stack, "nova-conductor", confs.legacy_host(host), cell)
        if stack.mode == "nova":
            _nova_service(stack, "nova-conductor", host, cell)
        if stack.mode == "nova-eventlet":
            _eventlet_conductor(stack, host, cell)
    _nova_service(stack, "nova-scheduler", confs.SCHEDULER_HOST)
    api_conf = _api_conf(layout)
    _wsgi(stack, "nova-api", layout.api_port, api_conf.parent)
    for host in stack.compute_hosts:
        conf = layout.service_dir(host) / "nova.conf"
        conf.write_text(confs.compute_conf(layout, host))
        _launch(stack, f"nova-compute:{host}", _nova_command("nova-compute", conf), host)

    for service in stack.services:
        if service.name.startswith("aioconductor"):
            _wait(stack, service.name, partial(_logged_ready, service.log))
    for cell in conductors:
        host = cell.conductor_host if cell else confs.CONDUCTOR_HOST
        amqp = cell.amqp_url if cell else layout.amqp_url
        if stack.mode == "legacy":
            _wait_consumed(stack, "nova-conductor", f"conductor.{confs.legacy_host(host)}", amqp)
        if not stack.with_aioconductor:
            _wait_consumed(stack, "nova-conductor", f"conductor.{host}", amqp)
    _wait_consumed(stack, "nova-scheduler", f"scheduler.{confs.SCHEDULER_HOST}")
    _wait(stack, "nova-api", stack.api.answers)
    for host in stack.compute_hosts:
        amqp = layout.cell_of(host).amqp_url if layout.split else layout.amqp_url
        _wait_consumed(stack, f"nova-compute:{host}", f"compute.{host}", amqp)
        _wait(stack, f"{host} in placement", lambda host=host: _has_inventory(stack, host))
    _discover_hosts(stack, api_conf)


def _logged_ready(log: Path) -> bool:
    return "worker ready" in log.read_text(errors="replace")


def _discover_hosts(stack: Stack, conf: Path) -> None:
    """Map the computes to their cells with nova's own `nova-manage cell_v2
    discover_hosts`; each must be mapped to the cell whose database it registered in."""
    done = _nova_manage(conf, "cell_v2", "discover_hosts", "--verbose")
    assert done.returncode == 0, f"discover_hosts: {done.stdout}{done.stderr}"
    mapped = stack.host_cells()
    expected = {host: stack.cell_name(host) for host in stack.compute_hosts}
    assert expected.items() <= mapped.items(), (mapped, done.stdout)


def _nova_service(stack: Stack, binary: str, host: str, cell: confs.Cell | None = None) -> None:
    conf = stack.layout.service_dir(host) / "nova.conf"
    conf.write_text(confs.nova_conf(stack.layout, host, cell=cell))
    name = f"{binary}:{cell.name}" if cell else binary
    _launch(stack, name, _nova_command(binary, conf), host)


def _eventlet_conductor(stack: Stack, host: str, cell: confs.Cell | None) -> None:
    conf = stack.layout.service_dir(host) / "nova.conf"
    conf.write_text(confs.eventlet_conductor_conf(stack.layout, cell))
    # nova's switch to threading would override the file's concurrency_backend
    env = {k: v for k, v in os.environ.items() if k != "OS_NOVA_DISABLE_EVENTLET_PATCHING"}
    name = f"nova-conductor:{cell.name}" if cell else "nova-conductor"
    _launch(stack, name, _nova_command("nova-conductor", conf), host, env)


def _nova_command(binary: str, conf: Path) -> list[str]:
    python = str(ensure_nova_venv().python)
    return [python, str(NOVA_SIDE / "service.py"), binary, "--config-file", str(conf)]


def _wsgi(stack: Stack, kind: str, port: int, config_dir: Path) -> None:
    python = str(ensure_nova_venv().python)
    command = [python, str(NOVA_SIDE / "wsgi_server.py"), kind, str(port), str(config_dir)]
    _launch(stack, kind, command, config_dir.name)


def _aioconductor(stack: Stack, cell: confs.Cell | None, fallback: bool) -> None:
    host = cell.conductor_host if cell else confs.CONDUCTOR_HOST
    conf = stack.layout.service_dir(host) / "aioconductor.conf"
    conf.write_text(confs.aioconductor_conf(stack.layout, fallback, cell))
    command = [sys.executable, "-m", "aioconductor", "serve", "--config-file", str(conf)]
    # this tree's sources; its settings from its file only (AIOCONDUCTOR_* would override)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOCONDUCTOR_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    name = f"aioconductor:{cell.name}" if cell else "aioconductor"
    _launch(stack, name, [*command, "--workers", "1"], host, env, False)


def _launch(
    stack: Stack,
    name: str,
    command: list[str],
    directory: str,
    env: dict[str, str] | None = None,
    nova: bool = True,
) -> None:
    log = stack.layout.service_dir(directory) / f"{name.split(':', maxsplit=1)[0]}.log"
    environment = env or {**os.environ, "OS_NOVA_DISABLE_EVENTLET_PATCHING": "1"}
    with log.open("wb") as out:  # the child has its own copy of the descriptor
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=ROOT,
            start_new_session=True,  # its own process group: its workers go with it
        )
    stack.services.append(Service(name, log, proc, nova))


def _tree_cpu_seconds(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def _reap(proc: subprocess.Popen[bytes]) -> int:
    """Its exit code once it has stopped; after 45 s its whole process group is killed
    (nova-conductor's and nova-scheduler's forked workers included)."""
    try:
        return proc.wait(45)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()


def _wait(stack: Stack, what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not ready():
        stack.check_alive()
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {s.name}\n{tail(s.log, 1500)}" for s in stack.services)
            raise AssertionError(f"{what} not ready after {START_SECONDS} s\n{logs}")
        time.sleep(0.5)


def _wait_consumed(stack: Stack, what: str, queue: str, amqp_url: str | None = None) -> None:
    url = amqp_url or stack.layout.amqp_url
    _wait(stack, what, lambda: queue_consumers(url, queue) > 0)


def _has_inventory(stack: Stack, host: str) -> bool:
    providers = stack.placement.get(f"/resource_providers?name={host}")["resource_providers"]
    if not providers:
        return False
    inventories = stack.placement.get(f"/resource_providers/{providers[0]['uuid']}/inventories")
    return bool(inventories["inventories"])
