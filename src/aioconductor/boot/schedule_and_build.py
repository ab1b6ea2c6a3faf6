"""compute_task.schedule_and_build_instances, step by step as nova-conductor 34.0.0 does it.

nova-api casts one request per boot (N build requests and request specs for a multi-create);
the conductor asks nova-scheduler for hosts (which claims the resources in placement), finds
each host's cell, creates the instance there with its related rows, maps it, deletes the
build request and casts `build_and_run_instance` to the chosen compute with the alternates it
may reschedule to. Whatever cannot be placed is buried in cell0 with a fault and a failed
`create` action, so the API shows it in ERROR. The order of the steps and their failure
handling is nova's (nova/conductor/manager.py): the API reads these rows while we write them
(a delete during the build races with us, and nova's order is what makes that race safe).

It is a cast: nobody waits for a reply. A failure nova lets escape (the quota recheck) is
logged, as oslo's server logs it.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aioconductor.boot import cell0, server_groups, steps
from aioconductor.boot.cells import CellDatabases, cell_uuid
from aioconductor.boot.failures import recorded
from aioconductor.boot.legacy_filters import (
    data,
    fill_provider_mapping,
    legacy_filter_properties,
    limits_dict,
    populate_filter_properties,
    populate_retry,
)
from aioconductor.boot.legacy_spec import legacy_request_spec
from aioconductor.config.settings import Settings
from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.errors import HostMappingNotFound
from aioconductor.notifications.notifier import NO_NOTIFICATIONS, Notifications
from aioconductor.objects.primitives import Primitive
from aioconductor.objects.registry import UrlDefaults

log = logging.getLogger(__name__)


class NoApiDatabase(Exception):
    """A step needs the API database and this conductor has none (a cell conductor)."""


class Scheduler(Protocol):
    async def select_destinations(
        self, ctx: RequestContext, spec: Primitive, instance_uuids: list[str]
    ) -> list[list[Primitive]]: ...


class Computes(Protocol):
    async def build_and_run_instance(
        self, cell: Primitive, ctx: RequestContext, **kwargs: Any
    ) -> None: ...

    async def build_and_run_instance_here(self, ctx: RequestContext, **kwargs: Any) -> None: ...


class Placement(Protocol):
    async def delete_allocation_for_instance(
        self, ctx: RequestContext, instance_uuid: str, *, force: bool
    ) -> bool: ...

    async def claim_resources(
        self,
        ctx: RequestContext,
        consumer_uuid: str,
        alloc_request: dict[str, Any],
        *,
        project_id: str | None,
        user_id: str | None,
        allocation_request_version: str,
    ) -> bool: ...


@dataclass(slots=True)
class BootServices:
    """What a boot needs besides its request: databases, scheduler, computes, placement."""

    settings: Settings
    api_db: Database | None  # None: a cell conductor, which serves only reschedules
    cells: CellDatabases
    scheduler: Scheduler
    computes: Computes
    placement: Placement
    url_defaults: UrlDefaults = field(default_factory=UrlDefaults)
    notifier: Notifications = NO_NOTIFICATIONS

    @property
    def api(self) -> Database:
        """The API database, which every step of a boot needs."""
        if self.api_db is None:
            raise NoApiDatabase("[api_database] connection is not set")
        return self.api_db

    @property
    def notifying(self) -> bool:
        return self.notifier.legacy or self.notifier.versioned


@dataclass(slots=True)
class _Planned:
    """One instance on its way: what nova keeps in its parallel lists."""

    build_request: Primitive
    spec: Primitive
    hosts: list[Primitive]
    instance: Primitive | None = None  # None: buried in cell0, or its build request is gone
    cell: Primitive | None = None


async def schedule_and_build_instances(
    services: BootServices,
    ctx: RequestContext,
    build_requests: list[Primitive],
    request_specs: list[Primitive],
    image: Any,
    admin_password: Any,
    injected_files: Any,
    requested_networks: Any,
    block_device_mapping: Primitive,
    tags: Primitive | None = None,
) -> None:
    uuids = [str(data(spec).get("instance_uuid")) for spec in request_specs]
    burial = cell0.Burial(services, ctx, request_specs[0], block_device_mapping, tags)
    try:
        await server_groups.setup_instance_group(services, ctx, request_specs[0])
        host_lists = await services.scheduler.select_destinations(ctx, request_specs[0], uuids)
    except Exception as exc:
        log.exception("Failed to schedule instances %s", ", ".join(uuids))
        await burial.bury(exc, build_requests=build_requests)
        return

    plans = [
        _Planned(build_request, spec, list(hosts))
        for build_request, spec, hosts in zip(
            build_requests, request_specs, host_lists, strict=False
        )
    ]
    host_mappings: dict[str, Primitive] = {}
    zones: dict[str, str | None] = {}
    instance: Primitive | None = None
    for plan in plans:
        instance = steps.new_instance(plan.build_request)
        selected = data(plan.hosts[0])
        host = str(selected["service_host"])
        mapping = host_mappings.get(host)
        if mapping is None:
            try:
                mapping = await steps.host_mapping(services, ctx, host)
            except HostMappingNotFound as exc:
                log.error(
                    "No host-to-cell mapping found for selected host %s. Setup is incomplete.",
                    host,
                )
                await burial.bury(
                    exc,
                    build_requests=[plan.build_request],
                    instances=[instance],
                    request_spec=plan.spec,
                )
                continue
            host_mappings[host] = mapping
        cell = data(mapping)["cell_mapping"]
        uuid = str(data(instance)["uuid"])
        # the user may have deleted the server while the scheduler was choosing
        if not await steps.build_request_exists(services, ctx, uuid):
            log.debug("While scheduling instance %s, the build request was already deleted.", uuid)
            await steps.destroy_instance_mapping(services, ctx, uuid)
            await services.placement.delete_allocation_for_instance(ctx, uuid, force=True)
            continue
        if host not in zones:
            zones[host] = await steps.host_availability_zone(services, ctx, host)
        data(instance)["availability_zone"] = zones[host]
        instance.setdefault("nova_object.changes", [])
        if "availability_zone" not in instance["nova_object.changes"]:
            instance["nova_object.changes"].append("availability_zone")
        plan.instance = await steps.create_instance(
            services, services.cells.for_cell(cell), ctx, instance
        )
        plan.cell = cell

    created = [plan for plan in plans if plan.instance is not None]
    if instance is not None:
        # nova rechecks with the loop's last instance, created or not
        last = data(instance)
        try:
            await steps.recheck_quota(
                services,
                ctx,
                last["flavor"],
                len(build_requests),
                project_id=last.get("project_id"),
                user_id=last.get("user_id"),
            )
        except Exception as exc:
            await _cleanup_build_artifacts(services, ctx, exc, created, block_device_mapping, tags)
            raise

    for plan in created:
        await _build(
            services,
            ctx,
            plan,
            created,
            image=image,
            admin_password=admin_password,
            injected_files=injected_files,
            requested_networks=requested_networks,
            block_device_mapping=block_device_mapping,
            tags=tags,
        )


async def _build(
    services: BootServices,
    ctx: RequestContext,
    plan: _Planned,
    created: Sequence[_Planned],
    *,
    image: Any,
    admin_password: Any,
    injected_files: Any,
    requested_networks: Any,
    block_device_mapping: Primitive,
    tags: Primitive | None,
) -> None:
    """The second loop of nova's schedule_and_build_instances, for one created instance."""
    assert plan.instance is not None
    assert plan.cell is not None
    instance, cell = plan.instance, plan.cell
    uuid = str(data(instance)["uuid"])
    cell_db = services.cells.for_cell(cell)
    selected, alternates = plan.hosts[0], plan.hosts[1:]
    chosen = data(selected)
    log.debug(
        "Selected host: %s; Selected node: %s; Alternates: %s",
        chosen.get("service_host"),
        chosen.get("nodename"),
        [(data(a).get("service_host"), data(a).get("nodename")) for a in alternates],
    )
    await server_groups.load_hosts(services, ctx, plan.spec)
    props = legacy_filter_properties(data(plan.spec))
    populate_retry(props, uuid, services.settings.boot.max_attempts)
    populate_filter_properties(props, chosen)
    try:
        fill_provider_mapping(plan.spec, chosen)
    except Exception as exc:
        await _cleanup_build_artifacts(services, ctx, exc, created, block_device_mapping, tags)
        raise

    # from nothing to building, as the conductor (before the action, BDMs and tags exist)
    await steps.notify_building(services, cell_db, ctx, instance)
    await steps.action_start(services, cell_db, ctx, uuid)
    bdms = await steps.create_block_device_mappings(
        cell_db, ctx, data(instance)["flavor"], uuid, copy.deepcopy(block_device_mapping)
    )
    instance_tags = await steps.create_tags(cell_db, ctx, uuid, tags)
    # nova sets the tags on the instance it casts, so the compute need not lazy-load them
    data(instance)["tags"] = instance_tags if _has_objects(instance_tags) else steps.no_tags()
    changes = instance.setdefault("nova_object.changes", [])
    if "tags" not in changes:
        changes.append("tags")

    await steps.map_instance_to_cell(services, ctx, uuid, cell)
    if not await steps.delete_build_request(services, cell_db, ctx, uuid, instance, bdms, tags):
        return  # deleted by the user meanwhile: the instance is gone again

    steps.read_port_profiles(requested_networks)
    security_groups = [
        _identifier(group)
        for group in data(data(plan.spec).get("security_groups")).get("objects", [])
    ]
    await services.computes.build_and_run_instance(
        cell,
        ctx,
        instance=instance,
        image=image,
        request_spec=plan.spec,
        filter_properties=props,
        admin_password=admin_password,
        injected_files=injected_files,
        requested_networks=requested_networks,
        security_groups=security_groups,
        block_device_mapping=bdms,
        host=str(chosen["service_host"]),
        node=chosen.get("nodename"),
        limits=limits_dict(chosen["limits"]) if chosen.get("limits") else None,
        host_list=alternates,
        accel_uuids=[],
    )
    log.info("build of %s cast to %s in cell %s", uuid, chosen["service_host"], cell_uuid(cell))


