"""The single database steps of a boot, each as nova's object method does it.

The orchestration (schedule_and_build.py, cell0.py) reads as nova's conductor reads; the
writes themselves live in the modules named here (instance creation, the API records, the
quota recheck), or are the natively served object methods the computes call (an action's
start, an instance's save and destroy, a fault), run here with the boot's own context.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import TYPE_CHECKING, Any

from aioconductor.boot import api_records, cell_records, failed_build, instance_create, quota
from aioconductor.boot import new_instance as new_instance_module
from aioconductor.boot.failures import RecordedFailure
from aioconductor.boot.legacy_filters import data
from aioconductor.boot.legacy_spec import spec_from_legacy
from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.errors import InstanceMappingNotFound, InstanceNotFound, ObjectActionError
from aioconductor.notifications import instance_update
from aioconductor.notifications.compute_task_error import notify_compute_task_error
from aioconductor.notifications.instance_delete import notifying_delete
from aioconductor.objects import (
    cell_lookups,
    instance_action,
    instance_destroy,
)
from aioconductor.objects import (
    instance as instance_objects,
)
from aioconductor.objects import primitives as p
from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS
from aioconductor.objects.primitives import ObjectPrimitive, Primitive
from aioconductor.objects.registry import ClassCall, InstanceCall

if TYPE_CHECKING:
    from aioconductor.boot.schedule_and_build import BootServices

log = logging.getLogger(__name__)

CREATE_ACTION = "create"


def class_call(
    ctx: RequestContext, db: Database, objname: str, services: BootServices
) -> ClassCall:
    return ClassCall(
        ctx=ctx,
        db=db,
        objname=objname,
        versions=dict(NOVA_OBJECT_VERSIONS),
        url_defaults=services.url_defaults,
    )


def instance_call(
    ctx: RequestContext, db: Database, obj: ObjectPrimitive, services: BootServices
) -> InstanceCall:
    return InstanceCall(
        ctx=ctx,
        db=db,
        objname=obj.name,
        versions={obj.name: obj.version},
        url_defaults=services.url_defaults,
        notifier=services.notifier,
        obj=obj,
    )


async def notify_building(
    services: BootServices, db: Database, ctx: RequestContext, instance: Primitive
) -> None:
    """compute.instance.update / instance.update from nothing to building, as the conductor.
    The notification reads the instance, never changes what is cast."""
    obj = ObjectPrimitive.from_wire(copy.deepcopy(instance))
    await instance_update.notify_building(instance_call(ctx, db, obj, services))


def new_instance(build_request: Primitive) -> Primitive:
    return new_instance_module.new_instance(build_request)


async def host_mapping(services: BootServices, ctx: RequestContext, host: str) -> Primitive:
    """HostMapping.get_by_host; HostMappingNotFound when the host is not mapped."""
    call = class_call(ctx, services.api, "HostMapping", services)
    return await cell_lookups.get_by_host(call, host)


async def instance_mapping(
    services: BootServices, ctx: RequestContext, uuid: str
) -> Primitive | None:
    return await api_records.get_instance_mapping(services.api, ctx, uuid, services.url_defaults)


async def build_request_exists(services: BootServices, ctx: RequestContext, uuid: str) -> bool:
    return await api_records.build_request_exists(services.api, ctx, uuid)


async def destroy_instance_mapping(services: BootServices, ctx: RequestContext, uuid: str) -> None:
    """An orphan mapping goes; none there is fine (nova ignores InstanceMappingNotFound)."""
    with contextlib.suppress(InstanceMappingNotFound):
        await api_records.destroy_instance_mapping(services.api, ctx, uuid)


async def host_availability_zone(
    services: BootServices, ctx: RequestContext, host: str
) -> str | None:
    return await api_records.host_availability_zone(
        services.api, ctx, host, services.settings.boot.default_availability_zone
    )


async def create_instance(
    services: BootServices, db: Database, ctx: RequestContext, instance: Primitive
) -> Primitive:
    return await instance_create.create_instance(
        db, ctx, instance, unique_name_scope=services.settings.boot.unique_server_name_scope
    )


async def recheck_quota(
    services: BootServices,
    ctx: RequestContext,
    flavor: Primitive,
    requested: int,
    *,
    project_id: str | None,
    user_id: str | None,
) -> None:
    every_cell = await services.cells.every_cell(ctx, services.api, services.url_defaults)
    await quota.recheck_instance_quota(
        services.api,
        every_cell,
        ctx,
        flavor,
        requested,
        project_id,
        user_id,
        services.settings,
    )


async def map_instance_to_cell(
    services: BootServices, ctx: RequestContext, uuid: str, cell: Primitive
) -> None:
    await api_records.map_instance_to_cell(services.api, ctx, uuid, cell)


async def create_block_device_mappings(
    db: Database, ctx: RequestContext, flavor: Primitive, uuid: str, bdms: Primitive
) -> Primitive:
    return await cell_records.create_block_device_mappings(db, ctx, flavor, uuid, bdms)


async def create_tags(
    db: Database, ctx: RequestContext, uuid: str, tags: Primitive | None
) -> Primitive | None:
    return await cell_records.create_tags(db, ctx, uuid, tags)


def no_tags() -> Primitive:
    """An empty TagList, what nova sets on the instance it casts when there are no tags."""
    return p.make_list("TagList", NOVA_OBJECT_VERSIONS["TagList"], [])


async def action_start(
    services: BootServices, db: Database, ctx: RequestContext, uuid: str
) -> None:
    call = class_call(ctx, db, "InstanceAction", services)
    await instance_action.action_start(call, uuid, CREATE_ACTION, want_result=False)


async def failed_event(
    services: BootServices,
    db: Database,
    ctx: RequestContext,
    uuid: str,
    event: str,
    host: str,
    failure: RecordedFailure,
) -> None:
    """An action event started and finished with the failure (conductor's cell0 record)."""
    start = class_call(ctx, db, "InstanceActionEvent", services)
    await instance_action.event_start(start, uuid, event, want_result=False, host=host)
    finish = class_call(ctx, db, "InstanceActionEvent", services)
    await instance_action.event_finish_with_failure(
        finish,
        uuid,
        event,
        exc_val=failure.message,
        exc_tb=failure.traceback,
        want_result=False,
    )


async def set_error_with_fault(
    services: BootServices,
    db: Database,
    ctx: RequestContext,
    uuid: str,
    failure: RecordedFailure,
    exc: BaseException,
    legacy_spec: dict[str, Any] | None,
    *,
    raised: bool = True,
    raised_in: tuple[str, str] | None = None,
) -> bool:
    """scheduler_utils.set_vm_state_and_notify for a build: ERROR, no task, a fault, then
    the failure's two notifications (`legacy_spec`: the request spec as nova's legacy dict,
    None for none; `raised_in`: where nova raises `exc`, when not where nova usually meets
    it). False when nova would fail here: an exception it made without raising it (a
    reschedule's alternates all refused) has no traceback, and the versioned message's
    ExceptionPayload.from_exception then raises AttributeError in nova, after the legacy
    message and before anything the caller does next."""
    log.warning("Failed to compute_task_build_instances: %s", exc)
    log.warning("Setting instance %s to ERROR state.", uuid)
    await failed_build.set_vm_state_error(db, ctx, uuid, notifier=services.notifier)
    await failed_build.add_instance_fault(
        db,
        uuid,
        code=failure.code,
        message=failure.message,
        details=failure.details,
        host=services.settings.host,
    )
    if not services.notifying:
        return True
    versioned = raised or not services.notifier.versioned
    spec = spec_from_legacy(legacy_spec, {}) if legacy_spec is not None else None
    await notify_compute_task_error(
        services.notifier,
        ctx,
        uuid,
        "build_instances",
        legacy_spec,
        spec,
        "error",
        exc,
        raised_in=raised_in,
        versioned=versioned,
    )
    if not versioned:
        log.error(
            "compute_task.build_instances.error for %s: nova cannot build it for an exception "
            "it never raised (AttributeError in ExceptionPayload.from_exception) and stops "
            "there; so does aioconductor, without the message",
            uuid,
        )
    return versioned


async def destroy_instance(
    services: BootServices,
    db: Database,
    ctx: RequestContext,
    instance: Primitive,
    *,
    notify_delete: bool = False,
) -> None:
    """Instance.destroy of an instance we created; gone already is fine. `notify_delete`:
    inside instance.delete.start/end, as the conductor destroys the instance of a server
    the user deleted during its build (nova refreshes and destroys again after "host
    changed")."""
    call = instance_call(ctx, db, ObjectPrimitive.from_wire(instance), services)
    async with contextlib.AsyncExitStack() as stack:
        if notify_delete:
            await stack.enter_async_context(notifying_delete(call))
        try:
            await instance_destroy.destroy(call)
        except InstanceNotFound:
            pass
        except ObjectActionError as exc:  # the host changed meanwhile: read it, then again
            log.info("destroying %s again after %s", data(instance).get("uuid"), exc)
            with contextlib.suppress(InstanceNotFound):
                await instance_objects.refresh(call)
                await instance_destroy.destroy(call)


async def destroy_build_request(services: BootServices, ctx: RequestContext, uuid: str) -> bool:
    """BuildRequest.destroy; False when it was gone already (BuildRequestNotFound)."""
    return await api_records.destroy_build_request(services.api, ctx, uuid)


async def destroy_request_spec(services: BootServices, ctx: RequestContext, uuid: str) -> bool:
    """RequestSpec.destroy; False when it was gone already (RequestSpecNotFound)."""
    return await api_records.destroy_request_spec(services.api, ctx, uuid)


async def delete_build_request(
    services: BootServices,
    db: Database,
    ctx: RequestContext,
    uuid: str,
    instance: Primitive,
    bdms: Primitive,
    tags: Primitive | None,
) -> bool:
    """conductor's _delete_build_request: True when the build goes on. False when the user
    deleted the server meanwhile; then the instance, its BDMs and tags go again."""
    if await destroy_build_request(services, ctx, uuid):
        return True
    log.debug("build request of %s deleted during scheduling: removing the instance", uuid)
    await destroy_instance(services, db, ctx, instance, notify_delete=True)
    await cell_records.destroy_block_device_mappings(db, ctx, bdms)
    if tags and data(tags).get("objects"):
        # after the destroy the instance is gone: nova's InstanceNotFound, ignored, tags stay
        with contextlib.suppress(InstanceNotFound):
            await cell_records.destroy_tags(db, ctx, uuid)
    return False


def read_port_profiles(requested_networks: Any) -> None:
    """What nova's `_create_arqs_for_ports` leaves on the requested networks it reads (no
    Cyborg call: a port with a device profile is forwarded by the gate): each request's
    `port_id`, and for a port its `device_profile`, lazy-loaded as None when unset
    (NetworkRequest.obj_load_attr), so they go out set and changed in the cast."""
    for network in data(requested_networks).get("objects") or []:
        fields = data(network)
        for name in ("port_id", "device_profile"):
            if name not in fields:
                fields[name] = None
                changes = network.setdefault("nova_object.changes", [])
                if name not in changes:
                    changes.append(name)
            if name == "port_id" and not fields["port_id"]:
                break  # `port_id and device_profile`: the profile is not read
