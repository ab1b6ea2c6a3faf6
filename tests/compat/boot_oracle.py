"""The boot oracle: one boot request through nova-conductor 34.0.0 and through aioconductor.

Each side has its own exchange, its own API, cell0 and cell1 databases (cloned from one
`nova-manage` sync), its own fake placement, its own scheduler stand-in answering
`select_destinations` from the same host list (tests/compat/legacy/stub_scheduler.py), and
a queue bound where the chosen compute's `compute.<host>` queue would be, which keeps the
`build_and_run_instance` cast. nova-api's part (the request spec, build request and instance
mapping rows, then the cast) is nova's own code (legacy/boot_request.py), with the same
instance uuids and request id on both sides. What is compared afterwards: every row of the
API and cell databases, the cast, what each conductor asked the scheduler, and the requests
placement received.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import pymysql

from aioconductor.bench.fixture import clone_database
from aioconductor.novaenv import drop_database, ensure_nova_venv
from tests.compat.fake_placement import PlacementState, fake_placement
from tests.compat.nova_processes import SCRIPTS, free_port, run_nova_script, stop_process

CELL0_UUID = "00000000-0000-0000-0000-000000000000"
CELL1_UUID = "6b3f7a4e-63a6-4b7e-9a07-2a8c2b8f6f01"
COMPUTE_HOST = "oracle-compute"
COMPUTE_NODE_UUID = "2c1e7f7e-2d9d-4d52-9f43-7f0c4a1b0c11"
ALTERNATE_HOST = "oracle-compute-2"
ALTERNATE_NODE_UUID = "4f0c7d55-8e7b-4a65-b1d8-5b7a0a6c3d22"
UNMAPPED_HOST = "oracle-unmapped"  # a compute whose host mapping is missing
CONDUCTOR_HOST = "oracle-conductor"
USER_ID = "5f4d0a1b2c3e4f5a6b7c8d9e0f1a2b3c"
PROJECT_ID = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
# rows nova-manage writes that no boot touches
_SCHEMA_TABLES = ("alembic_version", "migrate_version")
# kept from one scenario to the next, as a deployment keeps them: the conductors' services
# rows (they heartbeat on them) and the image's EC2 id (nova-conductor caches it per process,
# so a truncated row would not come back on its side)
_KEPT = ("services", "s3_images")


def _mysql(db: str | None = None) -> pymysql.connections.Connection:
    return pymysql.connect(host="127.0.0.1", user="root", database=db, autocommit=True)


def _tables(db: str) -> list[str]:
    with _mysql(db) as conn, conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        return [str(row[0]) for row in cur.fetchall()]


def truncate_database(name: str) -> None:
    """Every row a run wrote gone, AUTO_INCREMENT back at 1: both sides count ids alike."""
    with _mysql(name) as conn, conn.cursor() as cur:
        cur.execute("SET FOREIGN_KEY_CHECKS = 0")
        for table in _tables(name):
            if table not in (*_SCHEMA_TABLES, *_KEPT):
                cur.execute(f"TRUNCATE TABLE `{table}`")


def dump(db: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that has rows."""
    found: dict[str, list[dict[str, Any]]] = {}
    with _mysql(db) as conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
        for table in _tables(db):
            if table in _SCHEMA_TABLES:
                continue
            cur.execute(f"SELECT * FROM `{table}`")
            rows = [dict(row) for row in cur.fetchall()]
            if rows:
                found[table] = rows
    return found


