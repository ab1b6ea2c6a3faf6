"""The quota recheck after scheduling (conductor `_recheck_quota`).

nova's `compute_utils.check_num_instances_quota(ctx, flavor, 0, 0, ...)`: count the
project's (and, when the user has a per-user limit, the user's) instances, cores and ram
across every cell, check the counts against the limits of `[quota] driver`, and on
failure raise TooManyInstances built the way the recheck builds it. With deltas of zero
the error depends only on which resources are over and on their limits:
`req` is the original request, and `used` and `allowed` both carry the limit (nova
reports "used" as limit - headroom, and the recheck's headroom is its zero deltas).

DbQuotaDriver limits: API `quotas` (project), `project_user_quotas` (user), and the
`quota_classes` rows of the context's quota class and of class `default`, else `[quota]`
defaults; the pre-API-database rows of the same tables in the conductor's own database
(`main_db`) count under the API ones, as nova merges them. NoopQuotaDriver: no limits.
UnifiedLimitsDriver and `count_usage_from_placement`: not served (keystone, placement).
"""

from __future__ import annotations

import logging
from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.config.boot_options import (
    DB_QUOTA_DRIVER,
    NOOP_QUOTA_DRIVER,
    QuotaOptions,
)
from aioconductor.config.settings import Settings
from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.errors import TooManyInstances
from aioconductor.objects import primitives as p

log = logging.getLogger(__name__)

RESOURCES = ("instances", "cores", "ram")
Limits = dict[str, int]
Counts = dict[str, int]


async def recheck_instance_quota(
    api_db: Database,
    cell_dbs: list[Database],
    ctx: RequestContext,
    flavor: p.Primitive,
    requested: int,
    project_id: str | None,
    user_id: str | None,
    settings: Settings,
    *,
    main_db: Database | None = None,
) -> None:
    """Raise TooManyInstances as nova's recheck does; return when within quota.

    `cell_dbs`: every cell's database (cell0 included), as nova's load_cells lists them;
    `main_db`: the conductor's own `[database]`, for legacy quota rows (optional).
    """
    options = settings.boot.quota
    if not options.recheck_quota:
        return
    if options.driver == NOOP_QUOTA_DRIVER:
        return  # counted and checked against unlimited limits: nothing can fail
    if options.driver != DB_QUOTA_DRIVER:
        raise not_native(f"[quota] driver = {options.driver}")
    if options.count_usage_from_placement:
        raise not_native("[quota] count_usage_from_placement = true")
    project_id = ctx.project_id if project_id is None else project_id
    user_id = ctx.user_id if user_id is None else user_id
    limits = _LimitReader(api_db, main_db, options, ctx)
    user_rows = await limits.user_rows(project_id, user_id)
    count_user = user_id if any(r in user_rows for r in RESOURCES) else None
    counts = await _count(cell_dbs, project_id, count_user)
    overs, quotas = await _check(limits, counts, project_id, count_user, ctx)
    if overs:
        vcpus, memory = _flavor_size(flavor)
        wanted = {"instances": requested, "cores": requested * vcpus, "ram": requested * memory}
        log.debug("%s quota exceeded for %s. Cannot run any more instances of this type.",
                  ", ".join(overs), project_id)  # fmt: skip
        raise TooManyInstances(
            overs=", ".join(overs),
            req=", ".join(str(wanted[r]) for r in overs),
            used=", ".join(str(quotas[r]) for r in overs),
            allowed=", ".join(str(quotas[r]) for r in overs),
        )


def _flavor_size(flavor: p.Primitive) -> tuple[int, int]:
    data = flavor["nova_object.data"]
    return int(data["vcpus"]), int(data["memory_mb"])


async def _check(
    limits: _LimitReader,
    counts: dict[str, Counts],
    project_id: str | None,
    count_user: str | None,
    ctx: RequestContext,
) -> tuple[list[str], Limits]:
    """limit_check_project_and_user with the recheck's values: the over resources
    (sorted) and the limits the error reports."""
    project_limits = await limits.project_limits(project_id)
    if count_user is None:
        # project values only: checked against the smaller of the project's limit and
        # the context user's limit
        user_limits = await limits.user_limits(project_id, ctx.user_id)
        merged = {r: min(project_limits[r], user_limits[r]) for r in RESOURCES}
        values = counts["project"]
        overs = sorted(r for r in RESOURCES if 0 <= merged[r] < values[r])
        return overs, merged
    user_limits = await limits.user_limits(project_id, count_user)
    over_user = False
    found = []
    for resource in RESOURCES:
        if 0 <= project_limits[resource] < counts["project"][resource]:
            found.append(resource)
        elif 0 <= user_limits[resource] < counts["user"][resource]:
            found.append(resource)
            over_user = True
    return sorted(found), (user_limits if over_user else project_limits)


