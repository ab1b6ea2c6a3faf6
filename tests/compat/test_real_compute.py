"""Real nova-compute 34.0.0 services (fake virt driver) served by aioconductor alone.

The drop-in claim, end to end: nova-compute processes (COMPUTES; one keeps the test near a
minute on 2 cores, most of it nova-manage db sync) start against aioconductor with no
legacy conductor anywhere, register their services rows, create their compute nodes through
the resource tracker, heartbeat through Service.save, and log no error. Everything the
computes ask the conductor must be served natively: a call aioconductor cannot serve would
fail with NotServed and show up in the compute's log and in /metrics.

nova-compute needs placement at start-up (its report client runs version discovery in the
compute manager's constructor); fake_placement.py answers the few calls it makes.

Two computes: one with the usual compute nova.conf, one whose nova.conf also has
`[api_database] connection` (common where one nova.conf is shared), as aioconductor's
has. That one reads the cell mappings through the conductor at start-up
(raise_if_old_compute -> get_minimum_version_all_cells -> CellMappingList.get_all), which
aioconductor serves from the API database.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pymysql
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aioconductor.novaenv import create_database, drop_database
from tests import rabbit
from tests.compat.fake_placement import PlacementState, fake_placement
from tests.compat.notification_queues import collect
from tests.compat.nova_processes import api_database_conf, nova_api_database, nova_database

# nova-manage db sync alone takes 22-50 s on 2 cores, depending on what else runs
pytestmark = [pytest.mark.connected, pytest.mark.compat, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
NOVA_BIN = ROOT / ".venv-nova" / "bin"
REPORT_INTERVAL = 2
RUN_SECONDS = 20
COMPUTES = 2  # the second one with [api_database] connection
# nova 34.0.0's own shutdown bug: Manager.periodic_tasks returns None once graceful shutdown
# has begun, and nova-compute starts its periodic timer without periodic_interval_max, so
# oslo.service's threading backend logs this RuntimeError if the timer fires during shutdown.
# No RPC is on that path: nova-compute logs it whichever conductor serves it.
NOVA_SHUTDOWN_BUG = (
    "'nova.service.Service.periodic_tasks' failed: RuntimeError: A dynamic interval "
    "looping call should supply either an interval or periodic_interval_max"
)
# What nova-compute itself does with `[api_database] connection`, whichever conductor serves
# it: after CellMappingList.get_all it reads each cell's services table directly, and its
# own DB guard refuses (DBNotAllowed, logged with a stack); the cell counts as not answering
# (nova.utils.raise_if_old_compute, nova.objects.service.get_minimum_version_all_cells).
NOVA_DB_NOT_ALLOWED = "No DB access allowed in nova-compute"
CELL0 = "00000000-0000-0000-0000-000000000000"
_LOG_LINE = re.compile(r"^(\S+ \S+ \d+ (\w+) \S+)")


@dataclass
class Compute:
    host: str
    log: Path
    proc: subprocess.Popen[bytes]
    api_database: bool

    @property
    def nova_errors(self) -> tuple[str, ...]:
        """The ERROR records nova-compute logs on its own with this configuration."""
        own = (NOVA_DB_NOT_ALLOWED,) if self.api_database else ()
        return (NOVA_SHUTDOWN_BUG, *own)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def common_conf(
    exchange: str, host: str, db: str, defaults: str = "", api_db: str | None = None
) -> str:
    """nova.conf text both sides read; `defaults` is more [DEFAULT] options. Versioned
    notifications are on, to a topic of this exchange's own (`vn_<exchange>`)."""
    text = (
        f"[DEFAULT]\ntransport_url = {rabbit.url()}\ncontrol_exchange = {exchange}\n"
        f"host = {host}\nreport_interval = {REPORT_INTERVAL}\nrpc_response_timeout = 30\n"
        f"{defaults}[database]\nconnection = mysql+pymysql://root@127.0.0.1/{db}\n"
        f"[notifications]\nnotification_format = versioned\n"
        f"versioned_notifications_topics = vn_{exchange}\n"
        "[oslo_messaging_notifications]\ndriver = messagingv2\n"
    )
    return text + (api_database_conf(api_db) if api_db else "")


