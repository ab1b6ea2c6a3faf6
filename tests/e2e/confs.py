"""The configuration files of an end-to-end stack: nova.conf per service, placement.conf and
nova-api's api-paste.ini, all from one `Layout` (names, ports, directories of one run)."""

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
LEGACY_CONDUCTOR_HOST = "e2e-conductor-legacy"  # nova-conductor beside aioconductor


def compute_host(index: int) -> str:
    return f"e2e-compute-{index}"


COMPUTE_HOSTS = r"e2e-compute-\d+"  # a pattern: which compute a server lands on varies


@dataclass(frozen=True)
class Layout:
    """Everything one run is named and placed by."""

    prefix: str
    root: Path
    vhost: str
    api_db: str
    cell0_db: str
    cell1_db: str
    placement_db: str
    api_port: int
    placement_port: int
    metrics_port: int
    # nova's SQLAlchemy driver in the cell mappings and the conductor's nova.conf: pymysql,
    # or mysqldb (mysqlclient) for nova-conductor in eventlet mode
    conductor_driver: str = "pymysql"

    @property
    def transport_url(self) -> str:
        return f"rabbit://guest:guest@127.0.0.1:5672/{quote(self.vhost, safe='')}"

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:5672/{quote(self.vhost, safe='')}"

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


def nova_conf(layout: Layout, host: str, extra: str = "", driver: str = "pymysql") -> str:
    """nova.conf for one service: the run's broker and databases (through `driver`),
    placement, notifications in both formats on every state change, no quota limits (N
    parallel boots must not hit one). `extra` is appended (more sections, or options of a
    section it opens)."""
    state = layout.service_dir(host)
    return (
        "[DEFAULT]\n"
        f"host = {host}\n"
        f"transport_url = {layout.transport_url}\n"
        f"state_path = {state}\n"
        "rpc_response_timeout = 60\n"
        "[database]\n"
        f"connection = {cell_url(layout.cell1_db, driver)}\n"
        "[api_database]\n"
        f"connection = {cell_url(layout.api_db, driver)}\n"
        "[placement]\n"
        "auth_type = none\n"
        f"endpoint_override = {layout.placement_url}\n"
        "[notifications]\n"
        "notify_on_state_change = vm_and_task_state\n"
        "notification_format = both\n"
        "[oslo_messaging_notifications]\n"
        "driver = messagingv2\n"
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
        f"{extra}"
    )


def eventlet_conductor_conf(layout: Layout) -> str:
    """nova-conductor in eventlet mode (34.0.0's `concurrency_backend`; its default is
    threading) on mysqlclient, the driver eventlet deployments ran nova on."""
    text = nova_conf(layout, CONDUCTOR_HOST, driver=layout.conductor_driver)
    return text.replace("[DEFAULT]\n", "[DEFAULT]\nconcurrency_backend = eventlet\n", 1)


def compute_conf(layout: Layout, host: str) -> str:
    """A compute's nova.conf: the fake driver, and no [api_database] (a compute's usual
    file; nova-compute never opens a database)."""
    state = layout.service_dir(host)
    text = nova_conf(layout, host)
    text = re.sub(r"\[api_database\]\nconnection = [^\n]*\n", "", text)
    return text.replace(
        "[database]\n",
        "compute_driver = fake.FakeDriver\n"
        f"instances_path = {state / 'instances'}\n"
        "periodic_fuzzy_delay = 0\n"
        "[database]\n",
        1,
    )


def aioconductor_conf(layout: Layout, fallback: bool) -> str:
    """aioconductor reads the operator's nova.conf, here the conductor's, plus its section."""
    section = f"[aioconductor]\nmetrics_bind = 127.0.0.1:{layout.metrics_port}\n"
    if fallback:
        section += f"fallback_host = {LEGACY_CONDUCTOR_HOST}\n"
    return nova_conf(layout, CONDUCTOR_HOST, section)


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
