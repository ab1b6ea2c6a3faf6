"""build_and_run_instance to a compute host, with nova's ComputeAPI version choice and cap.

Version: 6.0 when the compute RPC cap allows it, else 5.11 (the same call in the previous
major), else 5.0 without `accel_uuids`; a cap below 5.0 is refused as oslo's client refuses
it (RPCVersionCapError), before anything is sent.

The cap is `[upgrade_levels] compute`: unset (the newest), a release name or a version, or
`auto`: the compute RPC version of the oldest nova-compute service, from nova's service
version history, across all cells when there is an API database (a cell that fails to answer
is left out, as nova leaves it out), else in our own database. nova-conductor works the cap
out at its first compute RPC and keeps it for the life of the process (its ComputeAPI
router is a module global), even when it found no compute service then; so do we, per
worker process.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aioconductor import NOVA_SERVICE_VERSION
from aioconductor.boot.rpc_client import RpcClient
from aioconductor.boot.scheduler_client import can_send_version
from aioconductor.config.settings import Settings
from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.errors import RPCVersionCapError, ServiceTooOld
from aioconductor.objects import _service_rows as service_rows
from aioconductor.objects.primitives import Primitive
from aioconductor.objects.service import minimum_version

log = logging.getLogger(__name__)

TOPIC = "compute"
_COMPUTE = "nova-compute"
# nova.context.CELL_TIMEOUT: how long scatter_gather_all_cells waits for a cell
_CELL_TIMEOUT = 60.0

# nova's ComputeAPI.VERSION_ALIASES (nova 34.0.0)
VERSION_ALIASES = {
    "icehouse": "3.23",
    "juno": "3.35",
    "kilo": "4.0",
    "liberty": "4.5",
    "mitaka": "4.11",
    "newton": "4.13",
    "ocata": "4.13",
    "pike": "4.17",
    "queens": "5.0",
    "rocky": "5.0",
    "stein": "5.1",
    "train": "5.3",
    "ussuri": "5.11",
    "victoria": "5.12",
    "wallaby": "6.0",
    "xena": "6.0",
    "yoga": "6.0",
    "zed": "6.1",
    "antelope": "6.2",
    "bobcat": "6.2",
    "caracal": "6.3",
    "dalmatian": "6.3",
    "epoxy": "6.4",
    "flamingo": "6.4",
    "gazpacho": "6.5",
    "hibiscus": "6.5",
}

# nova.objects.service.SERVICE_VERSION_HISTORY[i]["compute_rpc"], i = service version 0..74
COMPUTE_RPC_BY_SERVICE_VERSION = (
    *("4.0", "4.4", "4.5", "4.6", "4.6", "4.7", "4.8", "4.9", "4.10", "4.11"),
    *("4.11", "4.12", "4.12", "4.13", "4.13", "4.13", "4.13", "4.13", "4.14", "4.15"),
    *("4.16", "4.17", "4.17", "4.18", "4.18", "4.18", "4.19", "4.20", "4.21", "4.22"),
    *("5.0", "5.0", "5.0", "5.0", "5.0", "5.0", "5.0", "5.1", "5.1", "5.2"),
    *("5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.9", "5.10", "5.10", "5.10"),
    *("5.11", "5.11", "5.11", "5.12", "5.13", "5.13", "6.0", "6.0", "6.0", "6.0"),
    *("6.0", "6.0", "6.0", "6.0", "6.1", "6.1", "6.2", "6.3", "6.4", "6.4"),
    *("6.4", "6.5", "6.5", "6.5", "6.5"),
)

# the one cap of this process, once worked out (a dict: no `global` needed)
_CAP: dict[str, str | None] = {}


def reset_compute_version_cap() -> None:
    """Forget the cap worked out (tests; nova itself never does in a running conductor)."""
    _CAP.clear()


async def compute_version_cap(settings: Settings, cell_dbs: list[Database]) -> str | None:
    """nova's cap for compute RPC: None (no cap), or a version such as '6.5'."""
    if "cap" not in _CAP:
        level = settings.upgrade_levels.compute
        if level == "auto":
            cap: str | None = await _cap_from_services(settings, cell_dbs)
        else:
            cap = None if level is None else VERSION_ALIASES.get(level, level)
        _CAP["cap"] = cap
    return _CAP["cap"]