def _identifier(group: Primitive) -> Any:
    """SecurityGroup.identifier: its uuid when it has one, else its name."""
    fields = data(group)
    return fields["uuid"] if "uuid" in fields else fields.get("name")


def _has_objects(tag_list: Primitive | None) -> bool:
    return bool(tag_list and data(tag_list).get("objects"))


async def _cleanup_build_artifacts(
    services: BootServices,
    ctx: RequestContext,
    exc: BaseException,
    created: Sequence[_Planned],
    block_device_mapping: Primitive,
    tags: Primitive | None,
) -> None:
    """nova's _cleanup_build_artifacts: every created instance to ERROR with a fault, its
    BDMs and tags kept in its cell so a delete can clean volumes and the API shows tags,
    mapped to its cell, its build request and request spec gone."""
    failure = recorded(exc)
    for plan in created:
        assert plan.instance is not None
        assert plan.cell is not None
        uuid = str(data(plan.instance)["uuid"])
        cell_db = services.cells.for_cell(plan.cell)
        await steps.set_error_with_fault(
            services, cell_db, ctx, uuid, failure, exc, legacy_request_spec(plan.spec)
        )
        if block_device_mapping and data(block_device_mapping).get("objects"):
            await steps.create_block_device_mappings(
                cell_db,
                ctx,
                data(plan.instance)["flavor"],
                uuid,
                copy.deepcopy(block_device_mapping),
            )
        if _has_objects(tags):
            await steps.create_tags(cell_db, ctx, uuid, tags)
        # the instance is complete in its cell: map it, then the build request and the
        # request spec go (either may be gone already), so the API shows it in ERROR
        await steps.map_instance_to_cell(services, ctx, uuid, plan.cell)
        await steps.destroy_build_request(services, ctx, uuid)
        await steps.destroy_request_spec(services, ctx, uuid)
