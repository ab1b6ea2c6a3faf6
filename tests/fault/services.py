"""A private RabbitMQ node and a private MariaDB for the fault tier: own ports, own data dirs,
started and stopped by the tier. The shared broker (:5672) and database (:3306) that other
test runs use are never touched, so the tier can restart, alarm and kill freely."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

# the real scripts: the /usr/sbin wrappers switch to the rabbitmq user
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class PrivateRabbit:
    """One RabbitMQ node under `base`, reached on 127.0.0.1:`port` (guest/guest, vhost /)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.node = f"aiocfault{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.boot_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            # the Erlang cookie is made and read in HOME: ours, never the shared node's
            "HOME": str(self.base),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "rabbit.pid"),
            # no management plugin: its port (15672) would clash with the shared node's
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "rabbitmq-env.conf").write_text("")
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )
        started = time.monotonic()
        self._proc = subprocess.Popen(
            [str(RABBIT_BIN / "rabbitmq-server")],
            env=self.env,
            stdout=(self.base / "server.out").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.await_app(60)
        self.boot_seconds = time.monotonic() - started

    def await_app(self, timeout: float) -> None:
        """Until the rabbit app answers. The AMQP listener opens last, once the app has
        booted; each rabbitmqctl call costs a second of Erlang start-up, so it comes after."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited: see {self.base / 'server.out'}")
            try:
                wait_for_port(self.port, 0.5)
            except TimeoutError:
                continue
            if self.ctl_ok("list_queues", timeout=30):
                return
            time.sleep(0.3)
        raise TimeoutError(f"RabbitMQ node {self.node} not up after {timeout} s")

    def ctl(self, *args: str, timeout: float = 60) -> str:
        result = subprocess.run(
            [str(RABBIT_BIN / "rabbitmqctl"), "-n", self.node, "-q", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {result.stderr.strip()[-500:]}")
        return result.stdout

    def ctl_ok(self, *args: str, timeout: float = 60) -> bool:
        try:
            self.ctl(*args, timeout=timeout)
        except (RuntimeError, subprocess.TimeoutExpired):
            return False
        return True

    def restart_node(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self._proc is None:
            return
        self.ctl_ok("stop", timeout=60)
        try:
            self._proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._proc = None


class PrivateMariaDB:
    """One mariadbd under `base`, root with an empty password on 127.0.0.1:`port`."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.install_seconds = 0.0
        self.boot_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        datadir = self.base / "data"
        if not datadir.exists():
            self.base.mkdir(parents=True, exist_ok=True)
            started = time.monotonic()
            subprocess.run(
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    f"--datadir={datadir}",
                    "--user=root",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                capture_output=True,
                check=True,
            )
            self.install_seconds = time.monotonic() - started
        started = time.monotonic()
        self._proc = subprocess.Popen(
            [
                shutil.which("mariadbd") or "/usr/sbin/mariadbd",
                "--no-defaults",
                f"--datadir={datadir}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.base / 'mysqld.sock'}",
                "--user=root",
                f"--pid-file={self.base / 'mysqld.pid'}",
                f"--log-error={self.base / 'error.log'}",
                "--innodb-buffer-pool-size=128M",
                "--skip-log-bin",
                "--max-connections=500",
                # a fault run writes a lot; durability across a machine crash is not tested here
                "--innodb-flush-log-at-trx-commit=2",
                "--innodb-doublewrite=0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not self.sql_ok("SELECT 1"):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd did not start: see {self.base / 'error.log'}")
            time.sleep(0.1)
        self.boot_seconds = time.monotonic() - started

    def sql(self, statement: str, database: str = "") -> list[list[str]]:
        result = subprocess.run(
            [
                "mysql",
                "-u",
                "root",
                "-h",
                "127.0.0.1",
                "-P",
                str(self.port),
                "-N",
                "-B",
                "-e",
                statement,
                *([database] if database else []),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"mysql: {result.stderr.strip()[-500:]}")
        return [line.split("\t") for line in result.stdout.splitlines()]

    def sql_ok(self, statement: str) -> bool:
        try:
            self.sql(statement)
        except (RuntimeError, subprocess.TimeoutExpired):
            return False
        return True

    def kill_connections(self, database: str) -> int:
        """KILL every connection using `database` (the conductor's), as a DBA or a failover
        would; the audit and the fixtures connect per statement and are not among them."""
        rows = self.sql(
            f"SELECT id FROM information_schema.processlist WHERE db = '{database}' "
            "AND id <> CONNECTION_ID()"
        )
        killed = 0
        for (conn_id,) in rows:
            if self.sql_ok(f"KILL {int(conn_id)}"):
                killed += 1
        return killed

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


def list_queues_args(vhost: str) -> tuple[str, ...]:
    """rabbitmqctl arguments listing (name, ready, unacked, consumers) per queue."""
    return ("list_queues", "-p", vhost, "--no-table-headers", "name", "messages_ready",
            "messages_unacknowledged", "consumers")  # fmt: skip


def parse_queues(out: str) -> dict[str, tuple[int, int, int]]:
    """(ready, unacked, consumers) per queue from `rabbitmqctl list_queues` output."""
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[1].isdigit():
            found[parts[0]] = (int(parts[1]), int(parts[2]), int(parts[3]))
    return found
