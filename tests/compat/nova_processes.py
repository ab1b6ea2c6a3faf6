"""Shared helpers for compat tests: nova scripts, our service as a subprocess, databases."""

from __future__ import annotations

import atexit
import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aioconductor.bench.fixture import clone_database
from aioconductor.novaenv import create_database, db_sync, drop_database, ensure_nova_venv
from aioconductor.novaenv.database import api_db_sync
from tests import rabbit

ROOT = Path(__file__).resolve().parents[2]
OUR_BIN = ROOT / ".venv" / "bin"
SCRIPTS = Path(__file__).with_name("legacy")


# One `nova-manage db sync` / `api_db sync` per test process, into a template each fresh
# database is cloned from (tables, their rows and foreign keys): a sync takes seconds, a
# clone a fraction of one, and the compat tier makes dozens of these databases.
_TEMPLATES: dict[str, str] = {}


def _template(kind: str) -> str:
    found = _TEMPLATES.get(kind)
    if found is None:
        found = f"aioc_tmpl_{kind}_{uuid.uuid4().hex[:10]}"
        create_database(found)
        atexit.register(drop_database, found)
        sync = db_sync if kind == "cell" else api_db_sync
        sync(ensure_nova_venv(), found)
        _TEMPLATES[kind] = found
    return found


@contextmanager
def _fresh(prefix: str, kind: str) -> Iterator[str]:
    name = f"aioc_{prefix}_{uuid.uuid4().hex[:10]}"
    clone_database(_template(kind), name)
    try:
        yield name
    finally:
        drop_database(name)


@contextmanager
def nova_database(prefix: str, schema: bool = True) -> Iterator[str]:
    """A fresh database with nova's schema, as nova's own `nova-manage db sync` makes it;
    `schema=False`: an empty one (for scenarios that never touch the cell database)."""
    if schema:
        with _fresh(prefix, "cell") as name:
            yield name
        return
    name = f"aioc_{prefix}_{uuid.uuid4().hex[:10]}"
    create_database(name)
    try:
        yield name
    finally:
        drop_database(name)


@contextmanager
def nova_api_database(prefix: str) -> Iterator[str]:
    """A fresh database with nova's API schema, as `nova-manage api_db sync` makes it."""
    with _fresh(prefix, "api") as name:
        yield name


def api_database_conf(db: str) -> str:
    """nova.conf text pointing `[api_database]` at `db`."""
    return f"[api_database]\nconnection = mysql+pymysql://root@127.0.0.1/{db}\n"


def nova_conf(path: Path, exchange: str, db: str, extra: str = "") -> Path:
    path.write_text(
        f"[DEFAULT]\ntransport_url = {rabbit.url()}\ncontrol_exchange = {exchange}\n"
        f"host = aioc-test\nrpc_response_timeout = 20\nreport_interval = 1\n"
        f"[database]\nconnection = mysql+pymysql://root@127.0.0.1/{db}\n{extra}"
    )
    return path


def run_nova_script(script: str | Path, job: dict[str, Any], timeout: float = 300) -> Any:
    """Run a script (a name under legacy/, or a path) in nova's venv; its last stdout line
    is the JSON answer."""
    path = script if isinstance(script, Path) else SCRIPTS / script
    proc = subprocess.run(
        [str(ensure_nova_venv().python), str(path)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"{path.name} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def free_port() -> int:
    """A loopback port nobody listens on now (for our metrics endpoint)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def aioconductor_serving(conf: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [str(OUR_BIN / "aioconductor"), "serve", "--config-file", str(conf), "--workers", "1"],
        stderr=log.open("wb"),
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "worker ready" not in log.read_text():
            if proc.poll() is not None:
                raise AssertionError(log.read_text()[-3000:])
            time.sleep(0.2)
        yield proc
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
