"""The fault lab: a private broker and database behind proxies the tier controls, nova's
schema made by `nova-manage db sync`, rows seeded with nova's own code, and per run a fresh
virtual host, nova.conf and tag prefix so runs never see each other's messages or writes."""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aioconductor.novaenv import create_database, db_sync, ensure_nova_venv
from tests.fault.conductors import Conductor
from tests.fault.proxy import FaultProxy
from tests.fault.services import (
    PrivateMariaDB,
    PrivateRabbit,
    free_port,
    list_queues_args,
    parse_queues,
)

NOVA_LOAD = Path(__file__).with_name("nova_load.py")
HEARTBEAT_THRESHOLD = 10  # [oslo_messaging_rabbit] heartbeat_timeout_threshold, both conductors
RESPONSE_TIMEOUT = 10  # the client's rpc_response_timeout

# Each write's tag, recorded by the database itself: a trigger fires once per row the
# statement touches, so a write applied twice leaves two rows. action_start's rows are
# counted in instance_actions (one INSERT per application).
AUDIT_SQL = """
CREATE TABLE fault_audit (
  id BIGINT AUTO_INCREMENT PRIMARY KEY, kind VARCHAR(16) NOT NULL, tag VARCHAR(255) NOT NULL,
  at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY (tag));
CREATE TRIGGER fault_service_saved AFTER UPDATE ON services FOR EACH ROW
  INSERT INTO fault_audit (kind, tag) SELECT 'service', NEW.report_count FROM DUAL
  WHERE NEW.host LIKE 'fault-c%' AND NEW.report_count <> OLD.report_count;
CREATE TRIGGER fault_instance_saved AFTER UPDATE ON instances FOR EACH ROW
  INSERT INTO fault_audit (kind, tag) SELECT 'instance', NEW.display_name FROM DUAL
  WHERE NEW.display_name LIKE 'w%' AND NOT (NEW.display_name <=> OLD.display_name);
"""


@dataclass
class Run:
    """One scenario against one conductor: its own vhost, conf and tags."""

    lab: Lab
    kind: str
    name: str
    workers: int = 1
    extra_conf: str = ""
    vhost: str = field(default_factory=lambda: f"fault_{uuid.uuid4().hex[:8]}")
    prefix: str = field(default_factory=lambda: f"w{uuid.uuid4().hex[:6]}")
    metrics_port: int = field(default_factory=free_port)
    # Service.save's tags are report_count values: a block of 100,000 of its own per run
    number_base: int = field(default_factory=lambda: random.randint(1, 20_000) * 100_000)
    conductor: Conductor | None = None

    @property
    def dir(self) -> Path:
        path = self.lab.base / "runs" / f"{self.name}-{self.kind}-{self.prefix}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def conductor_conf(self) -> Path:
        lab = self.lab
        path = self.dir / "nova.conf"
        path.write_text(
            f"[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:{lab.amqp_proxy.port}/"
            f"{self.vhost}\ncontrol_exchange = nova\nhost = fault-{self.kind}-{self.prefix}\n"
            f"report_interval = 5\n"
            f"[database]\nconnection = mysql+pymysql://root@127.0.0.1:{lab.db_proxy.port}/"
            f"{lab.database}\n"
            f"[conductor]\nworkers = {self.workers}\n"
            f"[oslo_concurrency]\nlock_path = {self.dir}\n"
            f"[oslo_messaging_rabbit]\nheartbeat_timeout_threshold = {HEARTBEAT_THRESHOLD}\n"
            # nova-conductor builds a placement client at start-up; nothing here calls it
            "[placement]\nauth_type = none\nendpoint_override = http://127.0.0.1:9/placement\n"
            f"[aioconductor]\nmetrics_bind = 127.0.0.1:{self.metrics_port}\n{self.extra_conf}"
        )
        return path

    def client_conf(self) -> Path:
        """nova's client talks to the broker directly: the faults are the conductor's."""
        path = self.dir / "client.conf"
        path.write_text(
            f"[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:{self.lab.rabbit.port}/"
            f"{self.vhost}\ncontrol_exchange = nova\nrpc_response_timeout = {RESPONSE_TIMEOUT}\n"
            "rpc_conn_pool_size = 400\n"
        )
        return path

    def setup(self) -> None:
        self.lab.rabbit.ctl("add_vhost", self.vhost)
        self.lab.rabbit.ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.conductor = Conductor(
            self.kind, self.conductor_conf(), self.dir / "conductor.log", self.workers
        )

    def start_conductor(self, wait: bool = True, timeout: float = 90) -> float:
        """Start it; with `wait`, until it consumes from `conductor`. Returns the seconds."""
        assert self.conductor is not None
        started = time.monotonic()
        self.conductor.start()
        if wait:
            self.wait_consuming(timeout)
        return time.monotonic() - started

    def wait_consuming(self, timeout: float) -> None:
        assert self.conductor is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.conductor.alive():
                raise RuntimeError(f"{self.kind} exited:\n{self.log_tail()}")
            if self.queue("conductor")[2] > 0:
                return
            time.sleep(0.3)
        raise TimeoutError(f"{self.kind} not consuming after {timeout} s:\n{self.log_tail()}")

    def queue(self, name: str) -> tuple[int, int, int]:
        """(ready, unacked, consumers) of a queue in this run's vhost; zeros if absent."""
        return self.lab.queues(self.vhost).get(name, (0, 0, 0))

    def log_tail(self, chars: int = 3000) -> str:
        assert self.conductor is not None
        try:
            return self.conductor.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def nova(self, job: dict[str, Any], timeout: float = 600) -> subprocess.Popen[str]:
        """Start nova_load.py in nova's venv; `finish` collects its answer."""
        out = self.dir / f"{job['mode']}-{uuid.uuid4().hex[:6]}.json"
        job = {
            **job,
            "config_file": str(self.client_conf()),
            "out": str(out),
            "seed": self.lab.seed,
            "prefix": self.prefix,
            "number_base": self.number_base,
        }
        proc = subprocess.Popen(
            [str(ensure_nova_venv().python), str(NOVA_LOAD)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / f"{job['mode']}.err").open("ab"),
            text=True,
            env={**os.environ, "OS_NOVA_DISABLE_EVENTLET_PATCHING": "1"},
        )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(job))
        proc.stdin.close()
        proc.out_path = out  # type: ignore[attr-defined]
        proc.mode = job["mode"]  # type: ignore[attr-defined]
        return proc

    def wait_started(self, proc: subprocess.Popen[str], timeout: float = 120) -> None:
        """Until nova_load.py sends its first call (nova's imports take seconds)."""
        marker = Path(str(proc.out_path) + ".started")  # type: ignore[attr-defined]
        deadline = time.monotonic() + timeout
        while not marker.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nova_load.py did not start: see {self.dir}")
            time.sleep(0.1)

    def settle(self, timeout: float) -> tuple[int, int]:
        """Give the conductor `timeout` s to empty its queue; (ready, unacked) at the end."""
        deadline = time.monotonic() + timeout
        while True:
            ready, unacked, _ = self.queue("conductor")
            if (ready, unacked) == (0, 0) or time.monotonic() > deadline:
                return ready, unacked
            time.sleep(1)

    def finish(self, proc: subprocess.Popen[str], timeout: float = 600) -> dict[str, Any]:
        rc = proc.wait(timeout)
        if rc != 0:
            err = (self.dir / f"{proc.mode}.err").read_text()[-3000:]  # type: ignore[attr-defined]
            raise RuntimeError(f"nova_load.py exited {rc}:\n{err}")
        answer: dict[str, Any] = json.loads(proc.out_path.read_text())  # type: ignore[attr-defined]
        return answer

    def teardown(self) -> None:
        if self.conductor is not None:
            self.conductor.stop()
        self.lab.rabbit.ctl_ok("delete_vhost", self.vhost)


