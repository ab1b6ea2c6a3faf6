"""nova-conductor's RPC endpoints: ConductorAPI 3.0, baseapi 1.1 and compute_task 1.26.

The object endpoints look the object class up exactly as nova's registry does (so errors
match), then run the native handler, or raise NotNative for the server to forward.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aioconductor.boot.gate import why_forwarded, why_reschedule_forwarded
from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.db.failures import reported_as_oslo_db
from aioconductor.errors import (
    IncompatibleObjectVersion,
    NotNative,
    RemoteFailure,
    UnsupportedObjectError,
)
from aioconductor.messaging.dispatcher import EndpointTarget, rpc_method
from aioconductor.messaging.versions import parse_version
from aioconductor.notifications.notifier import NO_NOTIFICATIONS, Notifications
from aioconductor.objects import registry
from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS
from aioconductor.objects.primitives import ObjectPrimitive

CONDUCTOR_API_VERSION = "3.0"
BASE_API_VERSION = "1.1"
COMPUTE_TASK_API_VERSION = "1.26"

if TYPE_CHECKING:
    from aioconductor.boot.schedule_and_build import BootServices


class NotServed(RemoteFailure):
    """What a caller gets for a request we do not serve when no fallback is configured."""

    remote_module = "aioconductor.errors"


def not_native(what: str) -> NotNative:
    reason = (
        f"{what} is not served natively by aioconductor and no legacy conductor is "
        "configured ([aioconductor] fallback_host)"
    )
    return NotNative(reason, NotServed(reason))


def check_object_version(objname: str, requested: str) -> str:
    """oslo's obj_class_from_name: our version of `objname` if it can serve `requested`."""
    ours = NOVA_OBJECT_VERSIONS.get(objname)
    if ours is None:
        raise UnsupportedObjectError(objtype=objname)
    if requested == ours:
        return ours
    try:
        want, have = parse_version(requested), parse_version(ours)
    except ValueError:
        raise IncompatibleObjectVersion(objname=objname, objver=requested, supported=ours) from None
    if want[0] == have[0] and want[1] <= have[1]:
        return ours
    raise IncompatibleObjectVersion(objname=objname, objver=requested, supported=ours)


class BaseApiEndpoint:
    target = EndpointTarget(namespace="baseapi", version=BASE_API_VERSION)

    @rpc_method
    async def ping(self, ctx: RequestContext, arg: Any) -> dict[str, Any]:
        return {"service": "conductor", "arg": arg}

    @rpc_method
    async def get_backdoor_port(self, ctx: RequestContext) -> None:
        return None  # there is no eventlet backdoor here


