"""A nova cell DB made by `nova-manage db sync`, nova's own objects as the oracle, and our
ConductorEndpoint called in-process on the same DB."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

from aioconductor.context import RequestContext
from aioconductor.errors import RemoteFailure

ROOT = Path(__file__).resolve().parents[3]
NOVA_PY = ROOT / ".venv-nova" / "bin" / "python"
NOVA_MANAGE = ROOT / ".venv-nova" / "bin" / "nova-manage"
NOVA_SIDE = Path(__file__).with_name("nova_side.py")
MYSQL = "root@127.0.0.1"


def _mysql(sql: str) -> None:
    subprocess.run(["mysql", "-uroot", "-h127.0.0.1", "-e", sql], check=True)


def create_nova_db(tmp: Path) -> str:
    name = f"aioc_instance_{uuid.uuid4().hex[:10]}"
    _mysql(f"CREATE DATABASE {name}")
    conf = tmp / "nova.conf"
    url = f"mysql+pymysql://{MYSQL}/{name}"
    conf.write_text(f"[database]\nconnection = {url}\n[api_database]\nconnection = {url}\n")
    subprocess.run(
        [str(NOVA_MANAGE), "--config-file", str(conf), "db", "sync", "--local_cell"],
        check=True,
        capture_output=True,
    )
    return name


def drop_db(name: str) -> None:
    _mysql(f"DROP DATABASE IF EXISTS {name}")


def nova(db: str, command: str, request: dict[str, Any]) -> Any:
    proc = subprocess.run(
        [str(NOVA_PY), str(NOVA_SIDE), f"mysql+pymysql://{MYSQL}/{db}", command],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout)


def context(spec: dict[str, Any] | None = None) -> RequestContext:
    spec = spec or {}
    return RequestContext(
        is_admin=spec.get("is_admin", True),
        project_id=spec.get("project_id", "p1"),
        user_id=spec.get("user_id", "u1"),
        read_deleted=spec.get("read_deleted", "no"),
    )


async def ours(endpoint: Any, calls: list[dict[str, Any]], manifest: dict[str, str]) -> list[Any]:
    """The same call list through our ConductorEndpoint, shaped like the oracle's output."""
    out: list[Any] = []
    for c in calls:
        ctx = context(c.get("ctx"))
        try:
            if c["kind"] == "class":
                result = await endpoint.object_class_action_versions(
                    ctx, c["obj"], c["method"], manifest, c.get("args", []), c.get("kwargs", {})
                )
            else:
                result = await endpoint.object_action(
                    ctx, c["objinst"], c["method"], c.get("args", []), c.get("kwargs", {})
                )
            out.append({"ok": json.loads(json.dumps(result))})
        except RemoteFailure as exc:
            kwargs = dict(exc.kwargs)
            out.append({"error": type(exc).__name__, "kwargs": json.loads(json.dumps(kwargs))})
    return out
