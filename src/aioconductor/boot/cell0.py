"""Burial in cell0: what nova does with instances it cannot place (`_bury_in_cell0`).

An instance the scheduler found no host for (or whose host is not mapped to a cell) is
created in cell0 in ERROR, with a fault, a `create` action whose conductor event failed,
its BDMs and tags, and its instance mapping pointing at cell0; the build request goes. The
API then lists it in ERROR with the fault's message ("No valid host was found. ...").
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aioconductor.boot import steps
from aioconductor.boot.cells import CELL0_UUID
from aioconductor.boot.failures import recorded
from aioconductor.boot.legacy_filters import data
from aioconductor.boot.legacy_spec import legacy_request_spec
from aioconductor.context import RequestContext
from aioconductor.errors import CellMappingNotFound
from aioconductor.objects import cell_mapping
from aioconductor.objects.primitives import Primitive

if TYPE_CHECKING:
    from aioconductor.boot.schedule_and_build import BootServices

log = logging.getLogger(__name__)

EVENT = "conductor_schedule_and_build_instances"


class Burial:
    def __init__(
        self,
        services: BootServices,
        ctx: RequestContext,
        request_spec: Primitive,
        block_device_mapping: Primitive | None,
        tags: Primitive | None,
    ) -> None:
        self._services = services
        self._ctx = ctx
        self._spec = request_spec
        self._bdms = block_device_mapping
        self._tags = tags

    async def _cell0(self) -> Primitive | None:
        call = steps.class_call(self._ctx, self._services.api, "CellMapping", self._services)
        try:
            return await cell_mapping.get_by_uuid(call, CELL0_UUID)
        except CellMappingNotFound:
            log.error(
                "No cell mapping found for cell0 while trying to record scheduling failure. "
                "Setup is incomplete."
            )
            return None

    async def bury(
        self,
        exc: BaseException,
        *,
        build_requests: list[Primitive],
        instances: list[Primitive] | None = None,
        request_spec: Primitive | None = None,
    ) -> None:
        """`request_spec`: the one the failure notifications carry, when not the boot's
        first (nova buries an instance whose host has no cell with its own spec)."""
        services, ctx = self._services, self._ctx
        cell0 = await self._cell0()
        if cell0 is None:
            return
        db = services.cells.for_cell(cell0)
        failure = recorded(exc)
        by_uuid = {str(data(i)["uuid"]): i for i in instances or []}
        for build_request in build_requests:
            uuid = str(data(build_request).get("instance_uuid"))
            if uuid not in by_uuid:
                by_uuid[uuid] = steps.new_instance(build_request)
        created: dict[str, Primitive] = {}
        for uuid, instance in by_uuid.items():
            mapping = await steps.instance_mapping(services, ctx, uuid)
            if mapping is None:
                log.error(
                    "While burying instance %s in cell0, no instance mapping was found.", uuid
                )
            elif data(mapping).get("cell_mapping") is not None:
                log.error(
                    "When attempting to bury instance %s in cell0, the instance is already "
                    "mapped to cell %s. Ignoring bury in cell0 attempt.",
                    uuid,
                    data(data(mapping)["cell_mapping"]).get("uuid"),
                )
                continue
            created[uuid] = made = await steps.create_instance(services, db, ctx, instance)
            if mapping is not None:
                await steps.map_instance_to_cell(services, ctx, uuid, cell0)
            await steps.action_start(services, db, ctx, uuid)
            await steps.failed_event(
                services, db, ctx, uuid, EVENT, services.settings.host, failure
            )
            if self._bdms is not None and data(self._bdms).get("objects"):
                await steps.create_block_device_mappings(
                    db, ctx, data(made)["flavor"], uuid, self._bdms
                )
            await steps.create_tags(db, ctx, uuid, self._tags)
            await steps.set_error_with_fault(
                services,
                db,
                ctx,
                uuid,
                failure,
                exc,
                legacy_request_spec(request_spec or self._spec),
            )
        for build_request in build_requests:
            uuid = str(data(build_request).get("instance_uuid"))
            if not await steps.destroy_build_request(services, ctx, uuid):
                # deleted by the user before we finished: the cell0 instance goes too
                made = created.get(uuid) or by_uuid[uuid]
                await steps.destroy_instance(services, db, ctx, made)
