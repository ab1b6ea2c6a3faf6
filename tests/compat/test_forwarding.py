"""Forwarding to a real nova 34.0.0 nova-conductor, driven by nova's own clients.

aioconductor serves the conductor topic; a legacy nova-conductor runs beside it on the same
exchange under its own host. Requests we do not serve natively must be answered by the
legacy conductor, straight to nova's client; with the legacy conductor stopped they must
fail at once with a clear failure, not time out.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from aioconductor.objects import load_all, registry
from tests import rabbit
from tests.compat.instance_oracle.harness import create_nova_db, drop_db
from tests.compat.nova_processes import stop_process

pytestmark = [pytest.mark.connected, pytest.mark.compat]

ROOT = Path(__file__).resolve().parents[2]
NOVA_BIN = ROOT / ".venv-nova" / "bin"
OUR_BIN = ROOT / ".venv" / "bin"
NOVA_CLIENT = Path(__file__).with_name("legacy") / "nova_client.py"


def conf_text(exchange: str, host: str, db: str, extra: str = "") -> str:
    return (
        f"[DEFAULT]\ntransport_url = {rabbit.url()}\ncontrol_exchange = {exchange}\nhost = {host}\n"
        f"[database]\nconnection = mysql+pymysql://root@127.0.0.1/{db}\n"
        f"[conductor]\nworkers = 1\n[oslo_concurrency]\nlock_path = /tmp\n{extra}"
    )


def consumers(queue: str) -> int:
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", rabbit.vhost(), "name", "consumers"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == queue:
            return int(parts[1])
    return 0


def nova_client(
    pair: dict[str, Any], steps: list[dict[str, Any]], timeout: int = 20
) -> list[dict[str, Any]]:
    """`timeout`: the client's rpc_response_timeout."""
    conf = pair["tmp"] / "client.conf"
    conf.write_text(
        f"[DEFAULT]\ntransport_url = {rabbit.url()}\ncontrol_exchange = {pair['exchange']}\n"
        f"rpc_response_timeout = {timeout}\n"
    )
    proc = subprocess.run(
        [str(NOVA_BIN / "python"), str(NOVA_CLIENT)],
        input=json.dumps({"config_file": str(conf), "steps": steps}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@contextmanager
def running_pair(
    tmp_path: Path, extra: str = "", fallback_wait: float = 3
) -> Iterator[dict[str, Any]]:
    """aioconductor and a legacy nova-conductor on one exchange and database; `extra` is
    nova.conf text both read; `fallback_wait`: how long aioconductor waits for a legacy
    conductor that is not consuming (3 s: the tests stop it on purpose)."""
    if not (NOVA_BIN / "nova-conductor").exists():
        pytest.fail("nova 34.0.0 virtualenv missing: run scripts/run-tests")
    exchange = f"aioc_fwd_{uuid.uuid4().hex[:8]}"
    legacy_host = f"legacy-{uuid.uuid4().hex[:6]}"
    db = create_nova_db(tmp_path)
    ours_conf = tmp_path / "ours.conf"
    ours_conf.write_text(
        conf_text(
            exchange,
            f"aioc-{uuid.uuid4().hex[:6]}",
            db,
            f"{extra}[aioconductor]\nfallback_host = {legacy_host}\nregister_service = false\n"
            f"fallback_wait = {fallback_wait}\n",
        )
    )
    legacy_conf = tmp_path / "legacy.conf"
    # nova-conductor builds a placement client at start-up; nothing here calls placement
    placement = "[placement]\nauth_type = none\nendpoint_override = http://127.0.0.1:9/placement\n"
    legacy_conf.write_text(conf_text(exchange, legacy_host, db, extra + placement))
    ours = subprocess.Popen(
        [str(OUR_BIN / "aioconductor"), "serve", "--config-file", str(ours_conf), "--workers", "1"],
        stderr=(tmp_path / "ours.log").open("wb"),
    )
    legacy = start_legacy(legacy_conf, tmp_path / "legacy.log")
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and consumers(f"conductor.{legacy_host}") == 0:
            assert legacy.poll() is None, (tmp_path / "legacy.log").read_text()[-3000:]
            time.sleep(1)
        assert consumers(f"conductor.{legacy_host}") > 0, "legacy conductor did not start"
        yield {
            "exchange": exchange,
            "legacy": legacy,
            "legacy_host": legacy_host,
            "legacy_conf": legacy_conf,
            "ours": ours,
            "tmp": tmp_path,
        }
    finally:
        stop_process(legacy)
        stop_process(ours)
        drop_db(db)


def start_legacy(conf: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OS_NOVA_DISABLE_EVENTLET_PATCHING": "1"}
    with log.open("ab") as out:  # the child has its own copy of the descriptor
        return subprocess.Popen(
            [str(NOVA_BIN / "nova-conductor"), "--config-file", str(conf)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with running_pair(tmp_path) as running:
        yield running


def test_non_native_requests_are_answered_by_the_legacy_conductor(pair: dict[str, Any]) -> None:
    load_all()
    assert registry.class_handler("Migration", "get_by_id") is None, "pick a non-native method"
    results = nova_client(
        pair,
        [
            {"op": "migration_get_by_id", "id": 424242},
            {"op": "migrate_server_call"},
            {"op": "build_instances_cast"},
        ],
    )
    # the legacy conductor ran nova's code: nova's own exception, rebuilt by nova's client
    assert results[0]["error"]["class"] == "MigrationNotFound_Remote"
    assert "424242" in results[0]["error"]["str"]
    # compute_task call: nova-conductor's manager ran it (its instance-action wrapper finds
    # no action for this made-up instance): a nova exception, not our NotServed RemoteError
    assert results[1]["error"]["module"] == "nova.exception_Remote"
    assert results[1]["error"]["class"] == "InstanceActionNotFound_Remote"
    # the cast reached the legacy conductor (it logs the build it could not schedule)
    assert results[2] == {"ok": None, "seconds": results[2]["seconds"]}
    log = pair["tmp"] / "legacy.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "build_instances" not in log.read_text():
        time.sleep(0.5)
    assert "build_instances" in log.read_text()


def test_forwarded_call_fails_fast_when_legacy_is_gone(pair: dict[str, Any]) -> None:
    stop_process(pair["legacy"])
    results = nova_client(pair, [{"op": "migration_get_by_id", "id": 1}])
    error = results[0]["error"]
    assert error["class"] == "RemoteError"
    assert "ForwardingFailed" in error["str"]
    assert "had no consumer for 3 s" in error["str"]  # it waited fallback_wait for one
    assert results[0]["seconds"] < 15  # an answer, not the 20 s client timeout


def test_forwarded_call_waits_for_the_legacy_conductor_to_come_back(tmp_path: Path) -> None:
    """A legacy nova-conductor restarting (its queue left without a consumer) while a nova
    client calls: the call is held until it consumes again, then answered by it."""
    with running_pair(tmp_path, fallback_wait=40) as pair:
        stop_process(pair["legacy"])
        with ThreadPoolExecutor(1) as pool:
            steps = [{"op": "migration_get_by_id", "id": 424242}]
            call = pool.submit(nova_client, pair, steps, 90)
            time.sleep(6)  # the client starts (nova's imports) and calls meanwhile
            legacy = start_legacy(pair["legacy_conf"], tmp_path / "legacy.log")
            try:
                results = call.result(120)
            finally:
                stop_process(legacy)
    # nova-conductor ran nova's code: nova's own exception, rebuilt by nova's client
    assert results[0]["error"]["class"] == "MigrationNotFound_Remote", results
    assert "424242" in results[0]["error"]["str"]


# oslo's routing driver is not ours: Instance.save is forwarded (nova-conductor logs that
# routing has no routing_config, and sends through messagingv2)
NOTIFYING = (
    "[notifications]\nnotify_on_state_change = vm_state\n"
    "[oslo_messaging_notifications]\ndriver = routing\ndriver = messagingv2\n"
)


async def _bind_notifications(exchange: str) -> tuple[Any, Any]:
    connection = await aio_pika.connect(rabbit.url("amqp"))
    channel = await connection.channel()
    ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC)
    queue = await channel.declare_queue(f"{exchange}_notifications", auto_delete=True)
    await queue.bind(ex, routing_key="notifications.info")
    return connection, queue


async def _event_types(queue: Any) -> list[tuple[str, dict[str, Any]]]:
    found = []
    while (message := await queue.get(fail=False)) is not None:
        inner = json.loads(json.loads(message.body)["oslo.message"])
        found.append((inner["event_type"], {**inner["payload"], "_by": inner["publisher_id"]}))
    return found


def test_instance_update_notifications_come_from_the_legacy_conductor(tmp_path: Path) -> None:
    """With notifications aioconductor cannot send (the routing driver), Instance.save is
    forwarded, so nova-conductor sends the compute.instance.update it would have sent alone."""
    loop = asyncio.new_event_loop()
    with running_pair(tmp_path, NOTIFYING) as running:
        connection, queue = loop.run_until_complete(_bind_notifications(running["exchange"]))
        try:
            booted = str(uuid.uuid4())
            results = nova_client(running, [{"op": "instance_boot_save", "uuid": booted}])
            assert results[0].get("ok") == "active", results
            deadline = time.monotonic() + 20
            events: list[tuple[str, dict[str, Any]]] = []
            while time.monotonic() < deadline and not any(
                p.get("state") == "active" for _, p in events
            ):
                time.sleep(0.5)
                events += loop.run_until_complete(_event_types(queue))
        finally:
            loop.run_until_complete(connection.close())
            loop.close()
    updates = [p for kind, p in events if kind == "compute.instance.update"]
    assert any(
        p["instance_id"] == booted
        and p["old_state"] == "building"
        and p["state"] == "active"
        and p["_by"] == f"compute.{running['legacy_host']}"
        for p in updates
    ), events
