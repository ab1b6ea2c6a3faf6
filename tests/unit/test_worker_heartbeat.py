"""The worker's heartbeat keeps beating whatever start-up or the database is doing."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from aioconductor import worker as worker_module
from aioconductor.config.settings import load_settings
from aioconductor.worker import Worker, WorkerHealth


class StalledDatabase:
    """A database whose pool hands out no connection: every ping waits (for 30 s in life)."""

    engine = SimpleNamespace(sync_engine=SimpleNamespace(pool=SimpleNamespace()))

    async def ping(self) -> bool:
        await asyncio.sleep(3600)
        return True

    async def close(self) -> None:
        pass


async def test_a_stalled_database_does_not_stop_the_heartbeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_module, "_TICK_SECONDS", 0.05)
    monkeypatch.setattr(worker_module, "_DB_CHECK_TIMEOUT", 0.3)
    beats: list[WorkerHealth] = []
    worker = Worker(load_settings([], env={}), health=beats.append)
    worker.db = StalledDatabase()  # type: ignore[assignment]
    worker._phase = "serving"
    ticker = asyncio.create_task(worker._tick_forever())
    await asyncio.sleep(0.6)
    ticker.cancel()
    assert len(beats) >= 8  # one every 50 ms, through the stalled ping
    assert beats[-1].db_ok is False
    assert "database not answering" in beats[-1].not_ready


async def test_a_worker_beats_while_start_up_waits_and_stop_ends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_module, "_TICK_SECONDS", 0.05)
    beats: list[WorkerHealth] = []
    worker = Worker(load_settings([], env={}), health=beats.append)

    async def waits_for_rabbitmq(*_: Any) -> None:
        await asyncio.sleep(3600)

    monkeypatch.setattr(worker, "startup", waits_for_rabbitmq)
    stop = asyncio.Event()
    run = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.3)
    assert len(beats) >= 4
    assert {b.not_ready for b in beats} == {("starting",)}
    stop.set()
    assert await asyncio.wait_for(run, 2) is True
