"""The benchmark's boot storm is nova's own boot: the recorded requests are the 22 calls of
nova-traffic.md §1.c in order, and replayed for pool instances they boot them for real."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from pathlib import Path

import pymysql
import pytest

from aioconductor.bench import workloads
from aioconductor.bench.bootstorm import BootStorm, call_label
from aioconductor.bench.fixture import build_fixture, clone_database
from aioconductor.bench.generators import ProcessGenerators
from aioconductor.bench.loadgen import WireClient
from aioconductor.bench.targets import DatabaseAddress, RunningTarget, target_spec
from aioconductor.novaenv import drop_database
from tests import rabbit

pytestmark = [pytest.mark.connected, pytest.mark.compat]

BOOT = [
    "InstanceActionEvent.event_start", "Instance.save", "Instance.save",
    "BlockDeviceMappingList.get_by_instance_uuid", "Service.get_by_compute_host",
    "ComputeNode.save", "Instance.save", "BlockDeviceMapping.save", "VirtualInterface.create",
    "InstanceInfoCache.refresh", "InstanceInfoCache.save", "BlockDeviceMapping.save",
    "Instance.save", "Instance.save", "PciDeviceList.get_by_instance_uuid",
    "VirtualInterfaceList.get_by_instance_uuid", "BlockDeviceMappingList.get_by_instance_uuid",
    "ShareMappingList.get_by_instance_uuid", "BlockDeviceMappingList.get_by_instance_uuid",
    "Instance.save", "Instance.save", "InstanceActionEvent.event_finish_with_failure",
]  # fmt: skip


def test_recorded_boot_replays_for_pool_instances(tmp_path: Path) -> None:
    name = f"aioc_fixture_{uuid.uuid4().hex[:8]}"
    copy = f"{name}_copy"
    try:
        fixture = build_fixture(name, 3, 60, 6, tmp_path, progress=lambda _: None)
        assert [call_label(step) for step in fixture.boot_steps] == BOOT
        assert len({p.uuid for p in fixture.pool}) == 60
        assert sum(len(h.instances) for h in fixture.hosts) == 6
        clone_database(name, copy)
        exchange = f"aioc_fx_{uuid.uuid4().hex[:8]}"
        target = RunningTarget(
            target_spec("aioconductor-1w"),
            exchange,
            DatabaseAddress(copy),
            tmp_path,
            transport_url=rabbit.url(),
        )
        storm = BootStorm(fixture)

        async def boot() -> None:
            async with WireClient(rabbit.url("amqp"), exchange) as client:
                await client.wait_ready(time.monotonic() + 60)
                for caller in range(2):  # two whole boots; a failed call raises RpcFailed
                    for _ in BOOT:
                        await storm(client, caller)

        async def storm_from_two_processes() -> tuple[workloads.Measured, workloads.Measured]:
            rest = dataclasses.replace(fixture, pool=fixture.pool[2:])
            url = rabbit.url("amqp")
            async with ProcessGenerators(2, url, exchange, rest, 10.0, think=0.1) as many:
                return await many.closed("bootstorm", 2, 0.5), await many.closed(
                    "bootstorm-paced", 2, 0.5
                )

        try:
            asyncio.run(boot())
            # each process boots its own instances: a shared one would fail its second boot
            from_two, paced = asyncio.run(storm_from_two_processes())
        finally:
            target.stop()
        assert dict(storm.errors) == {}
        assert from_two.errors_by_call == {}
        assert from_two.errors == 0
        assert len(from_two.latencies) >= len(BOOT)
        # each caller pauses 0.1 s after a reply: at most six calls each in 0.5 s
        assert paced.errors == 0
        assert 2 <= len(paced.latencies) <= 12
        conn = pymysql.connect(host="127.0.0.1", user="root", database=copy)
        with conn.cursor() as cur:
            booted = [p.uuid for p in fixture.pool[:2]]
            cur.execute(
                "SELECT vm_state, task_state, host FROM instances WHERE uuid IN (%s, %s)",
                booted,
            )
            states = cur.fetchall()
            cur.execute(
                "SELECT COUNT(*) FROM instance_actions_events WHERE finish_time IS NOT NULL"
            )
            finished = cur.fetchone()[0]
        conn.close()
        assert sorted(states) == [
            ("active", None, fixture.pool[0].host),
            ("active", None, fixture.pool[1].host),
        ]
        assert finished >= 3  # the recorded boot's event and the two replayed ones
    finally:
        drop_database(name)
        drop_database(copy)