@dataclass
class Side:
    """One conductor and everything around it."""

    name: str  # "nova" or "aio"
    workdir: Path
    api_db: str
    cell0_db: str
    cell1_db: str
    exchange: str
    placement_url: str
    placement: PlacementState
    vhost: str
    conf: Path = field(init=False)
    log: Path = field(init=False)
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.conf = self.workdir / f"{self.name}.conf"
        self.log = self.workdir / f"{self.name}.log"

    def url(self, scheme: str = "rabbit") -> str:
        return f"{scheme}://guest:guest@127.0.0.1:5672/{self.vhost}"

    def write_conf(self, metrics_port: int) -> None:
        db = "mysql+pymysql://root@127.0.0.1"
        text = (
            f"[DEFAULT]\ntransport_url = {self.url()}\ncontrol_exchange = {self.exchange}\n"
            f"host = {CONDUCTOR_HOST}\nrpc_response_timeout = 30\nlong_rpc_timeout = 60\n"
            f"[database]\nconnection = {db}/{self.cell1_db}\n"
            f"[api_database]\nconnection = {db}/{self.api_db}\n"
            f"[placement]\nauth_type = none\nendpoint_override = {self.placement_url}\n"
            "[oslo_concurrency]\nlock_path = /tmp\n"
            # every notification on: the boot's own and its failure paths' are compared too
            "[notifications]\nnotify_on_state_change = vm_and_task_state\n"
            "notification_format = both\n"
            "[oslo_messaging_notifications]\ndriver = messagingv2\n"
            # every group policy but soft-affinity is supported: a soft-affinity group is
            # the boot nova refuses with UnsupportedPolicyException (the conductors read
            # weight_classes for nothing else)
            "[filter_scheduler]\nweight_classes = "
            "nova.scheduler.weights.affinity.ServerGroupSoftAntiAffinityWeigher\n"
        )
        if self.name == "aio":
            text += f"[aioconductor]\nmetrics_bind = 127.0.0.1:{metrics_port}\n"
        self.conf.write_text(text)

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "OS_NOVA_DISABLE_EVENTLET_PATCHING"}
        if self.name == "aio":
            argv = [sys.executable, "-m", "aioconductor", "serve", "--config-file", str(self.conf)]
            ready = "serving compute_task.schedule_and_build_instances natively"
        else:
            argv = [str(ensure_nova_venv().bin("nova-conductor")), "--config-file", str(self.conf)]
            ready = "Starting conductor node"
        self.proc = subprocess.Popen(
            argv, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, env=env
        )
        deadline = time.monotonic() + 60
        while ready not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not start:\n{self.tail()}")
            time.sleep(0.2)
        time.sleep(1.0)  # consumers attached after the line

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def tail(self, chars: int = 5000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def reset(self) -> None:
        for db in (self.api_db, self.cell0_db, self.cell1_db):
            truncate_database(db)
        take_notifications(self.url("amqp"))  # what a run before left
        with self.placement.lock:
            self.placement.requests.clear()
            self.placement.bodies.clear()
            self.placement.headers.clear()
            self.placement.consumers.clear()
            self.placement.full.clear()

    def cells_job(self) -> dict[str, Any]:
        db = "mysql+pymysql://root@127.0.0.1"
        return {
            "cell0": {"uuid": CELL0_UUID, "database": f"{db}/{self.cell0_db}",
                      "transport_url": "none:///"},
            "cell1": {"uuid": CELL1_UUID, "database": f"{db}/{self.cell1_db}",
                      "transport_url": self.url()},
        }  # fmt: skip


@contextmanager
def private_vhost(name: str) -> Iterator[str]:
    def rabbitmqctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)

    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        rabbitmqctl("delete_vhost", name)


@contextmanager
def sides(tmp: Path) -> Iterator[dict[str, Side]]:
    """Both sides' databases, placements and confs (the conductors not started)."""
    tag = uuid.uuid4().hex[:8]
    with ExitStack() as stack:
        from tests.compat.nova_processes import nova_api_database, nova_database

        api_template = stack.enter_context(nova_api_database(f"bo_api_{tag}"))
        cell_template = stack.enter_context(nova_database(f"bo_cell_{tag}"))
        built: dict[str, Side] = {}
        for name in ("nova", "aio"):
            names = [f"aioc_bo_{name}_{part}_{tag}" for part in ("api", "cell0", "cell1")]
            templates = (api_template, cell_template, cell_template)
            for db, template in zip(names, templates, strict=True):
                clone_database(template, db)
                stack.callback(drop_database, db)
            url, state = stack.enter_context(fake_placement())
            # oslo names the topic queue `conductor` whatever the exchange: one vhost per side
            vhost = stack.enter_context(private_vhost(f"aioc_bo_{name}_{tag}"))
            built[name] = Side(
                name,
                tmp,
                *names,
                exchange=f"bo_{name}_{tag}",
                placement_url=url,
                placement=state,
                vhost=vhost,
            )
            built[name].write_conf(free_port())
        yield built


