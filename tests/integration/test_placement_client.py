"""PlacementClient over HTTP on loopback: a fake placement that checks what arrives (headers,
microversion, bodies, consumer generations) and a keystone stand-in for the password and
token plugins. nova's own report client against the same fake is in
tests/compat/test_placement_oracle.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from aioconductor.boot.placement import PlacementClient, PlacementNotConfigured
from aioconductor.config.settings import PlacementOptions
from aioconductor.context import RequestContext
from aioconductor.errors import AllocationDeleteFailed
from tests.compat.fake_keystone import fake_keystone
from tests.compat.fake_placement import Consumer, PlacementState, fake_placement

pytestmark = pytest.mark.connected

INSTANCE = "8d1b0f3e-7a55-4a44-9d83-0e4b5f6a7b8c"
PROVIDER = "2f9a6c1d-3b4e-4f50-8a71-9c0d1e2f3a4b"
CTX = RequestContext.from_wire(
    {"request_id": "req-local", "global_request_id": "req-global-1", "project_id": "p1"}
)


def options(**values: object) -> PlacementOptions:
    return PlacementOptions.model_validate(values)


def allocate(state: PlacementState, uuid: str = INSTANCE) -> None:
    state.consumers[uuid] = Consumer(
        {PROVIDER: {"resources": {"VCPU": 1, "MEMORY_MB": 512}}}, "p1", "u1"
    )


@asynccontextmanager
async def client_for(opts: PlacementOptions) -> AsyncIterator[PlacementClient]:
    client = PlacementClient.from_options(opts)
    try:
        yield client
    finally:
        await client.close()


async def test_force_deletes_with_delete_and_says_whether_there_was_anything() -> None:
    with fake_placement() as (url, state):
        allocate(state)
        async with client_for(options(auth_type="none", endpoint_override=url)) as client:
            assert await client.delete_allocation_for_instance(CTX, INSTANCE, force=True)
            assert not await client.delete_allocation_for_instance(CTX, INSTANCE, force=True)
    assert state.requests == [("DELETE", f"/placement/allocations/{INSTANCE}")] * 2
    headers = state.headers[0]
    assert headers["accept"] == "application/json"
    assert headers["x-openstack-request-id"] == "req-global-1"
    assert "openstack-api-version" not in headers  # nova asks for no microversion here


async def test_without_force_the_consumer_generation_read_is_put_back_empty() -> None:
    with fake_placement() as (url, state):
        allocate(state)
        async with client_for(options(auth_type="none", endpoint_override=url)) as client:
            assert await client.delete_allocation_for_instance(CTX, INSTANCE, force=False)
            assert INSTANCE not in state.consumers
            # nothing left: the GET says so and no PUT follows
            assert not await client.delete_allocation_for_instance(CTX, INSTANCE, force=False)
    path = f"/placement/allocations/{INSTANCE}"
    assert state.requests == [("GET", path), ("PUT", path), ("GET", path)]
    assert {h["openstack-api-version"] for h in state.headers} == {"placement 1.28"}
    assert state.headers[1]["content-type"] == "application/json"


async def test_a_consumer_changed_between_read_and_write_fails_as_nova_fails() -> None:
    with fake_placement() as (url, state):
        allocate(state)
        state.racing.add(INSTANCE)
        async with client_for(options(auth_type="none", endpoint_override=url)) as client:
            with pytest.raises(AllocationDeleteFailed) as raised:
                await client.delete_allocation_for_instance(CTX, INSTANCE, force=False)
    assert raised.value.kwargs["consumer_uuid"] == INSTANCE
    assert "placement.concurrent_update" in raised.value.kwargs["error"]
    assert raised.value.kwargs["code"] == 500


@pytest.mark.parametrize("force", [True, False])
async def test_a_failing_placement_is_allocation_delete_failed(force: bool) -> None:
    with fake_placement() as (url, state):
        state.failing = 503
        async with client_for(options(auth_type="none", endpoint_override=url)) as client:
            with pytest.raises(AllocationDeleteFailed, match="broken"):
                await client.delete_allocation_for_instance(CTX, INSTANCE, force=force)
    assert len(state.requests) == 1


async def test_requests_run_off_the_event_loop() -> None:
    with fake_placement() as (url, state):
        allocate(state)
        state.delay = 0.5
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        async with client_for(options(auth_type="none", endpoint_override=url)) as client:
            started = time.monotonic()
            assert await client.delete_allocation_for_instance(CTX, INSTANCE, force=True)
            took = time.monotonic() - started
        ticker.cancel()
    assert took >= 0.5
    assert ticks >= 15  # the loop ran all along


async def test_password_auth_finds_placement_in_keystones_catalog() -> None:
    with fake_placement() as (url, state):
        allocate(state)
        interfaces = {"public": url.replace("/placement", "/public"), "internal": url}
        with fake_keystone(interfaces) as (auth_url, keystone):
            opts = options(
                auth_type="password",
                valid_interfaces=("internal",),
                auth={
                    "auth_url": auth_url,
                    "username": "nova",
                    "password": "s3cret",
                    "project_name": "service",
                    "user_domain_name": "Default",
                    "project_domain_name": "Default",
                },
            )
            async with client_for(opts) as client:
                assert await client.delete_allocation_for_instance(CTX, INSTANCE, force=False)
    identity = keystone.token_requests[0]["auth"]["identity"]
    assert identity["methods"] == ["password"]
    assert identity["password"]["user"] == {
        "name": "nova",
        "password": "s3cret",
        "domain": {"name": "Default"},
    }
    assert keystone.token_requests[0]["auth"]["scope"]["project"]["name"] == "service"
    # the internal endpoint, with the token, one token for both requests
    assert [r[1] for r in state.requests] == [f"/placement/allocations/{INSTANCE}"] * 2
    assert {h["x-auth-token"] for h in state.headers} == {"tok-1"}


async def test_token_auth_sends_the_configured_token_to_keystone() -> None:
    with (
        fake_placement() as (url, state),
        fake_keystone({"internal": url, "public": url}) as (auth_url, keystone),
    ):
        opts = options(
            auth_type="token",
            auth={"auth_url": auth_url, "token": "admin-token", "project_id": "service-id"},
        )
        async with client_for(opts) as client:
            assert not await client.delete_allocation_for_instance(CTX, INSTANCE, force=True)
    identity = keystone.token_requests[0]["auth"]["identity"]
    assert identity == {"methods": ["token"], "token": {"id": "admin-token"}}
    assert state.headers[0]["x-auth-token"] == "tok-1"


def test_no_auth_type_is_not_configured() -> None:
    with pytest.raises(PlacementNotConfigured, match="auth_type"):
        PlacementClient.from_options(PlacementOptions())


async def test_the_request_id_is_the_callers_own_without_a_global_one() -> None:
    ctx = RequestContext.from_wire({"request_id": "req-only-local"})
    with fake_placement() as (url, state):
        async with client_for(options(auth_type="none", endpoint_override=url)) as client:
            await client.delete_allocation_for_instance(ctx, INSTANCE, force=True)
    assert state.headers[0]["x-openstack-request-id"] == "req-only-local"
