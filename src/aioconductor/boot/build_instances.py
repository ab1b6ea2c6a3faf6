"""compute_task.build_instances: a compute's reschedule, as nova-conductor 34.0.0 runs it.

A compute whose build failed (and may be retried) clears the instance's host, sets it back
to scheduling, drops its allocation in placement and casts build_instances with the
alternates the scheduler gave for it. The conductor counts the attempt (`max_attempts`),
claims the first alternate whose resources placement still grants, saves the instance
(which tells it whether the user deleted it meanwhile) and casts `build_and_run_instance`
there with the remaining alternates. When no alternate is left or claimable, the instance
goes to ERROR with a fault. This runs in the instance's own cell: its compute calls its
own conductor (nova never targets this method at another cell).

Forwarded whole, before anything is written (boot/gate.py `why_reschedule_forwarded`):
the requests of old computes, Cyborg, and volumes with attachments (their attachment is
checked with Cinder). A failure may need one thing we do not build, a Neutron deallocation
(when the compute did not do it already); with a legacy conductor configured such a request
is then forwarded whole, which is safe because every failure is found before the first
write (a refused claim writes nothing). Without one, the failure is recorded as nova
records it and what was skipped is logged.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
from typing import TYPE_CHECKING, Any

from aioconductor.boot import steps
from aioconductor.boot.failures import recorded
from aioconductor.boot.legacy_filters import (
    MaxRetriesExceeded,
    data,
    fill_provider_mapping,
    limits_dict,
    populate_filter_properties,
    populate_retry,
)
from aioconductor.boot.legacy_spec import legacy_request_spec, spec_from_legacy
from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.errors import InstanceInfoCacheNotFound, InstanceNotFound
from aioconductor.objects import block_device, instance_save
from aioconductor.objects.primitives import ObjectPrimitive, Primitive

if TYPE_CHECKING:
    from aioconductor.boot.schedule_and_build import BootServices

log = logging.getLogger(__name__)

WHAT = "compute_task.build_instances"


class _Forward(Exception):
    """A failure whose cleanup needs what only the legacy conductor has."""


# where nova raises the "exhausted" failure itself: ComputeTaskManager.build_instances
_HERE = ("nova.conductor.manager", "build_instances")


class _Exhausted(MaxRetriesExceeded):
    """nova's MaxRetriesExceeded, made in build_instances itself."""

    @property
    def remote_class(self) -> str:
        return "MaxRetriesExceeded"


def _exhausted(uuid: str) -> MaxRetriesExceeded:
    return _Exhausted(
        reason=f"Exhausted all hosts available for retrying build failures for instance {uuid}."
    )


def volume_attachments(bdms: Primitive) -> bool:
    """Whether a mapping is a volume with an attachment (nova checks those with Cinder)."""
    return any(
        data(bdm).get("destination_type") == "volume" and data(bdm).get("attachment_id")
        for bdm in data(bdms).get("objects") or []
    )


async def read_block_device_mappings(
    services: BootServices, db: Database, ctx: RequestContext, uuid: str
) -> Primitive:
    call = steps.class_call(ctx, db, "BlockDeviceMappingList", services)
    return await block_device.get_by_instance_uuid(call, uuid)


