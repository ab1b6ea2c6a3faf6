"""The delete notifications of a server deleted while it was scheduled, against nova's own
`compute_utils.notify_about_instance_delete` as the conductor's `_delete_build_request` runs it.

nova (legacy/instance_delete_notify.py) creates the instance as the conductor does in two
cell databases, then destroys its own copy inside nova's notifying block with its real
notifier; we destroy ours inside `notifying_delete` with our Notifier and our
Instance.destroy. Every message on the notification queues must be equal field by field,
properties included, except ids and timestamps (by form).
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aioconductor.config.settings import load_settings
from aioconductor.context import RequestContext
from aioconductor.messaging.amqp.connection import Connection
from aioconductor.messaging.connection import robust_connection
from aioconductor.notifications.instance_delete import notifying_delete
from aioconductor.notifications.notifier import Notifier
from aioconductor.objects import instance_destroy
from aioconductor.objects.primitives import ObjectPrimitive
from aioconductor.objects.registry import InstanceCall
from tests.compat.boot_rows import our_database
from tests.compat.notification_logs import assert_same_lines, capturing, nova_lines
from tests.compat.notification_queues import by_shape, collect
from tests.compat.nova_processes import (
    api_database_conf,
    free_port,
    nova_api_database,
    nova_conf,
    nova_database,
    run_nova_script,
)
from tests.compat.scenario.pair import diff

pytestmark = [pytest.mark.connected, pytest.mark.compat]


@pytest.fixture(scope="module")
def databases() -> Iterator[tuple[str, str, str]]:
    with (
        nova_api_database("idn_api") as api,
        nova_database("idn_nova") as theirs,
        nova_database("idn_ours") as ours,
    ):
        yield api, theirs, ours


def _conf(fmt: str, drivers: list[str], tag: str, extra: str) -> str:
    lines = [
        "[notifications]",
        f"notification_format = {fmt}",
        f"versioned_notifications_topics = vn_{tag}",
        extra,
        "[oslo_messaging_notifications]",
        *[f"driver = {d}" for d in drivers],
        f"topics = n_{tag}",
        "[aioconductor]",
        f"metrics_bind = 127.0.0.1:{free_port()}",
    ]
    return "\n".join(lines) + "\n"


async def _destroy_ours(conf: Path, cell_db: str, answer: dict[str, Any]) -> None:
    settings = load_settings([conf])

    async def nothing(_: Connection) -> None:
        return None

    connection = robust_connection(settings, nothing)
    await connection.start()
    notifier = Notifier(settings)
    await notifier.start(connection)
    obj = ObjectPrimitive.from_wire(copy.deepcopy(answer["instance"]))
    try:
        async with our_database(cell_db) as db:
            call = InstanceCall(
                ctx=RequestContext.from_wire(copy.deepcopy(answer["context"])),
                db=db,
                objname="Instance",
                versions={"Instance": obj.version},
                notifier=notifier,
                obj=obj,
            )
            async with notifying_delete(call):
                await instance_destroy.destroy(call)
    finally:
        await notifier.stop()
        await connection.close()


CASES = {
    # both formats, the 2.0 envelope, BDMs and shares in the versioned payload
    "both-messagingv2-bdms": ("both", ["messagingv2"], "bdms_in_notifications = true\n"
                              "include_share_mapping = true", True),
    # ceilometer's: legacy only, the bare 1.0 body, the image URL from [glance] api_servers
    "unversioned-messaging-glance": (
        "unversioned", ["messaging"], "[glance]\napi_servers = http://glance.test:9292", False
    ),
    # versioned only, beside the log driver
    "versioned-messagingv2-log": ("versioned", ["messagingv2", "log"], "", True),
    # the log driver alone, both formats: its lines, secrets masked as oslo masks them
    "both-log": ("both", ["log"], "", True),
}  # fmt: skip
# metadata the log driver masks: by key (oslo's list, any key containing one) and by value
METADATA = {"passphrase": "p-1", "admin_password": "p-2", "note": "password=abc123 other",
            "quoted": 'x "password": "p-3" y', "plain": "v"}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_instance_delete_notifications_match_nova(
    tmp_path: Path, databases: tuple[str, str, str], case: str
) -> None:
    fmt, drivers, extra, volume = CASES[case]
    api_db, nova_db, our_db = databases
    tag = uuid.uuid4().hex[:8]
    queues = [f"vn_{tag}.info", f"n_{tag}.info"]
    conf = nova_conf(
        tmp_path / "nova.conf",
        f"aioc_idn_{tag}",
        nova_db,
        _conf(fmt, drivers, tag, extra) + api_database_conf(api_db),
    )
    job = {
        "config_file": str(conf),
        "our_cell": f"mysql+pymysql://root@127.0.0.1/{our_db}",
        "instance_uuid": str(uuid.uuid4()),
        "context": {
            "user_id": "u-idn",
            "project_id": "p-idn",
            "roles": ["member"],
            "request_id": f"req-{uuid.uuid4()}",
        },
        "volume": volume,
        "metadata": METADATA,
        "log_file": str(tmp_path / "nova-log.jsonl"),
    }
    answer = run_nova_script("instance_delete_notify.py", job)
    theirs = collect(queues)
    with capturing() as lines:
        asyncio.run(_destroy_ours(conf, our_db, answer))
    assert_same_lines(lines, nova_lines(tmp_path / "nova-log.jsonl"))
    assert bool(lines) == ("log" in drivers)
    ours = collect(queues, expect={q: len(m) for q, m in theirs.items()}, wait=10)
    for queue in queues:
        assert [m["body"]["event_type"] for m in ours[queue]] == [
            m["body"]["event_type"] for m in theirs[queue]
        ], queue
        for n, (mine, nova) in enumerate(zip(ours[queue], theirs[queue], strict=True)):
            have, want = by_shape(mine), by_shape(nova)
            assert have == want, (queue, n, diff(have, want))
    if not any(d.startswith("messaging") for d in drivers):
        assert theirs == {q: [] for q in queues}
        return
    legacy = [m["body"]["event_type"] for m in theirs[f"n_{tag}.info"]]
    versioned = [m["body"]["event_type"] for m in theirs[f"vn_{tag}.info"]]
    assert legacy == (
        []
        if fmt == "versioned"
        else ["compute.instance.delete.start", "compute.instance.delete.end"]
    )
    assert versioned == (
        [] if fmt == "unversioned" else ["instance.delete.start", "instance.delete.end"]
    )
    if "bdms_in_notifications" in extra:  # the volume before the destroy, none after it
        devices = [
            m["body"]["payload"]["nova_object.data"]["block_devices"]
            for m in theirs[f"vn_{tag}.info"]
        ]
        assert [[d["nova_object.data"]["tag"] for d in found] for found in devices] == [
            ["data"],
            [],
        ]