@contextmanager
def api_database_with_cells(db: str) -> Iterator[str]:
    """An API database (nova-manage api_db sync) mapping cell0 (an empty database: nothing
    reads it here) and cell1, the cell database `db`, as `nova-manage cell_v2 map_cell0` and
    `create_cell` would; cell0's URL is a template, filled from the conductor's nova.conf."""
    cell0_db = f"aioc_rc_cell0_{uuid.uuid4().hex[:10]}"
    create_database(cell0_db)
    with ExitStack() as cleanup:
        cleanup.callback(drop_database, cell0_db)
        api_db = cleanup.enter_context(nova_api_database("rc_api"))
        connection = pymysql.connect(host="127.0.0.1", user="root", database=api_db)
        try:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO cell_mappings (created_at, uuid, name, transport_url, "
                    "database_connection, disabled) VALUES (NOW(), %s, %s, %s, %s, 0)",
                    [
                        (
                            CELL0,
                            "cell0",
                            "none:///",
                            f"{{scheme}}://{{username}}@{{hostname}}/{cell0_db}",
                        ),
                        (
                            str(uuid.uuid4()),
                            "cell1",
                            rabbit.url(),
                            f"mysql+pymysql://root@127.0.0.1/{db}",
                        ),
                    ],
                )
            connection.commit()
        finally:
            connection.close()
        yield api_db


@contextmanager
def aioconductor(
    tmp: Path, exchange: str, db: str, metrics: int, api_db: str | None = None
) -> Iterator[Path]:
    conf = tmp / "aioconductor.conf"
    conf.write_text(
        common_conf(exchange, f"aioc-{uuid.uuid4().hex[:6]}", db, api_db=api_db)
        + f"[aioconductor]\nmetrics_bind = 127.0.0.1:{metrics}\n"
    )
    log = tmp / "aioconductor.log"
    # this worktree's sources, whatever the venv's editable install points at
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "aioconductor", "serve", "--config-file", str(conf)]
    with log.open("wb") as out:  # the child has its own copy of the descriptor
        proc = subprocess.Popen([*command, "--workers", "1"], stderr=out, env=env, cwd=ROOT)
    try:
        wait_for(lambda: "worker ready" in log.read_text(), 60, proc, log)
        yield log
    except BaseException:
        terminate(proc)  # the failure already under way says more than our exit code
        raise
    assert terminate(proc) == 0, f"aioconductor did not exit cleanly:\n{tail(log)}"


