"""A database handle per cell, as nova's `target_cell` opens one per cell mapping.

A superconductor builds instances in whichever cell the scheduler's host lives in, and buries
the ones it cannot place in cell0. Cell mappings carry their own `database_connection`
(already filled from our `[database] connection` when stored as a template); the cell whose
URL is our own `[database] connection` reuses our pool, every other cell gets a pool of its
own on first use, sized as ours, and kept for the process's life as nova keeps its cell
cache.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aioconductor.config.settings import Settings, to_async_url
from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS
from aioconductor.objects.primitives import Primitive
from aioconductor.objects.registry import ClassCall, UrlDefaults

log = logging.getLogger(__name__)

CELL0_UUID = "00000000-0000-0000-0000-000000000000"


def cell_data(cell: Primitive) -> dict[str, Any]:
    data = cell.get("nova_object.data")
    if not isinstance(data, dict):
        raise ValueError("not a CellMapping primitive")
    return data


def cell_uuid(cell: Primitive) -> str:
    return str(cell_data(cell)["uuid"])


class CellDatabases:
    def __init__(self, settings: Settings, main: Database | None) -> None:
        self._settings = settings
        self._main = main
        self._main_url = settings.async_database_url()
        self._by_url: dict[str, Database] = {}
        self._every: list[tuple[str, Database]] | None = None
        self._lock = asyncio.Lock()

    @property
    def own(self) -> Database | None:
        """This conductor's own `[database]`: the cell whose computes call it."""
        return self._main

    def for_cell(self, cell: Primitive) -> Database:
        """The handle for `cell`'s database: ours, or a pool opened for it now."""
        url = to_async_url(
            str(cell_data(cell)["database_connection"]), self._settings.aio.db_driver
        )
        if url == self._main_url and self._main is not None:
            return self._main
        db = self._by_url.get(url)
        if db is None:
            db = Database.from_url(
                url,
                pool_size=self._settings.db_pool_size,
                pool_timeout=self._settings.aio.db_pool_timeout,
                work_timeout=float(self._settings.rpc_response_timeout),
            )
            self._by_url[url] = db
            log.info("opened a pool on the database of cell %s", cell_data(cell).get("name"))
        return db

    async def every_cell(
        self, ctx: RequestContext, api_db: Database, url_defaults: UrlDefaults
    ) -> list[Database]:
        """Every cell's database (cell0 included), in the mappings' order. Read once and
        kept, as nova's `load_cells` keeps its CELLS (a new cell needs a restart in nova too):
        the quota recheck and the compute version cap ask for it on every boot."""
        return [db for _, db in await self._cells(ctx, api_db, url_defaults)]

    async def every_cell_but_cell0(
        self, ctx: RequestContext, api_db: Database, url_defaults: UrlDefaults
    ) -> list[Database]:
        """nova's `scatter_gather_skip_cell0`'s cells: where instances can have a host."""
        cells = await self._cells(ctx, api_db, url_defaults)
        return [db for uuid, db in cells if uuid != CELL0_UUID]

    async def _cells(
        self, ctx: RequestContext, api_db: Database, url_defaults: UrlDefaults
    ) -> list[tuple[str, Database]]:
        if self._every is not None:
            return self._every
        from aioconductor.objects import cell_mapping

        call = ClassCall(
            ctx=ctx,
            db=api_db,
            objname="CellMappingList",
            versions=dict(NOVA_OBJECT_VERSIONS),
            url_defaults=url_defaults,
        )
        cells = await cell_mapping.get_all(call)
        every = [
            (cell_uuid(cell), self.for_cell(cell)) for cell in cells["nova_object.data"]["objects"]
        ]
        if every:  # nova reads again while there is none
            self._every = every
        return every

    @property
    def opened(self) -> list[Database]:
        """Every cell pool this process opened (ours not included)."""
        return list(self._by_url.values())

    async def close(self) -> None:
        async with self._lock:
            pools, self._by_url, self._every = list(self._by_url.values()), {}, None
        for db in pools:
            await db.close()
