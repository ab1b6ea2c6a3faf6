"""Reading instances with their expected attributes in a fixed, small number of queries.

One SELECT for the instance rows (with `instance_extra` and `instance_info_caches` LEFT
JOINed when asked for), one UNION ALL for every key/value child (metadata, system_metadata,
tags) of all the instances at once, and one for faults when asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, literal, null, select, union_all
from sqlalchemy.sql import ColumnElement, FromClause
from sqlalchemy.sql.elements import BindParameter

from aioconductor.context import ReadDeleted, RequestContext
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.db.prepared import PreparedSql, prepare
from aioconductor.objects import _instance_tables as t
from aioconductor.objects._instance_build import EXTRA_FIELDS, FLAVOR_FIELDS, Children

Row = Mapping[str, Any]


def is_user_context(ctx: RequestContext) -> bool:
    """nova.context.is_user_context."""
    return not ctx.is_admin and bool(ctx.user_id) and bool(ctx.project_id)


def deleted_filter(column: Any, read_deleted: ReadDeleted) -> ColumnElement[bool] | None:
    if read_deleted == "no":
        return column == 0  # type: ignore[no-any-return]
    if read_deleted == "only":
        return column != 0  # type: ignore[no-any-return]
    return None


def instance_select(
    ctx: RequestContext,
    attrs: set[str],
    *,
    project_only: bool,
    read_deleted: ReadDeleted | None = None,
    info_cache: bool,
) -> Select[Any]:
    """SELECT instances [+ extra, info cache]: the caller adds its own WHERE clauses."""
    scoped = project_only and is_user_context(ctx)
    return _instance_select(
        _wants_extra(attrs),
        info_cache,
        read_deleted or ctx.read_deleted,
        literal(ctx.project_id) if scoped else None,
    )


def _wants_extra(attrs: set[str]) -> bool:
    return bool(attrs.intersection(EXTRA_FIELDS + FLAVOR_FIELDS))


def _instance_select(
    with_extra: bool,
    info_cache: bool,
    read_deleted: ReadDeleted,
    project_id: ColumnElement[Any] | None,
) -> Select[Any]:
    i = t.instances
    cols: list[Any] = [i.c[name] for name in t.INSTANCE_COLUMNS]
    source: FromClause = i
    if with_extra:
        ex = t.instance_extra
        cols.append(ex.c.id.label("ex_id"))
        cols += [ex.c[name].label(f"ex_{name}") for name in t.EXTRA_COLUMNS]
        source = source.outerjoin(ex, ex.c.instance_uuid == i.c.uuid)
    if info_cache:
        ic = t.instance_info_caches
        cols += [
            ic.c[name].label(f"ic_{name}")
            for name in (
                "id",
                "instance_uuid",
                "network_info",
                "created_at",
                "updated_at",
                "deleted_at",
                "deleted",
            )
        ]
        source = source.outerjoin(ic, ic.c.instance_uuid == i.c.uuid)
    query = select(*cols).select_from(source)
    cond = deleted_filter(i.c.deleted, read_deleted)
    if cond is not None:
        query = query.where(cond)
    if project_id is not None:
        query = query.where(i.c.project_id == project_id)
    return query


@lru_cache(maxsize=32)
def _by_uuid_sql(
    with_extra: bool, info_cache: bool, read_deleted: ReadDeleted, scoped: bool
) -> PreparedSql:
    i = t.instances
    query = _instance_select(
        with_extra, info_cache, read_deleted, bindparam("project_id") if scoped else None
    )
    return prepare(query.where(i.c.uuid == bindparam("uuid")).order_by(i.c.id).limit(1))


async def fetch_by_uuid(
    conn: AsyncConnection, ctx: RequestContext, uuid: str, attrs: set[str]
) -> dict[str, Any] | None:
    """`_instance_get_by_uuid`: project-scoped, honours read_deleted; None when absent."""
    scoped = is_user_context(ctx)
    prepared = _by_uuid_sql(_wants_extra(attrs), "info_cache" in attrs, ctx.read_deleted, scoped)
    args = prepared.args({"uuid": uuid, "project_id": ctx.project_id})
    return await raw.fetch_one(conn, prepared.sql, args)


async def load_children(
    conn: AsyncConnection,
    ctx: RequestContext,
    uuids: Sequence[str],
    attrs: set[str],
    *,
    list_semantics: bool,
) -> dict[str, Children]:
    """Children per instance uuid. `list_semantics`: metadata honours the context's
    read_deleted as `_instance_metadata_get_multi` does (rows are dropped later anyway)."""
    result = {u: Children() for u in uuids}
    if not uuids:
        return result
    wanted = (
        "metadata" in attrs,
        "system_metadata" in attrs,
        "tags" in attrs,
        ctx.read_deleted if list_semantics else "no",
    )
    prepared = _children_sql(*wanted, len(uuids))
    if prepared is not None:
        values = {f"uuid_{k}": u for k, u in enumerate(uuids)}
        rows = await raw.fetch_all(conn, prepared.sql, prepared.args(values))
        for r in rows:
            child = result[r["owner"]]
            kind = r["kind"]
            if kind == "s":
                child.system_metadata[r["key"]] = r["value"]
                child.rows.setdefault(kind, []).append(r)
            elif kind == "m":
                if not r["deleted"]:  # metadata_to_dict skips deleted rows
                    child.metadata[r["key"]] = r["value"]
                    child.rows.setdefault(kind, []).append(r)
            else:
                child.tags.append(r["key"])
    if "fault" in attrs:
        await _load_faults(conn, uuids, result)
    return result


@lru_cache(maxsize=64)
def _children_sql(
    metadata: bool,
    system_metadata: bool,
    tags: bool,
    metadata_read_deleted: ReadDeleted,
    count: int,
) -> PreparedSql | None:
    """One UNION ALL of the key/value children of `count` instances (bound as uuid_0...)."""
    uuids: list[BindParameter[Any]] = [bindparam(f"uuid_{k}") for k in range(count)]
    parts: list[Select[Any]] = []
    if metadata:
        m = t.instance_metadata
        sel = select(
            literal("m").label("kind"),
            m.c.instance_uuid.label("owner"),
            m.c.key,
            m.c.value,
            m.c.id,
            m.c.deleted,
        ).where(m.c.instance_uuid.in_(uuids))
        cond = deleted_filter(m.c.deleted, metadata_read_deleted)
        parts.append(sel if cond is None else sel.where(cond))
    if system_metadata:
        s = t.instance_system_metadata
        parts.append(
            select(
                literal("s").label("kind"),
                s.c.instance_uuid.label("owner"),
                s.c.key,
                s.c.value,
                s.c.id,
                s.c.deleted,
            ).where(s.c.instance_uuid.in_(uuids))
        )
    if tags:
        g = t.tags
        parts.append(
            select(
                literal("t").label("kind"),
                g.c.resource_id.label("owner"),
                g.c.tag.label("key"),
                null().label("value"),
                literal(0).label("id"),
                literal(0).label("deleted"),
            ).where(g.c.resource_id.in_(uuids))
        )
    if not parts:
        return None
    query = parts[0] if len(parts) == 1 else union_all(*parts)
    return prepare(query.order_by("kind", "id", "key"))


async def _load_faults(
    conn: AsyncConnection, uuids: Iterable[str], result: dict[str, Children]
) -> None:
    f = t.instance_faults
    rows = (
        await conn.execute(
            select(*f.c)
            .where(and_(f.c.deleted == 0, f.c.instance_uuid.in_(list(uuids))))
            .order_by(f.c.created_at.desc(), f.c.id.desc())
        )
    ).mappings()
    for r in rows:
        child = result[r["instance_uuid"]]
        if child.fault is None:
            child.fault = dict(r)