class Lab:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.rabbit = PrivateRabbit(base / "rabbit")
        self.mariadb = PrivateMariaDB(base / "mariadb")
        self.database = "nova_fault"
        self.amqp_proxy = FaultProxy(("127.0.0.1", 0))
        self.db_proxy = FaultProxy(("127.0.0.1", 0))
        self.seed: dict[str, Any] = {}
        self.timings: dict[str, float] = {}

    def start(self) -> None:
        started = time.monotonic()
        # the broker boots while nova-manage builds the schema: they share nothing
        with ThreadPoolExecutor(1) as background:
            rabbit_up = background.submit(self.rabbit.start)
            self._start_database()
            rabbit_up.result()
        self.timings["rabbitmq boot"] = self.rabbit.boot_seconds
        self.amqp_proxy.upstream = ("127.0.0.1", self.rabbit.port)
        self.amqp_proxy.__enter__()
        seeded = time.monotonic()
        self.seed = self._seed()
        self.timings["seed"] = time.monotonic() - seeded
        self.timings["lab total"] = time.monotonic() - started

    def _start_database(self) -> None:
        self.mariadb.start()
        self.timings["mariadb install"] = self.mariadb.install_seconds
        self.timings["mariadb boot"] = self.mariadb.boot_seconds
        self.db_proxy.upstream = ("127.0.0.1", self.mariadb.port)
        self.db_proxy.__enter__()
        synced = time.monotonic()
        create_database(self.database, port=self.mariadb.port)
        db_sync(ensure_nova_venv(), self.database, port=self.mariadb.port)
        self.timings["nova-manage db sync"] = time.monotonic() - synced
        self.mariadb.sql(AUDIT_SQL, self.database)

    def _seed(self) -> dict[str, Any]:
        conf = self.base / "seed.conf"
        conf.write_text(
            f"[database]\nconnection = mysql+pymysql://root@127.0.0.1:{self.mariadb.port}/"
            f"{self.database}\n"
            # nova's create() sends a notification: with nowhere to go
            f"[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:{self.rabbit.port}/\n"
            "[oslo_messaging_notifications]\ndriver = noop\n"
        )
        out = self.base / "seed.json"
        job = {
            "mode": "seed",
            "config_file": str(conf),
            "out": str(out),
            "services": 10,
            "instances": 40,
        }
        proc = subprocess.run(
            [str(ensure_nova_venv().python), str(NOVA_LOAD)],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "OS_NOVA_DISABLE_EVENTLET_PATCHING": "1"},
        )
        if proc.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{proc.stderr[-3000:]}")
        seed: dict[str, Any] = json.loads(out.read_text())
        return seed

    def queues(self, vhost: str) -> dict[str, tuple[int, int, int]]:
        return parse_queues(self.rabbit.ctl(*list_queues_args(vhost)))

    def stop(self) -> None:
        for proxy in (self.amqp_proxy, self.db_proxy):
            with contextlib.suppress(Exception):  # a proxy that never started
                proxy.__exit__(None, None, None)
        self.rabbit.stop()
        self.mariadb.stop()
