"""The fleet workload: M nova-compute hosts on their default periodic schedule, time-compressed.

Per host, each loop starting at a random phase (the defaults of nova-traffic.md §1.b):
- heartbeat every 10 s: Service.save;
- update_available_resource every 60 s: ComputeNodeList.get_all_by_host, the libvirt disk
  check (InstanceList.get_by_filters + BlockDeviceMappingList.get_by_instance_uuids),
  InstanceList.get_by_host_and_node, MigrationList.get_in_progress_and_error,
  Service.get_by_compute_host, ComputeNode.save;
- power-state sync every 600 s: InstanceList.get_by_host, then Instance.refresh per instance.
Simulated hosts beyond the seeded ones reuse their rows in turn (the load per host is what
counts). Arrivals are open-loop: a slow conductor makes calls queue, as it does in a cloud.
"""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aioconductor.bench.fixture import Fixture, Host
from aioconductor.bench.loadgen import RpcFailed, WireClient
from aioconductor.bench.workloads import Measured, measured, own_cpu

HEARTBEAT, UPDATE, POWER_SYNC = 10.0, 60.0, 600.0
_RT_ATTRS = ["flavor", "migration_context", "resources", "system_metadata", "numa_topology",
             "pci_requests"]  # fmt: skip


@dataclass
class FleetRun:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


class _Compute:
    def __init__(self, fleet: Fleet, host: Host) -> None:
        self.fleet, self.host = fleet, host
        self.service = copy.deepcopy(host.service)

    async def _rpc(self, method: str, args: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            result = await self.fleet.client.call(method, args)
        except (RpcFailed, TimeoutError):
            self.fleet.result.errors += 1
            return None
        self.fleet.result.latencies.append(time.perf_counter() - started)
        return result

    async def _class(self, objname: str, objmethod: str, *args: Any, **kwargs: Any) -> Any:
        manifest = self.fleet.manifests[objname]
        return await self._rpc("object_class_action_versions", {
            "objname": objname, "objmethod": objmethod, "object_versions": manifest,
            "args": list(args), "kwargs": kwargs})  # fmt: skip

    async def _action(self, objinst: dict[str, Any], objmethod: str, changes: list[str]) -> Any:
        sent = {**objinst, "nova_object.changes": changes}
        return await self._rpc("object_action", {"objinst": sent, "objmethod": objmethod,
                                                 "args": [], "kwargs": {}})  # fmt: skip

    async def heartbeat(self) -> None:
        self.service["nova_object.data"]["report_count"] += 1
        reply = await self._action(self.service, "save", ["report_count"])
        if reply:
            updates = {k: v for k, v in reply[0].items() if k != "obj_what_changed"}
            self.service["nova_object.data"].update(updates)

    async def update_available_resource(self) -> None:
        host, uuids = self.host.host, self.host.instances
        nodes = await self._class("ComputeNodeList", "get_all_by_host", host)
        if uuids:
            await self._class("InstanceList", "get_by_filters", {"uuid": uuids})
            await self._class("BlockDeviceMappingList", "get_by_instance_uuids", uuids)
        await self._class("InstanceList", "get_by_host_and_node", host, host,
                          expected_attrs=_RT_ATTRS)  # fmt: skip
        await self._class("MigrationList", "get_in_progress_and_error", host, host)
        await self._class("Service", "get_by_compute_host", host)
        if nodes:
            node = nodes["nova_object.data"]["objects"][0]
            data = node["nova_object.data"]
            data["stats"] = {**(data.get("stats") or {}), "io_workload": str(random.randint(0, 3))}
            await self._action(node, "save", ["stats"])

    async def power_sync(self) -> None:
        found = await self._class("InstanceList", "get_by_host", self.host.host,
                                  expected_attrs=[])  # fmt: skip
        for instance in (found or {"nova_object.data": {"objects": []}})["nova_object.data"][
            "objects"
        ]:
            await self._action(instance, "refresh", [])

    async def every(self, period: float, task: Any, stop_at: float) -> None:
        def until(delay: float) -> float:  # never sleep past the end of the stage
            return max(0.0, min(delay, stop_at - time.monotonic()))

        await asyncio.sleep(until(random.uniform(0, period)))
        while time.monotonic() < stop_at:
            started = time.monotonic()
            await task()
            await asyncio.sleep(until(period - (time.monotonic() - started)))


class Fleet:
    def __init__(self, fixture: Fixture, compression: float) -> None:
        self.fixture = fixture
        self.compression = compression
        self.manifests: dict[str, dict[str, str]] = fixture.template["manifests"]
        self.client: WireClient
        self.result = FleetRun()

    async def run(self, client: WireClient, computes: Sequence[int], seconds: float) -> Measured:
        """Run the numbered computes (all of a level's, or this generator process's share)."""
        self.client, self.result = client, FleetRun()
        hosts = self.fixture.hosts
        sims = [_Compute(self, hosts[i % len(hosts)]) for i in computes]
        stop_at = time.monotonic() + seconds
        c = self.compression
        loops = []
        for sim in sims:
            loops += [sim.every(HEARTBEAT / c, sim.heartbeat, stop_at),
                      sim.every(UPDATE / c, sim.update_available_resource, stop_at),
                      sim.every(POWER_SYNC / c, sim.power_sync, stop_at)]  # fmt: skip
        cpu0, t0 = own_cpu(), time.monotonic()
        await asyncio.gather(*loops)
        run = self.result
        return measured(run.latencies, run.errors, time.monotonic() - t0, own_cpu() - cpu0)