async def _cap_from_services(settings: Settings, cell_dbs: list[Database]) -> str:
    if settings.api_database_connection is not None:
        service_version = await _minimum_across_cells(cell_dbs)
    else:
        service_version = await cell_dbs[0].run(lambda conn: minimum_version(conn, [_COMPUTE]))
    if service_version == 0:
        log.debug(
            "no nova-compute service found: compute RPC version cap %s (the newest)",
            COMPUTE_RPC_BY_SERVICE_VERSION[NOVA_SERVICE_VERSION],
        )
        return COMPUTE_RPC_BY_SERVICE_VERSION[NOVA_SERVICE_VERSION]
    if service_version >= len(COMPUTE_RPC_BY_SERVICE_VERSION):
        log.error(
            "Failed to extract compute RPC version from service history because I am too "
            "old (minimum version is now %d)",
            service_version,
        )
        raise ServiceTooOld(thisver=NOVA_SERVICE_VERSION, minver=service_version)
    cap = COMPUTE_RPC_BY_SERVICE_VERSION[service_version]
    log.info(
        "Automatically selected compute RPC version %s from minimum service version %d",
        cap,
        service_version,
    )
    return cap


async def _minimum_across_cells(cell_dbs: list[Database]) -> int:
    """nova's get_minimum_version_all_cells for nova-compute (the cache not used): zero
    versions and cells that fail or time out are left out."""

    async def one_cell(db: Database) -> dict[str, int]:
        async with asyncio.timeout(_CELL_TIMEOUT):
            return await db.run(lambda conn: service_rows.minimum_versions(conn, [_COMPUTE]))

    results = await asyncio.gather(*(one_cell(db) for db in cell_dbs), return_exceptions=True)
    found: list[int] = []
    for db, result in zip(cell_dbs, results, strict=True):
        if isinstance(result, BaseException):
            log.warning(
                "Failed to get minimum service version for cell %s: %s", db.engine.url, result
            )
            continue
        found.extend(v for v in result.values() if v)
    return min(found) if found else 0


def build_version(version_cap: str | None) -> str:
    """The version ComputeAPI.build_and_run_instance sends under `version_cap`."""
    version = "6.0" if can_send_version(version_cap, "6.0") else "5.11"
    if not can_send_version(version_cap, version):
        version = "5.0"
    if not can_send_version(version_cap, version):
        assert version_cap is not None
        raise RPCVersionCapError(version=version, version_cap=version_cap)
    return version


async def build_and_run_instance(
    client: RpcClient,
    ctx: RequestContext,
    *,
    version_cap: str | None,
    host: str,
    instance: Primitive,
    image: dict[str, Any],
    request_spec: Primitive,
    filter_properties: dict[str, Any],
    admin_password: str | None,
    injected_files: list[Any] | None,
    requested_networks: Primitive | None,
    security_groups: list[str] | None,
    block_device_mapping: Primitive | None,
    node: str | None,
    limits: dict[str, Any] | None,
    host_list: list[Primitive] | None,
    accel_uuids: list[str] | None,
) -> None:
    """Cast build_and_run_instance to `compute.<host>`, as nova's ComputeAPI casts it."""
    version = build_version(version_cap)
    args: dict[str, Any] = {
        "instance": instance,
        "image": image,
        "request_spec": request_spec,
        "filter_properties": filter_properties,
        "admin_password": admin_password,
        "injected_files": injected_files,
        "requested_networks": requested_networks,
        "security_groups": security_groups,
        "block_device_mapping": block_device_mapping,
        "node": node,
        "limits": limits,
        "host_list": host_list,
        "accel_uuids": accel_uuids,
    }
    if version == "5.0":
        del args["accel_uuids"]
    await client.cast(ctx, TOPIC, "build_and_run_instance", args, version=version, server=host)