async def build_instances(
    services: BootServices,
    db: Database,
    ctx: RequestContext,
    *,
    instances: list[Primitive],
    image: Any,
    filter_properties: dict[str, Any],
    admin_password: Any,
    injected_files: Any,
    requested_networks: Primitive | None,
    security_groups: Any,
    request_spec: Primitive,
    host_lists: list[list[Primitive]],
    block_device_mappings: dict[str, Primitive],
) -> None:
    """nova's ComputeTaskManager.build_instances for a reschedule (host_lists given).
    `block_device_mappings`: each instance's, read by the caller before anything was
    written (nova reads them after the zone's save; nothing in between changes them)."""
    reschedule = _Reschedule(services, db, ctx, request_spec, requested_networks)
    try:
        populate_retry(
            filter_properties, str(data(instances[0])["uuid"]), services.settings.boot.max_attempts
        )
        spec_obj = spec_from_legacy(reschedule.legacy, filter_properties)
        log.debug("Rescheduling: %s", True)
        if not host_lists[0]:
            raise _exhausted(str(data(instances[0])["uuid"]))
    except Exception as exc:
        # nova destroys the build request when this is the first attempt: never here (the
        # gate wants a retry, and populate_retry counted this attempt as a second one)
        raised_in = _HERE if isinstance(exc, _Exhausted) else None
        for instance in instances:
            await reschedule.fail(instance, exc, raised=True, raised_in=raised_in)
        return

    for instance, host_list in zip(instances, host_lists, strict=False):
        uuid = str(data(instance)["uuid"])
        host: Primitive | None = host_list.pop(0)
        available = False
        while host is not None and not available:
            chosen = data(host)
            raw_request = chosen.get("allocation_request")
            alloc_request = json.loads(raw_request) if raw_request else None
            if alloc_request:
                try:
                    available = await services.placement.claim_resources(
                        ctx,
                        uuid,
                        alloc_request,
                        project_id=data(spec_obj).get("project_id"),
                        user_id=data(spec_obj).get("user_id") or ctx.user_id,
                        allocation_request_version=str(chosen.get("allocation_request_version")),
                    )
                    if available:
                        # the claim moved the allocation: map the request groups anew
                        fill_provider_mapping(request_spec, chosen)
                except Exception as exc:
                    await reschedule.fail(instance, exc, raised=True)
                    return
            else:
                available = True  # a scheduler without placement: nothing to claim
            if not available:
                host = host_list.pop(0) if host_list else None
        if host is None or not available:
            await reschedule.fail(instance, _exhausted(uuid), raised=False)
            return
        chosen = data(host)

        obj = ObjectPrimitive.from_wire(instance)
        if "availability_zone" in chosen:
            zone = chosen["availability_zone"]
        else:
            try:
                zone = await steps.host_availability_zone(
                    services, ctx, str(chosen["service_host"])
                )
            except Exception as exc:
                await reschedule.fail(instance, exc, raised=True)
                continue
        obj.data["availability_zone"] = zone
        obj.changes.add("availability_zone")
        try:
            # saves the zone, refreshes the instance, and finds a delete that came meanwhile
            await instance_save.save(steps.instance_call(ctx, db, obj, services))
        except (InstanceNotFound, InstanceInfoCacheNotFound):
            log.debug("Instance deleted during build (instance %s)", uuid)
            continue
        saved = obj.to_wire()

        local_props = copy.deepcopy(filter_properties)
        populate_filter_properties(local_props, chosen)
        local_spec = spec_from_legacy(reschedule.legacy, local_props)
        data(local_spec)["requested_resources"] = data(request_spec).get("requested_resources")
        bdms = block_device_mappings[uuid]
        log.debug(
            "Selected host: %s; Selected node: %s; Alternates: %s (instance %s)",
            chosen.get("service_host"),
            chosen.get("nodename"),
            [(data(a).get("service_host"), data(a).get("nodename")) for a in host_list],
            uuid,
        )
        steps.read_port_profiles(requested_networks)
        await services.computes.build_and_run_instance_here(
            ctx,
            instance=saved,
            image=image,
            request_spec=local_spec,
            filter_properties=local_props,
            admin_password=admin_password,
            injected_files=injected_files,
            requested_networks=requested_networks,
            security_groups=security_groups,
            block_device_mapping=bdms,
            host=str(chosen["service_host"]),
            node=chosen.get("nodename"),
            limits=limits_dict(chosen["limits"]) if chosen.get("limits") else None,
            host_list=host_list,
            accel_uuids=[],
        )
        log.info("rescheduled build of %s cast to %s", uuid, chosen["service_host"])


class _Reschedule:
    """The request's state every failure needs (nova's `_cleanup_when_reschedule_fails`)."""

    def __init__(
        self,
        services: BootServices,
        db: Database,
        ctx: RequestContext,
        request_spec: Primitive,
        requested_networks: Primitive | None,
    ) -> None:
        self.services = services
        self.db = db
        self.ctx = ctx
        self.legacy = legacy_request_spec(request_spec)
        self.requested_networks = requested_networks

    def _no_allocation(self) -> bool:
        """NetworkRequestList.no_allocate: the one request is for no network at all."""
        networks = data(self.requested_networks).get("objects") or []
        return len(networks) == 1 and data(networks[0]).get("network_id") == "none"

    def _missing(self, instance: Primitive) -> list[str]:
        """What nova's cleanup would do here that we cannot."""
        missing = []
        system_metadata = data(instance).get("system_metadata") or {}
        if not self._no_allocation() and system_metadata.get("network_allocated") != "False":
            # the compute deallocates before it reschedules, and marks it so; only when
            # that failed is there anything left for the conductor's own call to Neutron
            missing.append("the Neutron deallocation")
        return missing

    async def fail(
        self,
        instance: Primitive,
        exc: BaseException,
        *,
        raised: bool,
        raised_in: tuple[str, str] | None = None,
    ) -> None:
        services, ctx, db = self.services, self.ctx, self.db
        uuid = str(data(instance)["uuid"])
        missing = self._missing(instance)
        if missing and services.settings.aio.fallback_host:
            log.info("reschedule of %s failed (%s): forwarding it for %s", uuid, exc, missing)
            raise not_native(f"{WHAT} failing, which needs {' and '.join(missing)}") from exc
        for what in missing:
            log.warning("%s: %s for %s is not done by aioconductor", WHAT, what, uuid)
        failure = recorded(exc, raised=raised)
        completed = await steps.set_error_with_fault(
            services, db, ctx, uuid, failure, exc, self.legacy, raised=raised, raised_in=raised_in
        )
        if not completed:
            return  # nova fails in its notification, before the networks' cleanup
        obj = ObjectPrimitive.from_wire(copy.deepcopy(instance))
        system_metadata = dict(obj.data.get("system_metadata") or {})
        if system_metadata.get("network_allocated") == "False":
            return  # nova's dict field sees no change: its save writes and notifies nothing
        system_metadata["network_allocated"] = "False"
        obj.data["system_metadata"] = system_metadata
        obj.changes.add("system_metadata")
        with contextlib.suppress(InstanceNotFound):  # deleted meanwhile: nothing to mark
            await instance_save.save(steps.instance_call(ctx, db, obj, services))
