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
import copy
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from aioconductor import __version__
from aioconductor.config.settings import PlacementOptions
from aioconductor.context import RequestContext
from aioconductor.errors import AllocationDeleteFailed, AllocationUpdateFailed

if TYPE_CHECKING:
    # keystoneauth1 (with requests) costs a worker 12 MB and 0.4 s to import: only a
    # worker that builds a placement client pays for it
    from keystoneauth1.adapter import Adapter
    from keystoneauth1.plugin import BaseAuthPlugin

log = logging.getLogger(__name__)

CONSUMER_GENERATION_VERSION = "1.28"
_THREADS = 4
# nova's @retries: four tries, the n-th after a random pause of up to 2(n-1) seconds
_CLAIM_TRIES = 4


class _Retry(Exception):
    """placement raced itself (a provider generation moved): try the claim again."""


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

    async def put_new_allocations(
        self,
        ctx: RequestContext,
        consumer_uuid: str,
        alloc_request: dict[str, Any],
        *,
        project_id: str | None,
        user_id: str | None,
        allocation_request_version: str,
    ) -> bool:
        """One try of nova's claim_resources (consumer_generation None: a new consumer)."""
        url = f"/allocations/{consumer_uuid}"
        request_id = global_id(ctx)
        payload = copy.deepcopy(alloc_request)
        consumer_generation = None
        r = await self._request(
            "GET", url, version=CONSUMER_GENERATION_VERSION, global_request_id=request_id
        )
        if r.status_code == 200:
            current = r.json().get("allocations")
            if current:
                # the consumer holds allocations already (nova's evacuation case): both
                # kept for the move, at the generation read
                consumer_generation = r.json().get("consumer_generation")
                payload = _doubled_up(current, payload)
        payload["project_id"] = project_id
        payload["user_id"] = user_id
        if _version_tuple(allocation_request_version) >= _version_tuple(
            CONSUMER_GENERATION_VERSION
        ):
            payload["consumer_generation"] = consumer_generation
        r = await self._request(
            "PUT",
            url,
            version=allocation_request_version,
            global_request_id=request_id,
            json=payload,
        )
        if r.status_code == 204:
            return True
        log.warning(
            "Failed to save allocation for %s. Got HTTP %s: %s",
            consumer_uuid,
            r.status_code,
            r.text,
        )
        try:
            error = r.json()["errors"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            return False
        if error.get("code") == "placement.concurrent_update":
            if "consumer generation conflict" in str(error.get("detail", "")):
                raise AllocationUpdateFailed(
                    consumer_uuid=consumer_uuid,
                    error=(
                        f"another process changed the consumer {consumer_uuid} after the "
                        "report client read the consumer state during the claim "
                    ),
                )
            raise _Retry(
                "another process changed the resource providers involved in our attempt "
                f"to put allocations for consumer {consumer_uuid}"
            )
        return False


def _doubled_up(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """nova's _move_operation_alloc_request: the allocations held, and the wanted ones on
    providers not held already."""
    allocations = {rp: {"resources": held["resources"]} for rp, held in current.items()}
    for rp, wanted_allocation in wanted["allocations"].items():
        if rp not in current:
            allocations[rp] = wanted_allocation
    return {"allocations": allocations}


async def claim_resources(
    client: PlacementClient,
    ctx: RequestContext,
    consumer_uuid: str,
    alloc_request: dict[str, Any],
    *,
    project_id: str | None,
    user_id: str | None,
    allocation_request_version: str,
) -> bool:
    """SchedulerReportClient.claim_resources for a new consumer, with nova's @retries and
    @safe_connect around it: True when claimed; False when placement refused (or raced
    itself four times); None-like False when placement cannot be reached at all; raises
    AllocationUpdateFailed when another writer changed the consumer meanwhile."""
    from keystoneauth1 import exceptions as ks_exc

    try:
        for attempt in range(_CLAIM_TRIES):
            await asyncio.sleep(random.uniform(0, attempt * 2))
            try:
                return await client.put_new_allocations(
                    ctx,
                    consumer_uuid,
                    alloc_request,
                    project_id=project_id,
                    user_id=user_id,
                    allocation_request_version=allocation_request_version,
                )
            except _Retry as retry:
                log.debug("Unable to claim_resources because %s; retrying...", retry)
        log.error("Failed scheduler client operation claim_resources: out of retries")
        return False
    except ks_exc.ConnectFailure:
        log.warning("Placement API service is not responding.")
    except ks_exc.EndpointNotFound:
        log.warning("The placement API endpoint was not found.")
    except ks_exc.MissingAuthPlugin:
        log.warning("No authentication information found for placement API.")
    except ks_exc.Unauthorized:
        log.warning("Placement service credentials do not work.")
    except ks_exc.DiscoveryFailure:
        log.warning("Discovering suitable URL for placement API failed.")
    return False


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


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