@contextmanager
def nova_compute(
    tmp: Path, exchange: str, db: str, placement_url: str, api_db: str | None = None
) -> Iterator[Compute]:
    host = f"compute-{uuid.uuid4().hex[:6]}"
    state = tmp / host
    state.mkdir()
    conf = state / "nova.conf"
    conf.write_text(
        common_conf(
            exchange,
            host,
            db,
            "compute_driver = fake.SmallFakeDriver\n"
            f"update_resources_interval = {REPORT_INTERVAL}\nperiodic_fuzzy_delay = 0\n"
            f"state_path = {state}\ninstances_path = {state / 'instances'}\n",
            api_db,
        )
        + f"[oslo_concurrency]\nlock_path = {state / 'locks'}\n"
        f"[placement]\nauth_type = none\nendpoint_override = {placement_url}\n"
    )
    log = state / "nova-compute.log"
    env = {**os.environ, "OS_NOVA_DISABLE_EVENTLET_PATCHING": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(NOVA_BIN / "nova-compute"), "--config-file", str(conf)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        yield Compute(host, log, proc, api_db is not None)
    finally:
        terminate(proc)


def terminate(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then SIGKILL after 45 s (nova-compute's graceful shutdown takes ~10 s)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return reap(proc)


def reap(proc: subprocess.Popen[bytes]) -> int:
    """Its exit code, after SIGKILL if it takes over 45 s to exit."""
    if proc.poll() is None:
        try:
            proc.wait(45)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def wait_for(
    ready: Callable[[], bool], seconds: float, proc: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert proc.poll() is None, f"exited with {proc.returncode}:\n{tail(log)}"
        assert time.monotonic() < deadline, f"not ready after {seconds} s:\n{tail(log)}"
        time.sleep(0.5)


def tail(log: Path, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:]


def query(db: str, sql: str) -> list[tuple[object, ...]]:
    connection = pymysql.connect(host="127.0.0.1", user="root", database=db, autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())
    finally:
        connection.close()


def report_counts(db: str) -> dict[str, int]:
    rows = query(
        db,
        "SELECT host, report_count FROM services WHERE `binary` = 'nova-compute' AND deleted = 0",
    )
    return {str(host): int(str(count)) for host, count in rows}


def registered(db: str, host: str) -> bool:
    """The compute's services row and compute node exist."""
    return host in report_counts(db) and host in compute_node_hosts(db)


def compute_node_hosts(db: str) -> set[str]:
    return {str(row[0]) for row in query(db, "SELECT host FROM compute_nodes WHERE deleted = 0")}


def error_lines(log: Path, nova_errors: tuple[str, ...] = (NOVA_SHUTDOWN_BUG,)) -> list[str]:
    """ERROR and CRITICAL log records and tracebacks, without the records of nova's own
    that `nova_errors` name (its known shutdown bug by default)."""
    lines = log.read_text(errors="replace").splitlines()
    known = {
        match.group(1)
        for line in lines
        if any(error in line for error in nova_errors) and (match := _LOG_LINE.match(line))
    }
    found = []
    for line in lines:
        match = _LOG_LINE.match(line)
        if match and match.group(1) in known:
            continue  # every line of that one record, its traceback included
        if (match and match.group(2) in ("ERROR", "CRITICAL")) or "Traceback" in line:
            found.append(line)
    return found


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_real_nova_computes_run_against_aioconductor_alone(tmp_path: Path) -> None:
    if not (NOVA_BIN / "nova-compute").exists():
        pytest.fail("nova 34.0.0 virtualenv missing: run scripts/run-tests")
    exchange = f"aioc_rc_{uuid.uuid4().hex[:8]}"
    metrics = free_port()
    with ExitStack() as stack:
        db = stack.enter_context(nova_database("rc"))
        api_db = stack.enter_context(api_database_with_cells(db))
        placement_url, placement = stack.enter_context(fake_placement())
        ours_log = stack.enter_context(aioconductor(tmp_path, exchange, db, metrics, api_db))
        computes = [
            stack.enter_context(nova_compute(tmp_path, exchange, db, placement_url, api))
            for api in [None, api_db][:COMPUTES]
        ]
        hosts = {compute.host for compute in computes}
        for compute in computes:
            wait_for(partial(registered, db, compute.host), 75, compute.proc, compute.log)
        started = report_counts(db)
        time.sleep(RUN_SECONDS)
        ran = report_counts(db)
        running_errors = {c.host: error_lines(c.log, c.nova_errors) for c in computes}
        samples = scrape(metrics)
        notes = collect([f"vn_{exchange}.info"])[f"vn_{exchange}.info"]
        for compute in computes:  # all at once: each takes ~10 s to shut down
            compute.proc.send_signal(signal.SIGTERM)
        exits = {compute.host: reap(compute.proc) for compute in computes}
        shutdown_errors = {c.host: error_lines(c.log, c.nova_errors) for c in computes}

    assert not any(running_errors.values()), listing("while running", running_errors)
    assert not any(shutdown_errors.values()), listing("at shutdown", shutdown_errors)
    # heartbeats: nova's servicegroup db driver saves the service every report_interval,
    # through Service.save on our conductor
    expected = RUN_SECONDS // REPORT_INTERVAL // 2
    for host in hosts:
        assert ran[host] - started[host] >= expected, (started, ran)
    assert hosts <= hosts_reported_to_placement(placement)
    assert exits == dict.fromkeys(hosts, 0), exits
    check_served_natively(samples, ours_log)
    # the silent gap: each compute's Service.create is native, and its versioned
    # service.create comes from aioconductor, once
    created = sorted(
        m["body"]["publisher_id"] for m in notes if m["body"]["event_type"] == "service.create"
    )
    assert created == sorted(f"nova-compute:{host}" for host in hosts), notes


def listing(when: str, errors: dict[str, list[str]]) -> str:
    found = [f"{host}: {line}" for host, lines in errors.items() for line in lines]
    return f"nova-compute logged errors {when}:\n" + "\n".join(found[:80])


def hosts_reported_to_placement(placement: PlacementState) -> set[str]:
    """The hosts whose compute node reported an inventory to placement (the resource
    tracker got that far only if ComputeNode.create and save went through)."""
    with placement.lock:
        assert placement.unknown == [], placement.unknown
        return {p.name for p in placement.providers.values() if p.parts["inventories"]}


def check_served_natively(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], ours_log: Path
) -> None:
    received = {
        (dict(labels)["method"], dict(labels)["route"]): value
        for (name, labels), value in samples.items()
        if name == "aioconductor_received_messages_total"
    }
    failed = {
        (dict(labels)["method"], dict(labels)["error"]): value
        for (name, labels), value in samples.items()
        if name == "aioconductor_failed_messages_total"
    }
    assert {route for _, route in received} == {"native"}, received
    if COMPUTES > 1:  # the compute with [api_database] connection read the cell mappings
        assert received.get(("CellMappingList.get_all", "native"), 0) >= 1, received
    assert received.get(("Service.save", "native"), 0) >= COMPUTES * 3, received
    assert received.get(("ComputeNode.create", "native"), 0) == COMPUTES, received
    # a compute's first start looks its node up before creating it: nova's own NotFound
    first_start = {"ComputeHostNotFound"}
    assert {error for _, error in failed} <= first_start, failed
    text = ours_log.read_text(errors="replace")
    assert "not served natively" not in text
    assert error_lines(ours_log) == [], error_lines(ours_log)
