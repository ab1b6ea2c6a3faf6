"""The conductor's own `services` row, kept as nova-conductor keeps it.

At start-up (waiting for the database as the worker's first check does): look up
(host, nova-conductor); create it (topic conductor, nova 34's service
version, a new uuid) or bump its version if it differs. Then every `report_interval` seconds
report_count += 1, which moves `last_seen_up`, so `openstack compute service list` shows the
conductor up. A failed heartbeat is logged and tried again next interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import update

from aioconductor import NOVA_SERVICE_VERSION
from aioconductor.config.settings import Settings
from aioconductor.context import RequestContext
from aioconductor.db.connection import AsyncConnection
from aioconductor.db.engine import Database
from aioconductor.db.schema import services
from aioconductor.db.startup import StartupRetries, with_startup_retries
from aioconductor.objects import _service_rows as rows
from aioconductor.objects.primitives import utcnow

log = logging.getLogger(__name__)

BINARY = "nova-conductor"
TOPIC = "conductor"
# nova's INITIAL_REPORTING_DELAY before the first heartbeat
_INITIAL_DELAY = 5.0


class ServiceRecord:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.host = settings.host
        self.interval = float(settings.report_interval)
        self.initial_delay = min(_INITIAL_DELAY, self.interval)
        self.retries = StartupRetries.from_settings(settings)
        self.service_id: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # the database may have gone since the worker's check: wait for it the same way
        row = await with_startup_retries(
            "services row", lambda: self.db.run(self._ensure_row), self.retries
        )
        self.service_id = row["id"]
        log.info("services row %s: host %s, binary %s", row["id"], self.host, BINARY)
        self._task = asyncio.create_task(self._heartbeat())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _ensure_row(self, conn: AsyncConnection) -> Mapping[str, Any]:
        row = await rows.by_host_and_binary(conn, RequestContext(is_admin=True), self.host, BINARY)
        if row is None:
            return await rows.create_service(
                conn,
                {
                    "host": self.host,
                    "binary": BINARY,
                    "topic": TOPIC,
                    "version": NOVA_SERVICE_VERSION,
                },
            )
        if row["version"] != NOVA_SERVICE_VERSION:
            return await rows.update_service(conn, row["id"], {"version": NOVA_SERVICE_VERSION})
        return row

    async def _heartbeat(self) -> None:
        await asyncio.sleep(self.initial_delay)
        while True:
            try:
                await self.db.run(self._report)
            except Exception as exc:  # the DB may be restarting: keep serving, try again
                log.warning(
                    "services heartbeat failed (retrying in %.0f s): %s", self.interval, exc
                )
            await asyncio.sleep(self.interval)

    async def _report(self, conn: AsyncConnection) -> Any:
        # report_count + 1 in SQL: several workers heart-beat the same row, as nova's do
        assert self.service_id is not None
        now = utcnow()
        await conn.execute(
            update(services)
            .where(services.c.id == self.service_id)
            .values(report_count=services.c.report_count + 1, last_seen_up=now, updated_at=now)
        )
