"""The configuration files of an end-to-end stack: nova.conf per service, placement.conf and
nova-api's api-paste.ini, all from one `Layout` (names, ports, directories of one run).

One cell: every service on one vhost and the cell's database, one conductor (a single-cell
deployment). Several cells: laid out as nova's cells v2 guide lays them out, an API level
(nova-api, nova-scheduler, the superconductor: the API vhost, `[api_database]`, cell0 as
`[database]`) and per cell a vhost, a database, a cell conductor and its computes, which
have no `[api_database]`; every service sends its notifications to the API vhost (one
stream, as devstack's superconductor layout does)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from aioconductor.novaenv.database import cell_url

NOVA_ETC = Path(__file__).resolve().parents[2] / ".venv-nova" / "etc" / "nova"

# Host names are the same in every run and mode (each run has its own vhost and databases),
# so what nova writes with a host in it compares across runs as it is.
API_HOST = "e2e-api"
SCHEDULER_HOST = "e2e-scheduler"
CONDUCTOR_HOST = "e2e-conductor"  # nova-conductor alone, or aioconductor
LEGACY_CONDUCTOR_HOST = f"{CONDUCTOR_HOST}-legacy"  # nova-conductor beside aioconductor


def compute_host(index: int) -> str:
    return f"e2e-compute-{index}"


def cell_conductor_host(cell: str) -> str:
    return f"{CONDUCTOR_HOST}-{cell}"


def legacy_host(conductor_host: str) -> str:
    """The nova-conductor beside an aioconductor (`legacy` mode)."""
    return f"{conductor_host}-legacy"


# The nova-compute that fails the first build of the servers to reschedule (named
# `e2e-resched-*`: nova_side/reschedule_driver.py, nova's FakeRescheduleDriver narrowed to
# them); the others keep this much memory back so the scheduler always weighs it first.
RESCHEDULE_HOST = compute_host(1)
RESCHEDULE_DRIVER = "e2e_reschedule.NamedRescheduleDriver"  # under nova.virt
RESERVED_MEMORY_MB = 400000  # of FakeDriver's 800000


@dataclass(frozen=True)
class Cell:
    """A real cell: its database, its vhost (the API vhost in a one-cell stack), and its
    conductor's /metrics port (several cells only)."""

    name: str
    db: str
    vhost: str
    metrics_port: int = 0

    @property
    def conductor_host(self) -> str:
        return cell_conductor_host(self.name)

    @property
    def transport_url(self) -> str:
        return _rabbit("rabbit", self.vhost)

    @property
    def amqp_url(self) -> str:
        return _rabbit("amqp", self.vhost)


def _rabbit(scheme: str, vhost: str) -> str:
    return f"{scheme}://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"


COMPUTE_HOSTS = r"e2e-compute-\d+"  # a pattern: which compute a server lands on varies


@dataclass(frozen=True)
class Layout:
    """Everything one run is named and placed by."""

    prefix: str
    root: Path
    vhost: str  # the API level's (every service's, with one cell)
    api_db: str
    cell0_db: str
    cells: tuple[Cell, ...]
    placement_db: str
    api_port: int
    placement_port: int
    metrics_port: int  # the (super)conductor's
    reschedule: bool = False  # RESCHEDULE_HOST fails the first build of `e2e-resched-*`
    # nova's SQLAlchemy driver in the cell mappings and the conductors' nova.conf: pymysql,
    # or mysqldb (mysqlclient) for nova-conductor in eventlet mode
    conductor_driver: str = "pymysql"

    @property
    def split(self) -> bool:
        """Several cells: an API level with a superconductor, a conductor per cell."""
        return len(self.cells) > 1

    @property
    def transport_url(self) -> str:
        return _rabbit("rabbit", self.vhost)

    @property
    def amqp_url(self) -> str:
        return _rabbit("amqp", self.vhost)

    @property
    def vhosts(self) -> list[str]:
        return list(dict.fromkeys([self.vhost, *(cell.vhost for cell in self.cells)]))

    def cell_of(self, compute: str) -> Cell:
        """A compute's cell: computes are dealt to the cells in turn."""
        index = int(compute.rsplit("-", 1)[1])
        return self.cells[(index - 1) % len(self.cells)]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def placement_url(self) -> str:
        return f"http://127.0.0.1:{self.placement_port}"

    def service_dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def nova_conf(
    layout: Layout,
    host: str,
    extra: str = "",
    cell: Cell | None = None,
    driver: str = "pymysql",
) -> str:
    """nova.conf for one service: the run's broker and databases (through `driver`),
    placement, notifications in both formats on every state change, no quota limits (N
    parallel boots must not hit one). `cell`: a cell-level service of a stack with several
    cells (its cell's vhost and database, no API database); otherwise an API-level one.
    `extra` is appended (more sections, or options of a section it opens)."""
    state = layout.service_dir(host)
    if cell is not None:
        transport, database, api_database = cell.transport_url, cell.db, ""
    else:
        # with several cells the API level's [database] is cell0, as devstack sets it
        database = layout.cell0_db if layout.split else layout.cells[0].db
        transport = layout.transport_url
        api_database = f"[api_database]\nconnection = {cell_url(layout.api_db, driver)}\n"
    return (
        "[DEFAULT]\n"
        f"host = {host}\n"
        f"transport_url = {transport}\n"
        f"state_path = {state}\n"
        "rpc_response_timeout = 60\n"
        "[database]\n"
        f"connection = {cell_url(database, driver)}\n"
        f"{api_database}"
        "[placement]\n"
        "auth_type = none\n"
        f"endpoint_override = {layout.placement_url}\n"
        "[notifications]\n"
        "notify_on_state_change = vm_and_task_state\n"
        "notification_format = both\n"
        "[oslo_messaging_notifications]\n"
        "driver = messagingv2\n"
        f"{_notification_transport(layout, cell)}"
        "[oslo_concurrency]\n"
        f"lock_path = {state / 'locks'}\n"
        "[quota]\n"
        "instances = -1\ncores = -1\nram = -1\n"
        "[conductor]\n"
        "workers = 1\n"
        "[scheduler]\n"
        "workers = 1\n"
        # where nova's GlanceFixture says glance is; it patches the image API of the
        # processes it runs in, but aioconductor reads the legacy notification's image URL
        # from here
        "[glance]\n"
        "api_servers = http://localhost:9292\n"
        f"{_split_options(layout)}"
        f"{_reschedule_options(layout, host)}"
        f"{extra}"
    )