@dataclass
class Scenario:
    name: str
    instances: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    scheduler_mode: str = "hosts"
    alternates: int = 1
    delete_build_requests: bool = False
    second_host_unmapped: bool = False
    # after the boot, the first compute fails its build and asks for a reschedule
    # (legacy/reschedule_request.py): "alternate" (claimed and cast there), "full" (the
    # alternate's provider refuses the claim), or "attempts" (the retry already counts
    # `attempts` builds)
    reschedule: str | None = None
    attempts: int | None = None


@dataclass
class Outcome:
    casts: list[dict[str, Any]]
    scheduler_calls: list[dict[str, Any]]
    api: dict[str, list[dict[str, Any]]]
    cell0: dict[str, list[dict[str, Any]]]
    cell1: dict[str, list[dict[str, Any]]]
    placement: list[tuple[str, str]]
    placement_bodies: list[Any] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)


async def _declare_compute_queue(url: str, exchange: str, host: str) -> None:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        # as oslo declares its control exchange (amqp_durable_queues = false)
        ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=False)
        queue = await channel.declare_queue(f"compute.{host}", durable=False)
        await queue.bind(ex, routing_key=f"compute.{host}")
    finally:
        await connection.close()


async def _drain(url: str, queue_name: str) -> list[dict[str, Any]]:
    connection = await aio_pika.connect(url)
    found = []
    try:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name, ensure=True)
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            body = json.loads(message.body)
            found.append(json.loads(body["oslo.message"]) if "oslo.message" in body else body)
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
    return found


