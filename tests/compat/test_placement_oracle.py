"""delete_allocation_for_instance against nova 34's own SchedulerReportClient: the same
calls on the same placement state (a fake placement, tests/compat/fake_placement.py) give
the same results and errors, and placement sees the same requests: methods, paths,
microversions, request ids, content types and bodies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aioconductor.boot.placement import PlacementClient
from aioconductor.config.settings import PlacementOptions
from aioconductor.context import RequestContext
from aioconductor.errors import AllocationDeleteFailed
from tests.compat.fake_placement import Consumer, PlacementState, fake_placement
from tests.compat.nova_processes import run_nova_script

pytestmark = [pytest.mark.connected, pytest.mark.compat]

HELD = "8d1b0f3e-7a55-4a44-9d83-0e4b5f6a7b8c"
RACING = "5e0c2a1b-9f8e-4d7c-a6b5-4c3d2e1f0a9b"
NOTHING = "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b"
PROVIDER = "2f9a6c1d-3b4e-4f50-8a71-9c0d1e2f3a4b"
CONTEXT = {
    "request_id": "req-local-1",
    "global_request_id": "req-global-1",
    "project_id": "p1",
    "user_id": "u1",
    "is_admin": True,
}
CALLS = [
    [HELD, False],
    [HELD, False],
    [RACING, False],
    [NOTHING, True],
    [RACING, True],
    [RACING, True],
]
_HEADERS = ("accept", "openstack-api-version", "x-openstack-request-id", "content-type")


def seed(state: PlacementState) -> None:
    for uuid in (HELD, RACING):
        state.consumers[uuid] = Consumer(
            {PROVIDER: {"resources": {"VCPU": 1, "MEMORY_MB": 512}}}, "p1", "u1"
        )
    state.racing.add(RACING)


def seen(state: PlacementState) -> list[Any]:
    return [
        (method, path, {h: headers.get(h) for h in _HEADERS}, body)
        for (method, path), headers, body in zip(
            state.requests, state.headers, state.bodies, strict=True
        )
        if path.rstrip("/") != "/placement"  # the SDK's version discovery, not the call
    ]


async def ours(endpoint: str) -> list[dict[str, Any]]:
    client = PlacementClient.from_options(
        PlacementOptions(auth_type="none", endpoint_override=endpoint)
    )
    ctx = RequestContext.from_wire(CONTEXT)
    out: list[dict[str, Any]] = []
    try:
        for uuid, force in CALLS:
            try:
                result = await client.delete_allocation_for_instance(ctx, uuid, force=force)
                out.append({"result": result})
            except AllocationDeleteFailed as exc:
                out.append({"error": "AllocationDeleteFailed", "kwargs": exc.kwargs})
    finally:
        await client.close()
    return out


def test_delete_allocation_for_instance_as_novas_report_client() -> None:
    with fake_placement() as (url, nova_state):
        seed(nova_state)
        novas = run_nova_script(
            "nova_delete_allocation.py", {"endpoint": url, "context": CONTEXT, "calls": CALLS}
        )
    with fake_placement() as (url, our_state):
        seed(our_state)
        mine = asyncio.run(ours(url))
    assert mine == novas
    assert [r.get("result", r.get("error")) for r in mine] == [
        True,
        False,
        "AllocationDeleteFailed",
        False,
        True,
        False,
    ]
    assert seen(our_state) == seen(nova_state)


FULL_PROVIDER = "7c6b5a49-3827-4165-9504-a3b2c1d0e9f8"
ALT_PROVIDER = "9e8d7c6b-5a49-4382-8716-5b4a3c2d1e0f"
FRESH = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
FRESH_OLD_VERSION = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
RACED_ONCE = "6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c"


def wanted(provider: str) -> dict[str, Any]:
    return {"allocations": {provider: {"resources": {"VCPU": 1, "MEMORY_MB": 512}}},
            "mappings": {}}  # fmt: skip


CLAIMS = [
    [FRESH, wanted(PROVIDER), "p1", "u1", "1.36"],  # a new consumer: claimed
    [NOTHING, wanted(FULL_PROVIDER), "p1", "u1", "1.36"],  # beyond capacity: refused
    [HELD, wanted(ALT_PROVIDER), "p1", "u1", "1.36"],  # held already: doubled up
    [RACING, wanted(PROVIDER), "p1", "u1", "1.36"],  # changed meanwhile: fails
    [FRESH_OLD_VERSION, wanted(PROVIDER), "p1", "u1", "1.25"],  # no consumer generation
    [RACED_ONCE, wanted(PROVIDER), "p1", "u1", "1.36"],  # placement races itself once
]


def seed_claims(state: PlacementState) -> None:
    seed(state)
    state.consumers[HELD].allocations = {
        ALT_PROVIDER: {"resources": {"DISK_GB": 1}},  # a provider both hold: kept as held
        PROVIDER: {"resources": {"VCPU": 1}},
    }
    state.full.add(FULL_PROVIDER)


async def our_claims(endpoint: str, state: PlacementState) -> list[dict[str, Any]]:
    from aioconductor.boot.placement import claim_resources
    from aioconductor.errors import AllocationUpdateFailed

    client = PlacementClient.from_options(
        PlacementOptions(auth_type="none", endpoint_override=endpoint)
    )
    ctx = RequestContext.from_wire(CONTEXT)
    out: list[dict[str, Any]] = []
    try:
        for uuid, request, project_id, user_id, version in CLAIMS:
            if uuid == RACED_ONCE:
                state.provider_races = 1
            try:
                result = await claim_resources(
                    client, ctx, uuid, request, project_id=project_id, user_id=user_id,
                    allocation_request_version=version,
                )  # fmt: skip
                out.append({"result": result})
            except AllocationUpdateFailed as exc:
                out.append({"error": "AllocationUpdateFailed", "kwargs": exc.kwargs})
    finally:
        await client.close()
    return out


def test_claim_resources_as_novas_report_client() -> None:
    novas: list[dict[str, Any]] = []
    with fake_placement() as (url, nova_state):
        seed_claims(nova_state)
        for call in CLAIMS:  # one call per run: the race is set before its own call
            if call[0] == RACED_ONCE:
                nova_state.provider_races = 1
            novas += run_nova_script(
                "nova_claim_resources.py", {"endpoint": url, "context": CONTEXT, "calls": [call]}
            )
        nova_consumers = {u: c.allocations for u, c in nova_state.consumers.items()}
    with fake_placement() as (url, our_state):
        seed_claims(our_state)
        mine = asyncio.run(our_claims(url, our_state))
        our_consumers = {u: c.allocations for u, c in our_state.consumers.items()}
    assert mine == novas
    assert [r.get("result", r.get("error")) for r in mine] == [
        True, False, True, "AllocationUpdateFailed", True, True,
    ]  # fmt: skip
    assert seen(our_state) == seen(nova_state)
    assert our_consumers == nova_consumers
