"""Nova cell and API databases built by nova's own `nova-manage db sync` / `api_db sync`."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from aioconductor.novaenv.venv import NovaVenv, ensure_nova_venv

ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root"}
_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def _mysql(sql: str, port: int | None = None) -> str:
    result = subprocess.run(
        [
            "mysql",
            "-u",
            str(ADMIN["user"]),
            "-h",
            str(ADMIN["host"]),
            "-P",
            str(port or ADMIN["port"]),
            "-N",
            "-e",
            sql,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def _check(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"bad database name {name!r}")
    return name


def cell_url(name: str, driver: str = "pymysql", port: int | None = None) -> str:
    where = f"{ADMIN['host']}:{port or ADMIN['port']}"
    return f"mysql+{driver}://{ADMIN['user']}@{where}/{_check(name)}"


def create_database(name: str, port: int | None = None) -> None:
    """`port`: another MariaDB on 127.0.0.1 than the shared one (the fault tier's own)."""
    _mysql(f"CREATE DATABASE `{_check(name)}` CHARACTER SET utf8mb4", port)


def drop_database(name: str) -> None:
    _mysql(f"DROP DATABASE IF EXISTS `{_check(name)}`")


def database_has_tables(name: str) -> bool:
    out = _mysql(
        "SELECT COUNT(*) FROM information_schema.tables "
        f"WHERE table_schema = '{_check(name)}' AND table_name = 'instances'"
    )
    return out.strip() == "1"


def db_sync(venv: NovaVenv, name: str, port: int | None = None) -> None:
    """`nova-manage db sync --local_cell` into database `name` (the cell schema only)."""
    url = cell_url(name, port=port)
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "nova.conf"
        # nova-manage insists on an API database option even for --local_cell
        conf.write_text(f"[database]\nconnection = {url}\n[api_database]\nconnection = {url}\n")
        result = venv.run(
            [
                str(venv.bin("nova-manage")),
                "--config-file",
                str(conf),
                "db",
                "sync",
                "--local_cell",
            ],
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"nova-manage db sync failed:\n{result.stderr[-4000:]}")


def api_db_sync(venv: NovaVenv, name: str) -> None:
    """`nova-manage api_db sync` into database `name` (nova's API schema)."""
    url = cell_url(name)
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "nova.conf"
        conf.write_text(f"[api_database]\nconnection = {url}\n")
        result = venv.run(
            [str(venv.bin("nova-manage")), "--config-file", str(conf), "api_db", "sync"],
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"nova-manage api_db sync failed:\n{result.stderr[-4000:]}")


def prepare_database(name: str, venv: NovaVenv | None = None) -> bool:
    """Create and sync `name` unless it already has nova's schema; True when it was built."""
    if database_has_tables(name):
        return False
    venv = venv or ensure_nova_venv()
    _mysql(f"CREATE DATABASE IF NOT EXISTS `{_check(name)}` CHARACTER SET utf8mb4")
    db_sync(venv, name)
    return True