class ConductorEndpoint:
    target = EndpointTarget(namespace=None, version=CONDUCTOR_API_VERSION)

    def __init__(
        self,
        db: Database | None,
        forwarded: frozenset[tuple[str, str]] = frozenset(),
        *,
        api_db: Database | None = None,
        url_defaults: registry.UrlDefaults | None = None,
        notifier: Notifications = NO_NOTIFICATIONS,
    ) -> None:
        self._db = db
        self._forwarded = forwarded
        self._api_db = api_db
        self._url_defaults = url_defaults or registry.UrlDefaults()
        self._notifier = notifier

    def _database(self, what: str) -> Database:
        if self._db is None:
            raise not_native(f"{what} (no [database] connection)")
        return self._db

    def _database_for(self, objname: str, objmethod: str) -> Database:
        what = f"{objname}.{objmethod}"
        if not registry.uses_api_database(objname, objmethod):
            return self._database(what)
        if self._api_db is None:
            raise not_native(f"{what} (no [api_database] connection)")
        return self._api_db

    @rpc_method
    async def object_class_action_versions(
        self,
        ctx: RequestContext,
        objname: str,
        objmethod: str,
        object_versions: dict[str, str],
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> Any:
        if not isinstance(object_versions, dict):
            raise TypeError("object_versions must be a dict")
        check_object_version(objname, object_versions[objname])
        handler = registry.class_handler(objname, objmethod)
        if handler is None or (objname, objmethod) in self._forwarded:
            raise not_native(f"{objname}.{objmethod}")
        call = registry.ClassCall(
            ctx=ctx,
            db=self._database_for(objname, objmethod),
            objname=objname,
            versions=object_versions,
            url_defaults=self._url_defaults,
            notifier=self._notifier,
        )
        with reported_as_oslo_db():
            return await handler(call, *_positional(args), **_keywords(kwargs))

    @rpc_method
    async def object_action(
        self,
        ctx: RequestContext,
        objinst: dict[str, Any],
        objmethod: str,
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> list[Any]:
        obj = ObjectPrimitive.from_wire(objinst)
        check_object_version(obj.name, obj.version)
        handler = registry.instance_handler(obj.name, objmethod)
        if handler is None or (obj.name, objmethod) in self._forwarded:
            raise not_native(f"{obj.name}.{objmethod}")
        call = registry.InstanceCall(
            ctx=ctx,
            db=self._database(f"{obj.name}.{objmethod}"),
            objname=obj.name,
            versions={obj.name: obj.version},
            notifier=self._notifier,
            obj=obj,
        )
        with reported_as_oslo_db():
            result = await handler(call, *_positional(args), **_keywords(kwargs))
        updates = dict(call.updates)
        updates["obj_what_changed"] = sorted(call.obj.changes)
        return [updates, result]

    @rpc_method
    async def object_backport_versions(
        self, ctx: RequestContext, objinst: dict[str, Any], object_versions: dict[str, str]
    ) -> dict[str, Any]:
        obj = ObjectPrimitive.from_wire(objinst)
        check_object_version(obj.name, obj.version)
        target = object_versions[obj.name]
        if target == obj.version:
            return obj.to_wire()
        raise not_native(f"backport of {obj.name} {obj.version} to {target}")

    @rpc_method
    async def provider_fw_rule_get_all(self, ctx: RequestContext) -> list[Any]:
        return []  # legacy stub nova-conductor still answers


def _positional(args: Any) -> list[Any]:
    if args is None:
        return []
    if not isinstance(args, list):
        raise TypeError(f"args must be a list, not {type(args).__name__}")
    return args


def _keywords(kwargs: Any) -> dict[str, Any]:
    if kwargs is None:
        return {}
    if not isinstance(kwargs, dict):
        raise TypeError(f"kwargs must be a dict, not {type(kwargs).__name__}")
    return kwargs


def _orchestration(method: str) -> Any:
    @rpc_method
    async def handler(self: ComputeTaskEndpoint, ctx: RequestContext, **_: Any) -> Any:
        raise not_native(f"compute_task.{method}")

    handler.__name__ = method
    return handler


class ComputeTaskEndpoint:
    """compute_task 1.26: the boot (`schedule_and_build_instances`) and a compute's
    reschedule (`build_instances`) are served natively when the API database and the boot's
    services are configured and the request is one we build (boot/gate.py); every other
    method, and every other boot, is forwarded whole or refused with a clear failure."""

    target = EndpointTarget(namespace="compute_task", version=COMPUTE_TASK_API_VERSION)

    def __init__(self, boot: BootServices | None = None) -> None:
        self.boot = boot  # set once the worker's connection is up

    @rpc_method
    async def schedule_and_build_instances(
        self,
        ctx: RequestContext,
        build_requests: Any,
        request_specs: Any,
        image: Any,
        admin_password: Any,
        injected_files: Any,
        requested_networks: Any,
        block_device_mapping: Any,
        tags: Any = None,
    ) -> None:
        what = "compute_task.schedule_and_build_instances"
        if self.boot is None or self.boot.api_db is None:
            raise not_native(f"{what} (no [api_database] connection)")
        reason = why_forwarded(build_requests, request_specs, requested_networks)
        if reason is not None:
            raise not_native(f"{what} with {reason}")
        # here, not at the top: the boot's steps use object handlers that import this module
        from aioconductor.boot.schedule_and_build import schedule_and_build_instances

        await schedule_and_build_instances(
            self.boot,
            ctx,
            build_requests,
            request_specs,
            image,
            admin_password,
            injected_files,
            requested_networks,
            block_device_mapping,
            tags,
        )

    @rpc_method
    async def build_instances(
        self,
        ctx: RequestContext,
        instances: Any,
        image: Any,
        filter_properties: Any,
        admin_password: Any,
        injected_files: Any,
        requested_networks: Any,
        security_groups: Any,
        block_device_mapping: Any = None,
        legacy_bdm: Any = True,
        request_spec: Any = None,
        host_lists: Any = None,
    ) -> None:
        """A compute's reschedule (boot/build_instances.py)."""
        what = "compute_task.build_instances"
        db = self.boot.cells.own if self.boot is not None else None
        if self.boot is None or db is None:
            raise not_native(f"{what} (no [database] connection)")
        reason = why_reschedule_forwarded(
            instances, filter_properties, requested_networks, request_spec, host_lists
        )
        if reason is not None:
            raise not_native(f"{what} with {reason}")
        from aioconductor.boot import build_instances as reschedule

        # read once, before any write: the gate needs them and so does the cast
        bdms_by_uuid = {}
        for instance in instances:
            uuid = str(instance["nova_object.data"].get("uuid"))
            bdms = await reschedule.read_block_device_mappings(self.boot, db, ctx, uuid)
            if reschedule.volume_attachments(bdms):
                raise not_native(f"{what} with a volume attachment (checked with Cinder)")
            bdms_by_uuid[uuid] = bdms
        await reschedule.build_instances(
            self.boot,
            db,
            ctx,
            instances=instances,
            image=image,
            filter_properties=filter_properties,
            admin_password=admin_password,
            injected_files=injected_files,
            requested_networks=requested_networks,
            security_groups=security_groups,
            request_spec=request_spec,
            host_lists=host_lists,
            block_device_mappings=bdms_by_uuid,
        )

    migrate_server = _orchestration("migrate_server")
    live_migrate_instance = _orchestration("live_migrate_instance")
    unshelve_instance = _orchestration("unshelve_instance")
    rebuild_instance = _orchestration("rebuild_instance")
    cache_images = _orchestration("cache_images")
    confirm_snapshot_based_resize = _orchestration("confirm_snapshot_based_resize")
    revert_snapshot_based_resize = _orchestration("revert_snapshot_based_resize")
    attach_volume = _orchestration("attach_volume")


def conductor_endpoints(
    db: Database | None,
    forwarded: frozenset[tuple[str, str]] = frozenset(),
    *,
    api_db: Database | None = None,
    url_defaults: registry.UrlDefaults | None = None,
    notifier: Notifications = NO_NOTIFICATIONS,
    boot: BootServices | None = None,
) -> list[Any]:
    """In nova's order: ConductorManager, BaseRPCAPI, ComputeTaskManager. `forwarded`: object
    methods left to the legacy conductor although we have them (see Settings.forwarded_pairs);
    `api_db`: the API database, for the cell, host and instance mappings; `notifier`: where
    the notifications of native methods go."""
    conductor = ConductorEndpoint(
        db, forwarded, api_db=api_db, url_defaults=url_defaults, notifier=notifier
    )
    return [conductor, BaseApiEndpoint(), ComputeTaskEndpoint(boot)]
