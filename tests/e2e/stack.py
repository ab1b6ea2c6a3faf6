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

Each run has fresh databases (api, cell0, cell1, placement; a FakeDriver compute cannot
restart on an old services row) and a RabbitMQ virtual host of its own, removed afterwards.
Every process logs to a file under the run's directory.
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pymysql

from aioconductor.bench.host import HostSample
from aioconductor.novaenv import create_database, db_sync, drop_database, ensure_nova_venv
from aioconductor.novaenv.database import api_db_sync, cell_url
from tests.compat.nova_processes import free_port
from tests.compat.test_real_compute import query, scrape, tail
from tests.e2e import confs
from tests.e2e.clients import JsonApi, nova_api, placement_api, queue_consumers

MODES = ("legacy", "alone", "nova", "nova-eventlet")
AIOCONDUCTOR_MODES = ("legacy", "alone")
ROOT = Path(__file__).resolve().parents[2]
NOVA_SIDE = Path(__file__).with_name("nova_side")
CELL0 = "00000000-0000-0000-0000-000000000000"
START_SECONDS = 120  # 2 shared cores start six Python services at once


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

    @property
    def api(self) -> JsonApi:
        return nova_api(self.layout.api_url)

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

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """aioconductor's /metrics samples (empty in `nova` mode)."""
        return scrape(self.layout.metrics_port) if self.with_aioconductor else {}

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
def running_stack(mode: str, root: Path, computes: int = 1) -> Iterator[Stack]:
    """A started stack; stopped, its databases dropped and its vhost deleted on the way out
    (logs and configuration stay under `root`)."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: one of {', '.join(MODES)}")
    prefix = f"e2e_{mode.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    layout = confs.Layout(
        prefix=prefix,
        root=root,
        vhost=f"aioc_{prefix}",
        api_db=f"aioc_{prefix}_api",
        cell0_db=f"aioc_{prefix}_cell0",
        cell1_db=f"aioc_{prefix}_cell1",
        placement_db=f"aioc_{prefix}_placement",
        api_port=free_port(),
        placement_port=free_port(),
        metrics_port=free_port(),
        conductor_driver="mysqldb" if mode == "nova-eventlet" else "pymysql",
    )
    stack = Stack(mode, layout, [confs.compute_host(i) for i in range(1, computes + 1)])
    with ExitStack() as cleanup:
        _virtual_host(layout.vhost)
        cleanup.callback(_rabbitmqctl, "delete_vhost", layout.vhost)
        for name in (layout.api_db, layout.cell0_db, layout.cell1_db, layout.placement_db):
            create_database(name)
            cleanup.callback(drop_database, name)
        cleanup.callback(stack.stop)
        _build_databases(layout)
        _start(stack)
        yield stack


def _rabbitmqctl(*args: str) -> None:
    if shutil.which("rabbitmqctl") is None:
        raise RuntimeError("rabbitmqctl not found: the e2e tier needs a vhost of its own")
    subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, check=True)


def _virtual_host(name: str) -> None:
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")


def _build_databases(layout: confs.Layout) -> None:
    """nova's and placement's own schema tools, at once (each is mostly interpreter start),
    then the two cell mappings `nova-manage cell_v2 map_cell0` and `create_cell` would
    write."""
    venv = ensure_nova_venv()
    conf = layout.service_dir("placement") / "placement.conf"
    conf.write_text(confs.placement_conf(layout))
    placement_sync = [str(venv.bin("placement-manage")), "--config-file", str(conf), "db", "sync"]
    with ThreadPoolExecutor(4) as pool:
        jobs = [
            pool.submit(api_db_sync, venv, layout.api_db),
            pool.submit(db_sync, venv, layout.cell0_db),
            pool.submit(db_sync, venv, layout.cell1_db),
            pool.submit(subprocess.run, placement_sync, capture_output=True, check=True),
        ]
        for job in jobs:
            job.result()
    driver = layout.conductor_driver
    cell1 = cell_url(layout.cell1_db, driver)
    connection = pymysql.connect(host="127.0.0.1", user="root", database=layout.api_db)
    try:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO cell_mappings (created_at, uuid, name, transport_url, "
                "database_connection, disabled) VALUES (NOW(), %s, %s, %s, %s, 0)",
                [
                    (CELL0, "cell0", "none:///", cell_url(layout.cell0_db, driver)),
                    (str(uuid.uuid4()), "cell1", layout.transport_url, cell1),
                ],
            )
        connection.commit()
    finally:
        connection.close()


def _start(stack: Stack) -> None:
    layout = stack.layout
    placement_dir = layout.service_dir("placement")
    _wsgi(stack, "placement", layout.placement_port, placement_dir)
    _wait(stack, "placement", stack.placement.answers)
    if stack.with_aioconductor:
        _aioconductor(stack, fallback=stack.mode == "legacy")
    if stack.mode == "legacy":
        _nova_service(stack, "nova-conductor", confs.LEGACY_CONDUCTOR_HOST)
    if stack.mode == "nova":
        _nova_service(stack, "nova-conductor", confs.CONDUCTOR_HOST)
    if stack.mode == "nova-eventlet":
        conf = layout.service_dir(confs.CONDUCTOR_HOST) / "nova.conf"
        conf.write_text(confs.eventlet_conductor_conf(layout))
        # nova's switch to threading would override the file's concurrency_backend
        env = {k: v for k, v in os.environ.items() if k != "OS_NOVA_DISABLE_EVENTLET_PATCHING"}
        command = _nova_command("nova-conductor", conf)
        _launch(stack, "nova-conductor", command, confs.CONDUCTOR_HOST, env)
    _nova_service(stack, "nova-scheduler", confs.SCHEDULER_HOST)
    api_dir = layout.service_dir(confs.API_HOST)
    (api_dir / "nova.conf").write_text(confs.nova_conf(layout, confs.API_HOST))
    (api_dir / "api-paste.ini").write_text(confs.api_paste_ini())
    _wsgi(stack, "nova-api", layout.api_port, api_dir)
    for host in stack.compute_hosts:
        conf = layout.service_dir(host) / "nova.conf"
        conf.write_text(confs.compute_conf(layout, host))
        _launch(stack, f"nova-compute:{host}", _nova_command("nova-compute", conf), host)

    if stack.with_aioconductor:
        log = stack.service("aioconductor").log
        _wait(stack, "aioconductor", lambda: "worker ready" in log.read_text(errors="replace"))
    conductor_host = confs.LEGACY_CONDUCTOR_HOST if stack.mode == "legacy" else None
    conductor_host = conductor_host if stack.with_aioconductor else confs.CONDUCTOR_HOST
    if conductor_host:
        _wait_consumed(stack, "nova-conductor", f"conductor.{conductor_host}")
    _wait_consumed(stack, "nova-scheduler", f"scheduler.{confs.SCHEDULER_HOST}")
    _wait(stack, "nova-api", stack.api.answers)
    for host in stack.compute_hosts:
        _wait_consumed(stack, f"nova-compute:{host}", f"compute.{host}")
        _wait(stack, f"{host} in placement", lambda host=host: _has_inventory(stack, host))
    _discover_hosts(stack, api_dir / "nova.conf")


def _discover_hosts(stack: Stack, conf: Path) -> None:
    """Map the computes to cell1 with nova's own `nova-manage cell_v2 discover_hosts`."""
    manage = str(ensure_nova_venv().bin("nova-manage"))
    command = [manage, "--config-file", str(conf), "cell_v2", "discover_hosts", "--verbose"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"discover_hosts: {done.stdout}{done.stderr}"
    mapped = {str(row[0]) for row in query(stack.layout.api_db, "SELECT host FROM host_mappings")}
    assert set(stack.compute_hosts) <= mapped, (mapped, done.stdout)


def _nova_service(stack: Stack, binary: str, host: str) -> None:
    conf = stack.layout.service_dir(host) / "nova.conf"
    conf.write_text(confs.nova_conf(stack.layout, host))
    _launch(stack, binary, _nova_command(binary, conf), host)


def _nova_command(binary: str, conf: Path) -> list[str]:
    python = str(ensure_nova_venv().python)
    return [python, str(NOVA_SIDE / "service.py"), binary, "--config-file", str(conf)]


def _wsgi(stack: Stack, kind: str, port: int, config_dir: Path) -> None:
    python = str(ensure_nova_venv().python)
    command = [python, str(NOVA_SIDE / "wsgi_server.py"), kind, str(port), str(config_dir)]
    _launch(stack, kind, command, config_dir.name)


def _aioconductor(stack: Stack, fallback: bool) -> None:
    conf = stack.layout.service_dir(confs.CONDUCTOR_HOST) / "aioconductor.conf"
    conf.write_text(confs.aioconductor_conf(stack.layout, fallback))
    command = [sys.executable, "-m", "aioconductor", "serve", "--config-file", str(conf)]
    # this tree's sources; its settings from its file only (AIOCONDUCTOR_* would override)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOCONDUCTOR_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    _launch(stack, "aioconductor", [*command, "--workers", "1"], confs.CONDUCTOR_HOST, env, False)


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


def _wait_consumed(stack: Stack, what: str, queue: str) -> None:
    _wait(stack, what, lambda: queue_consumers(stack.layout.amqp_url, queue) > 0)


def _has_inventory(stack: Stack, host: str) -> bool:
    providers = stack.placement.get(f"/resource_providers?name={host}")["resource_providers"]
    if not providers:
        return False
    inventories = stack.placement.get(f"/resource_providers/{providers[0]['uuid']}/inventories")
    return bool(inventories["inventories"])
