"""The boot-storm workload: N computes booting instances side by side, each boot the 22 requests
nova-compute sent in the recorded boot (fixture.py), replayed for a fresh pool instance.

Each replayed request is the recorded one with the template's identifiers replaced by the pool
instance's: uuids, MAC and port, host and node names (also inside the info cache's JSON), the
request id of its instance action, and the integer ids of the Instance, BDM and ComputeNode
objects it carries. One call of the workload is one RPC: latencies are per RPC.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aioconductor.bench.fixture import Fixture, PoolInstance
from aioconductor.bench.loadgen import RpcFailed, WireClient

Request = dict[str, Any]


def substitute(
    value: Any, strings: list[tuple[str, str]], ids: dict[str, dict[str, tuple[int, int]]]
) -> Any:
    if isinstance(value, str):
        for old, new in strings:
            if old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [substitute(v, strings, ids) for v in value]
    if isinstance(value, dict):
        out = {k: substitute(v, strings, ids) for k, v in value.items()}
        swaps = ids.get(value.get("nova_object.name", ""))
        data = out.get("nova_object.data")
        if swaps and isinstance(data, dict):
            for key, (old_id, new_id) in swaps.items():
                if data.get(key) == old_id:
                    data[key] = new_id
        return out
    return value


def boot_requests(fixture: Fixture, target: PoolInstance) -> list[Request]:
    """The recorded boot, made the boot of `target`."""
    t = fixture.template
    strings = [
        (t["uuid"], target.uuid),
        (t["bdm_uuid"], target.bdm_uuid),
        (t["node_uuid"], target.node_uuid),
        (t["port"], target.port),
        (t["mac"], target.mac),
        (t["boot_request_id"], target.request_id),
        (t["host"], target.host),
        (t["node"], target.host),  # each host's node is named after it
    ]
    ids = {
        "Instance": {"id": (t["id"], target.id), "compute_id": (t["node_id"], target.node_id)},
        "BlockDeviceMapping": {"id": (t["bdm_id"], target.bdm_id)},
        "ComputeNode": {
            "id": (t["node_id"], target.node_id),
            "service_id": (t["service_id"], target.service_id),
        },
    }
    return [substitute(step, strings, ids) for step in fixture.boot_steps]


def call_label(request: Request) -> str:
    args = request["message"]["args"]
    if "objinst" in args:
        return f"{args['objinst']['nova_object.name']}.{args['objmethod']}"
    return f"{args.get('objname')}.{args.get('objmethod')}"


class BootStorm:
    """Each caller boots pool instances one after another, one RPC per call."""

    def __init__(self, fixture: Fixture) -> None:
        self.fixture = fixture
        self._next = 0
        self._queues: dict[int, list[Request]] = {}
        self.errors: Counter[str] = Counter()
        self.boots_started = 0

    def _take(self, caller: int) -> list[Request]:
        queue = self._queues.get(caller)
        if not queue:
            if self._next >= len(self.fixture.pool):
                raise RuntimeError("the boot pool is used up: raise --boot-pool")
            queue = boot_requests(self.fixture, self.fixture.pool[self._next])
            self._next += 1
            self.boots_started += 1
            self._queues[caller] = queue
        return queue

    async def __call__(self, client: WireClient, caller: int) -> Any:
        request = self._take(caller).pop(0)
        message = request["message"]
        try:
            return await client.call(
                message["method"],
                message["args"],
                namespace=message.get("namespace"),
                version=message.get("version", "3.0"),
                context=request["context"],
            )
        except RpcFailed:
            self.errors[call_label(request)] += 1
            raise
