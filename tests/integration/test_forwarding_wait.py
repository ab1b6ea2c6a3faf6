"""A legacy conductor that starts after aioconductor: forwarded requests wait for it.

nova-conductor takes longer to start than aioconductor; a compute started meanwhile gets
`ping` answered natively and then forwards. Its forwarded calls must wait for the legacy
conductor's queue to get a consumer (within the caller's time), not fail at once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import oslo_messaging
import pytest
from prometheus_client import REGISTRY

from aioconductor.conductor.fallback import LegacyForwarder
from aioconductor.context import RequestContext
from aioconductor.messaging.dispatcher import EndpointTarget, rpc_method
from tests.integration.conftest import OsloClients
from tests.integration.rpc_harness import ServerThread
from tests.integration.test_rpc_server import CTX, make_settings

pytestmark = pytest.mark.connected

LEGACY_STARTS_AFTER = 3.0


class LegacyStandIn:
    """Answers the compute_task call aioconductor forwards, as nova-conductor would."""

    target = EndpointTarget(namespace="compute_task", version="1.26")

    @rpc_method
    async def migrate_server(self, ctx: RequestContext, **kwargs: Any) -> str:
        return "answered by the legacy conductor"


@pytest.fixture
def legacy_host() -> str:
    return f"legacy-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def ours(exchange_name: str, legacy_host: str) -> Iterator[ServerThread]:
    settings = make_settings(exchange_name, fallback_host=legacy_host, fallback_wait=20)
    thread = ServerThread(settings, forwarder=LegacyForwarder(settings)).start()
    try:
        yield thread
    finally:
        thread.stop()


def start_legacy(exchange_name: str, legacy_host: str) -> ServerThread:
    settings = make_settings(exchange_name).model_copy(update={"host": legacy_host})
    return ServerThread(settings, endpoints=[LegacyStandIn()]).start()


def migrate(oslo: OsloClients, timeout: float) -> tuple[Any, float]:
    started = time.monotonic()
    client = oslo.client(namespace="compute_task", version="1.26", timeout=timeout)
    try:
        result = client.call(CTX, "migrate_server", instance=None)
    except Exception as exc:  # what the caller sees, whatever it is
        result = exc
    return result, time.monotonic() - started


def test_forwarded_call_waits_for_a_legacy_conductor_starting_later(
    ours: ServerThread, oslo: OsloClients, exchange_name: str, legacy_host: str
) -> None:
    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(migrate, oslo, 30)
        time.sleep(LEGACY_STARTS_AFTER)  # no queue, no consumer: the call must be held
        assert not call.done(), call.result()
        legacy = start_legacy(exchange_name, legacy_host)
        try:
            result, seconds = call.result(40)
        finally:
            legacy.stop()
    assert result == "answered by the legacy conductor"
    assert LEGACY_STARTS_AFTER <= seconds < 15


def received(route: str) -> float:
    labels = {"method": "compute_task.migrate_server", "route": route}
    return REGISTRY.get_sample_value("aioconductor_received_messages_total", labels) or 0.0


def test_forwarded_call_fails_within_half_the_callers_timeout(
    ours: ServerThread, oslo: OsloClients, caplog: pytest.LogCaptureFixture
) -> None:
    """No legacy conductor ever: ForwardingFailed before the caller's own timeout, so the
    caller learns why instead of timing out; the operator sees it too."""
    before = {route: received(route) for route in ("native", "forwarded")}
    result, seconds = migrate(oslo, 6)
    assert isinstance(result, oslo_messaging.RemoteError), result
    assert result.exc_type == "ForwardingFailed"
    assert "had no consumer for 3 s" in result.value
    assert 3 <= seconds < 6
    # counted once, as forwarded (not also as a native call that took 3 s), and logged
    assert received("forwarded") == before["forwarded"] + 1
    assert received("native") == before["native"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("compute_task.migrate_server not forwarded" in w for w in warnings), warnings


def test_held_requests_never_take_more_than_half_the_slots(
    exchange_name: str, legacy_host: str, oslo: OsloClients
) -> None:
    """Requests waiting for the legacy conductor keep their worker slot: past half of the
    slots (here 1 of 2) the next one fails at once, so native calls still find a slot."""
    settings = make_settings(
        exchange_name, fallback_host=legacy_host, fallback_wait=20, prefetch_count=2
    )
    thread = ServerThread(settings, forwarder=LegacyForwarder(settings)).start()
    try:
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(migrate, oslo, 6)
            time.sleep(1)
            refused, refused_after = migrate(oslo, 6)
            native = oslo.client(namespace="baseapi", timeout=5).call(CTX, "ping", arg="x")
            result, _ = held.result(20)
    finally:
        thread.stop()
    assert isinstance(refused, oslo_messaging.RemoteError), refused
    assert "1 request(s) already wait for one" in refused.value
    assert refused_after < 1
    assert native == {"service": "conductor", "arg": "x"}
    assert "had no consumer for 3 s" in result.value