def _settled(side: Side) -> bool:
    """The conductor is done: no build request left, or (a failed recheck leaves them) an
    instance in ERROR in cell1."""
    with _mysql(side.api_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM build_requests")
        if int(cur.fetchone()[0]) == 0:
            return True
    with _mysql(side.cell1_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM instances WHERE vm_state = 'error'")
        return int(cur.fetchone()[0]) > 0


def run(side: Side, scenario: Scenario, uuids: list[str], request_id: str) -> Outcome:
    """The scenario through `side`'s (running) conductor; what it left behind."""
    side.reset()
    record = side.workdir / f"{side.name}-{scenario.name}-scheduler.jsonl"
    record.unlink(missing_ok=True)
    amqp = side.url("amqp")
    asyncio.run(_declare_compute_queue(amqp, side.exchange, COMPUTE_HOST))
    asyncio.run(_declare_compute_queue(amqp, side.exchange, ALTERNATE_HOST))
    hosts = [
        {"host": COMPUTE_HOST, "node": f"{COMPUTE_HOST}-node", "cell_uuid": CELL1_UUID,
         "compute_node_uuid": COMPUTE_NODE_UUID},
        {"host": ALTERNATE_HOST, "node": f"{ALTERNATE_HOST}-node", "cell_uuid": CELL1_UUID,
         "compute_node_uuid": ALTERNATE_NODE_UUID},
    ]  # fmt: skip
    if scenario.second_host_unmapped:
        hosts[1] = {**hosts[1], "host": UNMAPPED_HOST, "node": f"{UNMAPPED_HOST}-node"}
    job = {
        "conf": str(side.conf), "mode": scenario.scheduler_mode, "hosts": hosts,
        "alternates": scenario.alternates, "record": str(record),
        "delete_build_requests": uuids if scenario.delete_build_requests else [],
    }  # fmt: skip
    env = {**os.environ, "OS_NOVA_DISABLE_EVENTLET_PATCHING": "true"}
    scheduler = subprocess.Popen(
        [str(ensure_nova_venv().python), str(SCRIPTS / "stub_scheduler.py"), json.dumps(job)],
        stdout=subprocess.PIPE,
        stderr=(side.workdir / f"{side.name}-{scenario.name}-scheduler.log").open("wb"),
        env=env,
    )
    try:
        assert scheduler.stdout is not None
        if scheduler.stdout.readline().strip() != b"ready":
            raise AssertionError("the scheduler stand-in did not start")
        run_nova_script(
            "boot_request.py",
            {
                "conf": str(side.conf), "cells": side.cells_job(),
                "hosts": [COMPUTE_HOST, ALTERNATE_HOST],
                "request_id": request_id, "user_id": USER_ID, "project_id": PROJECT_ID,
                "instance_uuids": uuids, "reservation_id": "r-oracle0",
                "options": scenario.options,
            },
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not _settled(side) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # the cast follows the build request's delete
    finally:
        stop_process(scheduler)  # type: ignore[arg-type]
    if scenario.reschedule:
        # a loaded machine: the build cast the reschedule starts from may still be on its way
        _wait_for_message(amqp, f"compute.{COMPUTE_HOST}")
    casts = asyncio.run(_drain(amqp, f"compute.{COMPUTE_HOST}"))
    casts += asyncio.run(_drain(amqp, f"compute.{ALTERNATE_HOST}"))
    if scenario.reschedule:
        casts += _reschedule(side, scenario, casts)
    calls = (
        [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    )
    return Outcome(
        casts=casts,
        scheduler_calls=calls,
        api=dump(side.api_db),
        cell0=dump(side.cell0_db),
        cell1=dump(side.cell1_db),
        placement=list(side.placement.requests),
        placement_bodies=list(side.placement.bodies),
        notifications=take_notifications(amqp),
    )


def _vm_states(side: Side) -> list[str]:
    with _mysql(side.cell1_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT vm_state FROM instances ORDER BY id")
        return [str(row[0]) for row in cur.fetchall()]


def _reschedule(side: Side, scenario: Scenario, boot_casts: list[dict[str, Any]]) -> list[Any]:
    """The first compute's build fails: it casts build_instances with its alternates; the
    casts that follow (to the alternate), once the conductor is done."""
    amqp = side.url("amqp")
    first = next(c for c in boot_casts if c["args"]["node"] == f"{COMPUTE_HOST}-node")
    if scenario.reschedule == "full":
        side.placement.full.add(ALTERNATE_NODE_UUID)
    asyncio.run(_declare_compute_queue(amqp, side.exchange, COMPUTE_HOST))
    asyncio.run(_declare_compute_queue(amqp, side.exchange, ALTERNATE_HOST))
    run_nova_script(
        "reschedule_request.py",
        {"conf": str(side.conf), "cast": first, "attempts": scenario.attempts},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _count(amqp, f"compute.{ALTERNATE_HOST}") or "error" in _vm_states(side):
            break
        time.sleep(0.3)
    time.sleep(1.0)  # anything after the cast or the fault (the networks' save)
    found = asyncio.run(_drain(amqp, f"compute.{ALTERNATE_HOST}"))
    found += asyncio.run(_drain(amqp, f"compute.{COMPUTE_HOST}"))
    return found


NOTIFICATION_QUEUES = tuple(
    f"{topic}.{priority}"
    for topic in ("notifications", "versioned_notifications")
    for priority in ("info", "error")
)


def take_notifications(url: str) -> list[dict[str, Any]]:
    """Every notification waiting on oslo's default queues, taken off them (the queues stay:
    a notifier declares its queue once, and one deleted under it would lose the next)."""

    async def take() -> list[dict[str, Any]]:
        connection = await aio_pika.connect(url)
        found: list[dict[str, Any]] = []
        try:
            for name in NOTIFICATION_QUEUES:
                channel = await connection.channel()
                try:
                    queue = await channel.declare_queue(name, passive=True)
                except aio_pika.exceptions.ChannelClosed:
                    continue  # never declared: nothing was sent there
                while (message := await queue.get(fail=False, no_ack=True)) is not None:
                    body = json.loads(message.body)
                    if "oslo.message" in body:
                        body = json.loads(body["oslo.message"])
                    found.append({"queue": name, **body})
        finally:
            await connection.close()
        return found

    return asyncio.run(take())


def _count(url: str, queue_name: str) -> int:
    """Messages waiting on a queue (it stays: draining deletes it, and a cast that came
    while it was gone would be lost)."""

    async def count() -> int:
        connection = await aio_pika.connect(url)
        try:
            channel = await connection.channel()
            queue = await channel.declare_queue(queue_name, passive=True)
            return int(queue.declaration_result.message_count or 0)
        finally:
            await connection.close()

    return asyncio.run(count())


def _wait_for_message(url: str, queue_name: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not _count(url, queue_name):
        assert time.monotonic() < deadline, f"nothing reached {queue_name} in {limit:.0f} s"
        time.sleep(0.3)
