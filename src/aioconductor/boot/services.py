"""The boot's outside world, put together for a worker: the scheduler over RPC, the computes
over each cell's transport (at the compute RPC version nova would pick), and placement.

Built only with an API database: without it there are no cell or host mappings, and the
boot is forwarded as before.
"""

from __future__ import annotations

import logging
from typing import Any

from aioconductor.boot import compute_client, scheduler_client
from aioconductor.boot.cells import CellDatabases
from aioconductor.boot.placement import (
    PlacementClient,
    PlacementNotConfigured,
    claim_resources,
)
from aioconductor.boot.rpc_client import RpcClient
from aioconductor.boot.schedule_and_build import BootServices
from aioconductor.boot.transports import CellTransports
from aioconductor.config.settings import Settings
from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.messaging.amqp.robust import RobustConnection
from aioconductor.notifications.notifier import Notifications
from aioconductor.objects.primitives import Primitive
from aioconductor.objects.registry import UrlDefaults

log = logging.getLogger(__name__)


class RpcScheduler:
    def __init__(self, client: RpcClient, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    async def select_destinations(
        self, ctx: RequestContext, spec: Primitive, instance_uuids: list[str]
    ) -> list[list[Primitive]]:
        return await scheduler_client.select_destinations(
            self._client,
            ctx,
            spec,
            instance_uuids,
            return_alternates=True,
            settings=self._settings,
        )


class RpcComputes:
    """build_and_run_instance on the cell's own transport, version-capped as nova caps it
    (`[upgrade_levels] compute`, `auto`: the oldest nova-compute of every cell)."""

    def __init__(
        self,
        transports: CellTransports,
        cells: CellDatabases,
        api_db: Database,
        settings: Settings,
        url_defaults: UrlDefaults,
    ) -> None:
        self._transports = transports
        self._cells = cells
        self._api_db = api_db
        self._settings = settings
        self._url_defaults = url_defaults

    async def build_and_run_instance(
        self, cell: Primitive, ctx: RequestContext, **kwargs: Any
    ) -> None:
        every_cell = await self._cells.every_cell(ctx, self._api_db, self._url_defaults)
        cap = await compute_client.compute_version_cap(self._settings, every_cell)
        client = await self._transports.client_for(cell)
        await compute_client.build_and_run_instance(client, ctx, version_cap=cap, **kwargs)

    async def build_and_run_instance_here(self, ctx: RequestContext, **kwargs: Any) -> None:
        """The cast of a reschedule: to a compute of this conductor's own cell, over its own
        transport (nova's build_instances is never cell-targeted)."""
        every_cell = await self._cells.every_cell(ctx, self._api_db, self._url_defaults)
        cap = await compute_client.compute_version_cap(self._settings, every_cell)
        client = self._transports.own_client()
        await compute_client.build_and_run_instance(client, ctx, version_cap=cap, **kwargs)


class NoPlacement:
    """`[placement]` says nothing: the boot is still built (placement is needed only when a
    server is deleted during its scheduling), and that one step fails as nova-conductor's
    does without placement, with the reason in the log."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    async def delete_allocation_for_instance(
        self, ctx: RequestContext, instance_uuid: str, *, force: bool
    ) -> bool:
        raise PlacementNotConfigured(
            f"cannot delete the allocation of {instance_uuid}: {self._reason}"
        )

    async def claim_resources(
        self, ctx: RequestContext, consumer_uuid: str, alloc_request: dict[str, Any], **kw: Any
    ) -> bool:
        raise PlacementNotConfigured(f"cannot claim for {consumer_uuid}: {self._reason}")


class OnDemandPlacement:
    """The placement client, built on its first use: only a server deleted during its
    scheduling needs placement, and building the client imports keystoneauth (about 12 MB
    and 0.4 s per worker), which start-up should not pay for a rare step."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: PlacementClient | NoPlacement | None = None

    def _built(self) -> PlacementClient | NoPlacement:
        if self._client is None:
            try:
                self._client = PlacementClient.from_options(self._settings.placement)
            except Exception as exc:  # keystoneauth refusing the options: said, not fatal
                log.error("[placement] cannot be used (%s): %s", type(exc).__name__, exc)
                self._client = NoPlacement(f"[placement] cannot be used: {exc}")
        return self._client

    async def delete_allocation_for_instance(
        self, ctx: RequestContext, instance_uuid: str, *, force: bool
    ) -> bool:
        return await self._built().delete_allocation_for_instance(ctx, instance_uuid, force=force)

    async def claim_resources(
        self,
        ctx: RequestContext,
        consumer_uuid: str,
        alloc_request: dict[str, Any],
        *,
        project_id: str | None,
        user_id: str | None,
        allocation_request_version: str,
    ) -> bool:
        client = self._built()
        if isinstance(client, NoPlacement):
            return await client.claim_resources(ctx, consumer_uuid, alloc_request)
        return await claim_resources(
            client,
            ctx,
            consumer_uuid,
            alloc_request,
            project_id=project_id,
            user_id=user_id,
            allocation_request_version=allocation_request_version,
        )


def _placement(settings: Settings) -> OnDemandPlacement | NoPlacement:
    if not settings.placement.auth_type:
        reason = "[placement] auth_type is not set: no way to reach placement"
        log.warning(
            "%s: a server deleted during its scheduling keeps its allocation in placement",
            reason,
        )
        return NoPlacement(reason)
    return OnDemandPlacement(settings)


def boot_services(
    settings: Settings,
    connection: RobustConnection,
    db: Database | None,
    api_db: Database,
    url_defaults: UrlDefaults,
    notifier: Notifications,
) -> tuple[BootServices, CellTransports, CellDatabases]:
    """The services, and what the worker closes at its stop (the transports, the pools)."""
    cells = CellDatabases(settings, db)
    transports = CellTransports(settings, connection)
    services = BootServices(
        settings=settings,
        api_db=api_db,
        cells=cells,
        scheduler=RpcScheduler(transports.own_client(), settings),
        computes=RpcComputes(transports, cells, api_db, settings, url_defaults),
        placement=_placement(settings),
        url_defaults=url_defaults,
        notifier=notifier,
    )
    return services, transports, cells
