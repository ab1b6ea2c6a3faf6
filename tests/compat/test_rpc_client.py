"""Our RPC client against a real oslo.messaging 18.3.1 server in nova's virtualenv.

The server side is oslo's own (threading executor, call monitor): a result comes back as
oslo sends it, nova's NoValidHost arrives with the class, module and kwargs oslo's client
would rebuild it from, a cast reaches `topic.server`, and the timeouts and a lost broker
connection end a call with an error instead of leaving it waiting.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from aioconductor.boot.rpc_client import RemoteCallError, RpcConnectionLost, RpcTimeout
from aioconductor.context import RequestContext
from tests import rabbit
from tests.compat.rpc_peer import client_settings, oslo_server, our_client
from tests.integration.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.connected, pytest.mark.compat]

CONTEXT = {
    "user_id": "u1",
    "project_id": "p1",
    "is_admin": False,
    "read_deleted": "no",
    "request_id": "req-" + str(uuid.uuid4()),
    "global_request_id": None,
    "roles": ["member", "reader"],
    "timestamp": "2026-12-06T01:02:03.456789",
    "service_catalog": [],
}
CTX = RequestContext.from_wire(CONTEXT)


@pytest.fixture
def exchange_name() -> str:
    return f"aioc_{uuid.uuid4().hex[:12]}"


async def test_a_call_returns_the_servers_result_and_carries_the_context(
    exchange_name: str,
) -> None:
    args = {"spec_obj": {"nova_object.name": "RequestSpec"}, "instance_uuids": ["a", "b"]}
    with oslo_server(exchange_name, "scheduler") as server:
        async with our_client(client_settings(exchange_name)) as client:
            result = await client.call(
                CTX, "scheduler", "select_destinations", args, version="4.5", timeout=20
            )
        seen = server.next_request()
    assert result == {"echo": args, "context": CONTEXT}
    assert seen == {"method": "select_destinations", "args": args, "context": CONTEXT}


async def test_a_remote_exception_arrives_as_oslo_would_rebuild_it(exchange_name: str) -> None:
    with oslo_server(exchange_name, "scheduler") as server:
        async with our_client(client_settings(exchange_name)) as client:
            with pytest.raises(RemoteCallError) as raised:
                await client.call(
                    CTX,
                    "scheduler",
                    "no_valid_host",
                    {"reason": "no hosts left"},
                    version="4.0",
                    timeout=20,
                )
        server.next_request()
    error = raised.value
    assert (error.exc_type, error.module) == ("NoValidHost", "nova.exception")
    assert error.kwargs == {"reason": "no hosts left", "code": 500}
    assert error.message == "No valid host was found. no hosts left"
    assert error.remote_args == ["No valid host was found. no hosts left"]
    assert any("NoValidHost" in line for line in error.traceback)


async def test_a_call_to_a_named_server_reaches_its_server_queue(exchange_name: str) -> None:
    with oslo_server(exchange_name, "compute", server="node7") as server:
        async with our_client(client_settings(exchange_name)) as client:
            result = await client.call(
                CTX,
                "compute",
                "select_destinations",
                {"x": 1},
                version="6.0",
                server="node7",
                timeout=20,
            )
    assert result["echo"] == {"x": 1}
    assert server.next_request()["method"] == "select_destinations"


async def test_a_cast_is_received_by_the_oslo_server(exchange_name: str) -> None:
    args = {"instance": {"nova_object.name": "Instance"}, "node": "node7", "limits": None}
    with oslo_server(exchange_name, "compute", server="node7") as server:
        async with our_client(client_settings(exchange_name)) as client:
            await client.cast(
                CTX, "compute", "build_and_run_instance", args, version="6.0", server="node7"
            )
            seen = await asyncio.to_thread(server.next_request)
    assert seen == {"method": "build_and_run_instance", "args": args, "context": CONTEXT}


async def test_call_monitor_heartbeats_keep_a_long_call_alive(exchange_name: str) -> None:
    with oslo_server(exchange_name, "scheduler"):
        async with our_client(client_settings(exchange_name)) as client:
            started = time.monotonic()
            result = await client.call(
                CTX,
                "scheduler",
                "sleep",
                {"seconds": 5},
                version="4.0",
                timeout=20,
                call_monitor_timeout=2,
            )
    assert result == "slept"
    assert time.monotonic() - started >= 5


async def test_a_call_times_out_when_no_reply_comes_in_time(exchange_name: str) -> None:
    with oslo_server(exchange_name, "scheduler"):
        async with our_client(client_settings(exchange_name)) as client:
            started = time.monotonic()
            with pytest.raises(RpcTimeout, match="message ID"):
                await client.call(
                    CTX, "scheduler", "sleep", {"seconds": 4}, version="4.0", timeout=1.5
                )
            assert 1.4 < time.monotonic() - started < 3
            # the late reply is dropped quietly; the client keeps working
            result = await client.call(
                CTX, "scheduler", "select_destinations", {}, version="4.5", timeout=20
            )
    assert result["echo"] == {}


async def test_the_call_monitor_ends_a_call_nobody_consumes(exchange_name: str) -> None:
    async with our_client(client_settings(exchange_name)) as client:
        started = time.monotonic()
        with pytest.raises(RpcTimeout):
            await client.call(
                CTX,
                "nobody",
                "select_destinations",
                {},
                version="4.5",
                timeout=60,
                call_monitor_timeout=2,
            )
        assert time.monotonic() - started < 4


async def test_a_call_survives_a_cut_connection_that_comes_back(exchange_name: str) -> None:
    with oslo_server(exchange_name, "scheduler"), TcpProxy(("127.0.0.1", 5672)) as proxy:
        settings = client_settings(
            exchange_name,
            rabbit.url(port=proxy.port),
            AIOCONDUCTOR_OSLO_MESSAGING_RABBIT__KOMBU_RECONNECT_DELAY="0.2",
        )
        async with our_client(settings) as client:
            call = asyncio.ensure_future(
                client.call(CTX, "scheduler", "sleep", {"seconds": 3}, version="4.0", timeout=30)
            )
            await asyncio.sleep(1)
            proxy.cut_all()  # the reply queue outlives the connection: the reply waits there
            assert await asyncio.wait_for(call, 20) == "slept"


async def test_a_lost_connection_that_stays_away_fails_the_waiting_call(
    exchange_name: str,
) -> None:
    with oslo_server(exchange_name, "scheduler"), TcpProxy(("127.0.0.1", 5672)) as proxy:
        settings = client_settings(exchange_name, rabbit.url(port=proxy.port))
        async with our_client(settings, lost_grace=1.5) as client:
            call = asyncio.ensure_future(
                client.call(CTX, "scheduler", "sleep", {"seconds": 30}, version="4.0", timeout=60)
            )
            await asyncio.sleep(1)
            started = time.monotonic()
            proxy.go_down()
            with pytest.raises(RpcConnectionLost):
                await asyncio.wait_for(call, 10)
            assert time.monotonic() - started < 4
            proxy.come_back()


async def test_concurrent_calls_each_get_their_own_reply(exchange_name: str) -> None:
    with oslo_server(exchange_name, "scheduler"):
        async with our_client(client_settings(exchange_name)) as client:
            results = await asyncio.gather(
                *(
                    client.call(
                        CTX,
                        "scheduler",
                        "select_destinations",
                        {"n": n},
                        version="4.5",
                        timeout=30,
                    )
                    for n in range(40)
                )
            )
    assert [r["echo"] for r in results] == [{"n": n} for n in range(40)]
