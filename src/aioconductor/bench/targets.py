"""The conductors under test, started and stopped by the harness, measured as process trees."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

from aioconductor.bench.cpu_quota import CpuQuota
from aioconductor.novaenv import ensure_nova_venv

RABBIT = "rabbit://guest:guest@127.0.0.1:5672/"


@dataclass(frozen=True)
class TargetSpec:
    name: str
    kind: str  # "aioconductor" | "nova"
    workers: int = 1
    driver: str = "asyncmy"  # ours: asyncmy|aiomysql; nova: pymysql|mysqldb
    backend: str = "threading"  # nova only: threading|eventlet


# The targets every doc and script names; `target_spec` accepts any worker count for each
# family (`aioconductor-8w`, `nova-eventlet-mysqldb-4w`), for hosts with more cores than ours.
TARGETS = (
    "aioconductor-1w",
    "aioconductor-1w-aiomysql",
    "aioconductor-2w",
    "nova-threading-1w",
    "nova-threading-2w",
    "nova-eventlet-pymysql-1w",
    "nova-eventlet-mysqldb-1w",
)
MAX_WORKERS = 64

_NAME = re.compile(
    r"(?P<family>aioconductor|nova-threading|nova-eventlet-pymysql|nova-eventlet-mysqldb)"
    r"-(?P<workers>[0-9]+)w(?:-(?P<driver>asyncmy|aiomysql))?"
)


def target_spec(name: str) -> TargetSpec:
    """The target a name stands for: `<family>-<N>w`, and for aioconductor an optional
    `-aiomysql` (or `-asyncmy`, the default) driver suffix. ValueError names what is wrong."""
    match = _NAME.fullmatch(name)
    if match is None:
        raise ValueError(
            f"unknown target {name!r}: expected <family>-<N>w with family one of aioconductor, "
            "nova-threading, nova-eventlet-pymysql, nova-eventlet-mysqldb (aioconductor may end "
            "in -aiomysql), e.g. " + ", ".join(TARGETS)
        )
    family, driver = match["family"], match["driver"]
    workers = int(match["workers"])
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"target {name!r}: workers must be 1 to {MAX_WORKERS}")
    if family == "aioconductor":
        return TargetSpec(name, "aioconductor", workers, driver or "asyncmy")
    if driver is not None:
        raise ValueError(f"target {name!r}: a driver suffix is for aioconductor targets only")
    if family == "nova-threading":
        return TargetSpec(name, "nova", workers, driver="pymysql")
    return TargetSpec(name, "nova", workers, family.rsplit("-", 1)[1], backend="eventlet")


@dataclass(frozen=True)
class DatabaseAddress:
    """Where a target finds its copy of the fixture: MariaDB on a TCP port (the relay's, for a
    delay) or behind its Unix socket."""

    name: str
    port: int = 3306
    socket: str | None = None

    def url(self, driver: str) -> str:
        if self.socket is None:
            return f"mysql+{driver}://root@127.0.0.1:{self.port}/{self.name}"
        # every driver here (ours, PyMySQL, mysqlclient) takes `unix_socket` from the URL
        return f"mysql+{driver}://root@localhost/{self.name}?unix_socket={self.socket}"


# a placement endpoint nothing answers: the workloads never reach placement
PLACEMENT_UNUSED = "[placement]\nauth_type = none\nendpoint_override = http://127.0.0.1:9/\n"


def notification_queues(tag: str) -> list[str]:
    """The queues oslo's notifier declares for `notifications_conf(tag)` (`<topic>.info`)."""
    return [f"{tag}_notifications.info", f"{tag}_versioned.info"]


def notifications_conf(tag: str) -> str:
    """What a cloud with notifications on for telemetry sets (issue 22): both formats on every
    state change, to topics of the run's own, so its queues can be deleted afterwards."""
    return (
        "[notifications]\nnotify_on_state_change = vm_and_task_state\n"
        f"notification_format = both\nversioned_notifications_topics = {tag}_versioned\n"
        f"[oslo_messaging_notifications]\ndriver = messagingv2\ntopics = {tag}_notifications\n"
        # the legacy payload's image URL; nothing is asked of it
        "[glance]\napi_servers = http://127.0.0.1:9292\n"
    )


def _conf(
    spec: TargetSpec,
    exchange: str,
    database: DatabaseAddress,
    transport_url: str = RABBIT,
    notify_tag: str | None = None,
    extra: str = "",
) -> str:
    driver = conf_driver(spec)
    text = (
        f"[DEFAULT]\ntransport_url = {transport_url}\ncontrol_exchange = {exchange}\n"
        f"host = bench-{spec.name}\n"
        f"[database]\nconnection = {database.url(driver)}\n"
        f"[conductor]\nworkers = {spec.workers}\n"
    )
    if notify_tag is not None:
        text += notifications_conf(notify_tag)
    text += extra
    if spec.kind == "aioconductor":
        return text + f"[aioconductor]\ndb_driver = {spec.driver}\nmetrics_bind = 127.0.0.1:0\n"
    return (
        text.replace("[DEFAULT]\n", f"[DEFAULT]\nconcurrency_backend = {spec.backend}\n")
        + "[oslo_concurrency]\nlock_path = /tmp\n"
        # nova-conductor builds a placement client at start-up; the workload never uses it
        + PLACEMENT_UNUSED
    )


def conf_driver(spec: TargetSpec) -> str:
    """The SQLAlchemy driver in a target's database URLs: nova's own choice for nova, and
    for ours the URL nova.conf would hold (`[aioconductor] db_driver` picks the real one)."""
    return "pymysql" if spec.kind == "aioconductor" else spec.driver


class RunningTarget:
    def __init__(
        self,
        spec: TargetSpec,
        exchange: str,
        database: DatabaseAddress,
        workdir: Path,
        transport_url: str = RABBIT,
        cpu_per_worker: float | None = None,
        notify_tag: str | None = None,
        extra_conf: str = "",
    ) -> None:
        self.spec = spec
        # N workers on N small cores: the whole process tree shares workers x F cores
        self.quota = (
            None if cpu_per_worker is None else CpuQuota.create(spec.workers * cpu_per_worker)
        )
        conf = workdir / f"{spec.name}.conf"
        conf.write_text(_conf(spec, exchange, database, transport_url, notify_tag, extra_conf))
        self.log = workdir / f"{spec.name}.log"
        env = {k: v for k, v in os.environ.items() if k != "OS_NOVA_DISABLE_EVENTLET_PATCHING"}
        if spec.kind == "aioconductor":
            argv = [sys.executable, "-m", "aioconductor", "serve", "--config-file", str(conf)]
        else:
            argv = [str(ensure_nova_venv().bin("nova-conductor")), "--config-file", str(conf)]
        self.proc = subprocess.Popen(
            argv,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=None if self.quota is None else self.quota.joiner(),  # noqa: PLW1509
        )
        self.ps = psutil.Process(self.proc.pid)

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.ps, *self.ps.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self._tree():
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    def rss_bytes(self) -> int:
        total = 0
        for proc in self._tree():
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                for proc in self._tree():
                    proc.kill()
                self.proc.wait()
        if self.quota is not None:
            self.quota.remove()


class Relay:
    """The delaying TCP relay (bench/relay.py) in a process of its own, CPU measured."""

    def __init__(self, delay_ms: float, upstream: str = "127.0.0.1:3306") -> None:
        self.delay_ms = delay_ms
        argv = [sys.executable, "-m", "aioconductor.bench.relay", "--upstream", upstream,
                "--delay-ms", str(delay_ms)]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().split()[1])
        self.ps = psutil.Process(self.proc.pid)

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