def _notification_transport(layout: Layout, cell: Cell | None) -> str:
    return f"transport_url = {layout.transport_url}\n" if cell is not None else ""


def _split_options(layout: Layout) -> str:
    """What nova's cells guide tells a multi-cell deployment to set: cell services cannot
    reach the scheduler (no "upcalls"), so computes do not report their instances to it and
    the late group-policy check is off."""
    if not layout.split:
        return ""
    return (
        "[filter_scheduler]\ntrack_instance_changes = false\n"
        "[workarounds]\ndisable_group_policy_check_upcall = true\n"
    )


def _reschedule_options(layout: Layout, host: str) -> str:
    """Rescheduled servers: RESCHEDULE_HOST stays first in the scheduler's weighing, however
    many servers it holds and however many builds failed there, so every server to
    reschedule goes there first. The scheduler weighs by free memory alone (each other
    weigher normalises its values over the hosts, so one instance's vCPU or disk, or a
    build under way, would outweigh the reserved memory; the build failure weigher would
    put it last after a failure), and the compute is not disabled after 10 failures."""
    if not layout.reschedule:
        return ""
    if host == SCHEDULER_HOST:
        return "[filter_scheduler]\nweight_classes = nova.scheduler.weights.ram.RAMWeigher\n"
    if host == RESCHEDULE_HOST:
        return "[compute]\nconsecutive_build_service_disable_threshold = 0\n"
    return ""


def eventlet_conductor_conf(layout: Layout, cell: Cell | None = None) -> str:
    """nova-conductor in eventlet mode (34.0.0's `concurrency_backend`; its default is
    threading) on mysqlclient, the driver eventlet deployments ran nova on: the
    superconductor, or with `cell` that cell's conductor."""
    host = cell.conductor_host if cell else CONDUCTOR_HOST
    text = nova_conf(layout, host, cell=cell, driver=layout.conductor_driver)
    return text.replace("[DEFAULT]\n", "[DEFAULT]\nconcurrency_backend = eventlet\n", 1)


def compute_conf(layout: Layout, host: str) -> str:
    """A compute's nova.conf: the fake driver, its cell's vhost and database, and no
    [api_database] (a compute's usual file; nova-compute never opens a database)."""
    state = layout.service_dir(host)
    text = nova_conf(layout, host, cell=layout.cell_of(host) if layout.split else None)
    text = re.sub(r"\[api_database\]\nconnection = [^\n]*\n", "", text)
    driver = "fake.FakeDriver"
    if layout.reschedule and host == RESCHEDULE_HOST:
        driver = RESCHEDULE_DRIVER
    reserved = ""
    if layout.reschedule and host != RESCHEDULE_HOST:
        reserved = f"reserved_host_memory_mb = {RESERVED_MEMORY_MB}\n"
    return text.replace(
        "[database]\n",
        f"compute_driver = {driver}\n"
        f"{reserved}"
        f"instances_path = {state / 'instances'}\n"
        "periodic_fuzzy_delay = 0\n"
        "[database]\n",
        1,
    )


def aioconductor_conf(layout: Layout, fallback: bool, cell: Cell | None = None) -> str:
    """aioconductor reads the operator's nova.conf, here the conductor's, plus its section:
    the (super)conductor's, or with `cell` that cell's conductor's."""
    host = cell.conductor_host if cell else CONDUCTOR_HOST
    port = cell.metrics_port if cell else layout.metrics_port
    section = f"[aioconductor]\nmetrics_bind = 127.0.0.1:{port}\n"
    if fallback:
        section += f"fallback_host = {legacy_host(host)}\n"
    return nova_conf(layout, host, section, cell)


def placement_conf(layout: Layout) -> str:
    return (
        "[DEFAULT]\n"
        "[api]\n"
        "auth_strategy = noauth2\n"
        "[placement_database]\n"
        f"connection = {cell_url(layout.placement_db)}\n"
    )


def api_paste_ini() -> str:
    """nova's own api-paste.ini without keystonemiddleware's `authtoken` (the stack's WSGI
    server sets the identity headers it would set)."""
    text = (NOVA_ETC / "api-paste.ini").read_text()
    return re.sub(r" authtoken(?= )", "", text)
