"""The placement calls nova-conductor makes on the boot path, through keystoneauth1.

Built from nova's `[placement]` options as nova builds its client: keystoneauth's auth plugin
(`auth_type` and that plugin's own options), a session (`cafile`, `certfile`, `keyfile`,
`insecure`, `timeout`) and an adapter (`service_type`, `service_name`, `valid_interfaces`,
`region_name`, `endpoint_override`, retries), with `Accept: application/json` on every
request as nova's report client sets it. keystoneauth is synchronous (requests): every
request runs in a small thread pool of this client's own, never on the event loop, and the
session (its token and endpoint cache, its connection pool) is shared by those threads.

delete_allocation_for_instance follows nova's SchedulerReportClient: with `force`, DELETE
/allocations/{uuid}; else GET at microversion 1.28 and PUT the empty allocations with the
consumer generation read (a consumer changed in between fails the delete). Each request
carries the caller's global request id (X-OpenStack-Request-ID), as nova sends
`context.global_id`.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from aioconductor import __version__
from aioconductor.config.settings import PlacementOptions
from aioconductor.context import RequestContext
from aioconductor.errors import AllocationDeleteFailed

if TYPE_CHECKING:
    # keystoneauth1 (with requests) costs a worker 12 MB and 0.4 s to import: only a
    # worker that builds a placement client pays for it
    from keystoneauth1.adapter import Adapter
    from keystoneauth1.plugin import BaseAuthPlugin

log = logging.getLogger(__name__)

CONSUMER_GENERATION_VERSION = "1.28"
_THREADS = 4


class PlacementNotConfigured(Exception):
    """`[placement]` does not say how to authenticate (nova cannot reach placement either)."""


def global_id(ctx: RequestContext) -> str | None:
    """nova's `context.global_id`: the global request id, else this request's own."""
    return ctx.global_request_id or ctx.request_id


class PlacementClient:
    def __init__(self, adapter: Adapter) -> None:
        self._adapter = adapter
        self._pool = ThreadPoolExecutor(_THREADS, thread_name_prefix="placement")

    @classmethod
    def from_options(cls, options: PlacementOptions) -> PlacementClient:
        """Raises PlacementNotConfigured without an auth_type, and keystoneauth's own
        errors for an unknown plugin or options it refuses."""
        if not options.auth_type:
            raise PlacementNotConfigured(
                "[placement] auth_type is not set: no way to reach placement"
            )
        from keystoneauth1 import adapter as ks_adapter
        from keystoneauth1 import session as ks_session

        session = ks_session.Session(
            auth=_auth_plugin(options),
            verify=False if options.insecure else (options.cafile or True),
            cert=_cert(options),
            timeout=options.timeout,
            app_name="aioconductor",
            app_version=__version__,
        )
        adapter = ks_adapter.Adapter(
            session,
            service_type=options.service_type,
            service_name=options.service_name,
            interface=list(options.valid_interfaces),
            region_name=options.region_name,
            endpoint_override=options.endpoint_override,
            connect_retries=options.connect_retries,
            connect_retry_delay=options.connect_retry_delay,
            status_code_retries=options.status_code_retries,
            status_code_retry_delay=options.status_code_retry_delay,
            additional_headers={"accept": "application/json"},
            raise_exc=False,
        )
        return cls(adapter)

    async def close(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, wait=True)

    async def _request(
        self,
        method: str,
        url: str,
        *,
        version: str | None,
        global_request_id: str | None,
        json: Any = None,
    ) -> Any:
        call = partial(
            self._adapter.request,
            url,
            method,
            microversion=version,
            global_request_id=global_request_id,
            **({"json": json} if json is not None else {}),
        )
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def delete_allocation_for_instance(
        self,
        ctx: RequestContext,
        instance_uuid: str,
        *,
        force: bool,
        consumer_type: str = "instance",
    ) -> bool:
        """True when this call deleted the allocations, False when there were none;
        AllocationDeleteFailed otherwise (nova's exception, with placement's text)."""
        url = f"/allocations/{instance_uuid}"
        request_id = global_id(ctx)
        if force:
            r = await self._request("DELETE", url, version=None, global_request_id=request_id)
            if r:
                log.info("Deleted allocations for %s %s", consumer_type, instance_uuid)
                return True
            if r.status_code != 404:
                raise _unable(r, consumer_type, instance_uuid)
            return False
        r = await self._request(
            "GET", url, version=CONSUMER_GENERATION_VERSION, global_request_id=request_id
        )
        if not r:
            raise _unable(r, consumer_type, instance_uuid, " while retrieving existing allocations")
        allocations = r.json()
        if allocations["allocations"] == {}:
            log.debug(
                "Cannot delete allocation for %s consumer in placement as consumer does not exist",
                instance_uuid,
            )
            return False
        allocations["allocations"] = {}  # no resources left: placement drops the consumer
        r = await self._request(
            "PUT",
            url,
            version=CONSUMER_GENERATION_VERSION,
            global_request_id=request_id,
            json=allocations,
        )
        if r.status_code == 204:
            log.info("Deleted allocation for %s %s", consumer_type, instance_uuid)
            return True
        raise _unable(r, consumer_type, instance_uuid)


def _unable(r: Any, consumer_type: str, instance_uuid: str, when: str = "") -> Exception:
    """Logged as nova's report client logs it; the failure it raises."""
    log.warning(
        "Unable to delete allocation for %s %s%s: (%d %s)",
        consumer_type,
        instance_uuid,
        when,
        r.status_code,
        r.text,
    )
    return AllocationDeleteFailed(consumer_uuid=instance_uuid, error=r.text)


def _cert(options: PlacementOptions) -> str | tuple[str, str] | None:
    if options.certfile and options.keyfile:
        return (options.certfile, options.keyfile)
    return options.certfile or None


def _auth_plugin(options: PlacementOptions) -> BaseAuthPlugin:
    """The `auth_type` plugin loaded from the options it declares, looked up as oslo.config
    would find them in [placement]: by name (dashes as underscores), then deprecated names."""
    from keystoneauth1 import loading as ks_loading

    assert options.auth_type is not None
    loader: Any = ks_loading.get_plugin_loader(options.auth_type)
    given = {k: v.get_secret_value() for k, v in options.auth.items()}
    kwargs: dict[str, Any] = {}
    for opt in loader.get_options():
        names = [opt.dest, *(d.dest for d in opt.deprecated)]
        value = next((given[n] for n in names if n in given), None)
        if value is not None:
            kwargs[opt.dest] = _typed(opt.type, value)
    plugin: BaseAuthPlugin = loader.load_from_options(**kwargs)
    return plugin


def _typed(kind: Any, value: str) -> Any:
    if kind is bool:
        return value.strip().lower() in ("1", "true", "yes", "on")
    if kind in (int, float):
        return kind(value)
    return value
