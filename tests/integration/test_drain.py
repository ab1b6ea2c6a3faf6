"""Graceful stop of one worker: in-flight calls are answered, unstarted ones go back."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest import OsloClients
from tests.integration.rpc_harness import ServerThread
from tests.integration.test_rpc_server import CTX, Probe, RawClient, make_settings

pytestmark = pytest.mark.connected


def wait_until(predicate: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_stop_answers_in_flight_calls_and_returns_unstarted_ones(exchange_name: str) -> None:
    probe = Probe()
    thread = ServerThread(make_settings(exchange_name, prefetch_count=2), [probe]).start()
    clients = OsloClients(exchange_name)
    stopped = False
    try:
        client = clients.client(namespace="aioc_probe", timeout=30)
        with ThreadPoolExecutor(2) as pool:
            calls = [pool.submit(client.call, CTX, "slow", seconds=2) for _ in range(2)]
            wait_until(lambda: probe.active == 2)
            # three more requests: two wait prefetched on our side, one stays in the broker
            for _ in range(3):
                clients.client(namespace="aioc_probe").cast(CTX, "record", value="later")
            time.sleep(0.5)
            assert thread.stop(drain_timeout=20) is True
            stopped = True
            assert [c.result(timeout=30) for c in calls] == [2, 2]
        assert probe.recorded == []  # never started here ...
        depth = asyncio.run(RawClient(exchange_name).queue_depth("conductor"))
        assert depth == 3  # ... and all three are back in the queue for another worker
    finally:
        clients.close()
        if not stopped:
            thread.stop()


def test_ack_after_reply_mode_serves_calls(exchange_name: str) -> None:
    probe = Probe()
    thread = ServerThread(make_settings(exchange_name, ack_mode="after_reply"), [probe]).start()
    clients = OsloClients(exchange_name)
    try:
        reply = clients.client(namespace="aioc_probe", timeout=10).call(CTX, "echo", x=1)
        assert reply["args"] == {"x": 1}
        assert asyncio.run(RawClient(exchange_name).queue_depth("conductor")) == 0
    finally:
        clients.close()
        thread.stop()