async def _count(
    cell_dbs: list[Database], project_id: str | None, user_id: str | None
) -> dict[str, Counts]:
    """InstanceList.get_counts in every cell, summed; a cell that fails is left out
    (nova's scatter-gather failure sentinel)."""
    totals: dict[str, Counts] = {"project": dict.fromkeys(RESOURCES, 0)}
    if user_id:
        totals["user"] = dict.fromkeys(RESOURCES, 0)
    for db in cell_dbs:
        try:
            counted = await _cell_counts(db, project_id, user_id)
        except Exception:
            log.exception("counting instances for quota failed in a cell; left out")
            continue
        for scope, values in counted.items():
            for resource, value in values.items():
                totals[scope][resource] += value
    return totals


_COUNT = (
    "SELECT COUNT(id) AS instances, SUM(vcpus) AS cores, SUM(memory_mb) AS ram "
    "FROM instances WHERE deleted = 0 AND (vm_state != 'soft-delete' OR vm_state IS NULL) "
    "AND project_id <=> %s AND (hidden = 0 OR hidden IS NULL)"
)


async def _cell_counts(
    db: Database, project_id: str | None, user_id: str | None
) -> dict[str, Counts]:
    counted = {"project": _as_counts(await db.fetch_one(_COUNT, (project_id,)))}
    if user_id:
        row = await db.fetch_one(f"{_COUNT} AND user_id = %s", (project_id, user_id))
        counted["user"] = _as_counts(row)
    return counted


def _as_counts(row: dict[str, Any] | None) -> Counts:
    row = row or {}
    return {r: int(row.get(r) or 0) for r in RESOURCES}


class _LimitReader:
    """DbQuotaDriver's limits for the three instance resources."""

    def __init__(
        self,
        api_db: Database,
        main_db: Database | None,
        options: QuotaOptions,
        ctx: RequestContext,
    ) -> None:
        self.api_db = api_db
        self.main_db = main_db
        self.options = options
        quota_class = ctx.raw.get("quota_class")
        self.quota_class = str(quota_class) if quota_class else None
        self._project: dict[str, int] | None = None

    async def user_rows(self, project_id: str | None, user_id: str | None) -> dict[str, int]:
        """Quotas.get_all_by_project_and_user (resource -> hard limit)."""
        sql = "SELECT resource, hard_limit FROM project_user_quotas WHERE project_id <=> %s "
        return await self._rows(sql + "AND user_id <=> %s", (project_id, user_id))

    async def project_rows(self, project_id: str | None) -> dict[str, int]:
        if self._project is None:
            sql = "SELECT resource, hard_limit FROM quotas WHERE project_id <=> %s"
            self._project = await self._rows(sql, (project_id,))
        return self._project

    async def project_limits(self, project_id: str | None) -> Limits:
        return await self._process(await self.project_rows(project_id))

    async def user_limits(self, project_id: str | None, user_id: str | None) -> Limits:
        rows = dict(await self.user_rows(project_id, user_id))
        for resource, limit in (await self.project_rows(project_id)).items():
            rows.setdefault(resource, limit)
        return await self._process(rows)

    async def _process(self, rows: dict[str, int]) -> Limits:
        """_process_quotas: the row's limit, else the context class's, else the default."""
        classes = await self._class_rows(self.quota_class) if self.quota_class else {}
        defaults = await self._class_rows("default", api_only=True)
        configured = {r: getattr(self.options, r) for r in RESOURCES}
        return {r: rows.get(r, classes.get(r, defaults.get(r, configured[r]))) for r in RESOURCES}

    async def _class_rows(self, name: str, *, api_only: bool = False) -> dict[str, int]:
        sql = "SELECT resource, hard_limit FROM quota_classes WHERE class_name <=> %s"
        return await self._rows(sql, (name,), api_only=api_only)

    async def _rows(
        self, sql: str, args: tuple[Any, ...], *, api_only: bool = False
    ) -> dict[str, int]:
        """`sql` on the API database over the same on the main one (legacy, live rows)."""
        merged: dict[str, int] = {}
        if self.main_db is not None and not api_only:
            for row in await self.main_db.fetch_all(f"{sql} AND deleted = 0", args):
                merged[row["resource"]] = int(row["hard_limit"])
        for row in await self.api_db.fetch_all(sql, args):
            merged[row["resource"]] = int(row["hard_limit"])
        return merged
