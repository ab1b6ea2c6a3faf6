"""InstanceAction and InstanceActionEvent: every compute operation is wrapped in an event.

`@wrap_instance_event` makes each boot and delete start with `event_start` and end with
`event_finish_with_failure` (want_result=False: nothing comes back). Both find the action by
(instance_uuid, request_id) and touch its `updated_at`, as nova's `action_event_*` do; the
statements run raw on the driver (db/raw.py).
"""

from __future__ import annotations

import datetime
from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.context import RequestContext
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.errors import InstanceActionEventNotFound, InstanceActionNotFound
from aioconductor.objects import primitives as p
from aioconductor.objects.registry import ClassCall, remotable_classmethod

ACTION_VERSION = "1.2"
EVENT_VERSION = "1.4"
_ACTION_COLUMNS = ("id", "action", "instance_uuid", "request_id", "user_id", "project_id",
                   "start_time", "finish_time", "message")  # fmt: skip
_EVENT_COLUMNS = ("id", "event", "action_id", "start_time", "finish_time", "result",
                  "traceback", "host", "details")  # fmt: skip
_PERSISTENT = ("created_at", "updated_at", "deleted_at", "deleted")
ACTION_COLUMNS = _ACTION_COLUMNS + _PERSISTENT
EVENT_COLUMNS = _EVENT_COLUMNS + _PERSISTENT
_DATETIMES = {"start_time", "finish_time", "created_at", "updated_at", "deleted_at"}

_SELECT_ACTION = f"SELECT {', '.join(_ACTION_COLUMNS + _PERSISTENT)} FROM instance_actions"
_ACTION_BY_REQUEST = (
    f"{_SELECT_ACTION} WHERE instance_uuid = %s AND request_id = %s{{deleted}} "
    "ORDER BY created_at DESC, id DESC LIMIT 1"
)
_LAST_ACTION = (
    f"{_SELECT_ACTION} WHERE instance_uuid = %s{{deleted}} ORDER BY created_at DESC, id DESC "
    "LIMIT 1"
)
_SELECT_EVENT = f"SELECT {', '.join(_EVENT_COLUMNS + _PERSISTENT)} FROM instance_actions_events"


def _deleted_clause(ctx: RequestContext) -> str:
    """model_query's read_deleted, from the request context."""
    return {"no": " AND deleted = 0", "only": " AND deleted != 0"}.get(ctx.read_deleted, "")


def _object_data(row: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    data = p.row_fields(row, columns + _PERSISTENT, datetimes=_DATETIMES)
    data["deleted"] = bool(row["deleted"])
    return data


def _check(call: ClassCall, objname: str, version: str) -> None:
    if call.version_of(objname) != version:
        raise not_native(f"{objname} {call.version_of(objname)}")


def _context_timestamp(ctx: RequestContext) -> datetime.datetime:
    """`context.timestamp`: when the caller's request context was made."""
    stamp = p.dt_from_wire(ctx.raw.get("timestamp"))
    return stamp if stamp is not None else p.utcnow()


# --- InstanceAction -------------------------------------------------------------------------


async def _action_by_request(
    conn: AsyncConnection, ctx: RequestContext, instance_uuid: str, request_id: str | None
) -> dict[str, Any] | None:
    sql = _ACTION_BY_REQUEST.format(deleted=_deleted_clause(ctx))
    return await raw.fetch_one(conn, sql, (instance_uuid, request_id))


@remotable_classmethod("InstanceAction", "action_start")
async def action_start(
    call: ClassCall, instance_uuid: str, action_name: str, want_result: bool = True
) -> p.Primitive | None:
    _check(call, "InstanceAction", ACTION_VERSION)
    ctx = call.ctx
    stamp = _context_timestamp(ctx)
    now = p.utcnow()
    values: dict[str, Any] = {
        "request_id": ctx.request_id, "instance_uuid": instance_uuid, "user_id": ctx.user_id,
        "project_id": ctx.project_id, "action": action_name, "start_time": stamp,
        "updated_at": stamp, "created_at": now, "deleted": 0,
    }  # fmt: skip
    new_id = await call.db.insert_row("instance_actions", values)
    if not want_result:
        return None
    row = {**dict.fromkeys(_ACTION_COLUMNS + _PERSISTENT), **values, "id": new_id}
    row["start_time"] = row["updated_at"] = stamp.replace(microsecond=0)
    return p.make("InstanceAction", ACTION_VERSION, _object_data(row, _ACTION_COLUMNS))


@remotable_classmethod("InstanceAction", "action_finish")
async def action_finish(
    call: ClassCall, instance_uuid: str, want_result: bool = True
) -> p.Primitive | None:
    _check(call, "InstanceAction", ACTION_VERSION)
    ctx = call.ctx
    now = p.utcnow()
    deleted = _deleted_clause(ctx)

    async def work(conn: AsyncConnection) -> dict[str, Any] | None:
        matched = await raw.execute(
            conn,
            "UPDATE instance_actions SET finish_time = %s, updated_at = %s "
            f"WHERE instance_uuid = %s AND request_id = %s{deleted}",
            (now, now, instance_uuid, ctx.request_id),
        )
        if matched != 1:
            raise InstanceActionNotFound(request_id=ctx.request_id, instance_uuid=instance_uuid)
        if not want_result:
            return None
        return await _action_by_request(conn, ctx, instance_uuid, ctx.request_id)

    row = await call.db.run(work)
    if row is None:
        return None
    return p.make("InstanceAction", ACTION_VERSION, _object_data(row, _ACTION_COLUMNS))


@remotable_classmethod("InstanceAction", "get_by_request_id")
async def get_by_request_id(
    call: ClassCall, instance_uuid: str, request_id: str
) -> p.Primitive | None:
    _check(call, "InstanceAction", ACTION_VERSION)
    row = await call.db.run(
        lambda conn: _action_by_request(conn, call.ctx, instance_uuid, request_id)
    )
    if row is None:
        return None
    return p.make("InstanceAction", ACTION_VERSION, _object_data(row, _ACTION_COLUMNS))


# --- InstanceActionEvent --------------------------------------------------------------------


async def _event_action(
    conn: AsyncConnection, ctx: RequestContext, instance_uuid: str
) -> tuple[dict[str, Any], bool]:
    """The action an event belongs to, and whether its updated_at is to be touched.

    After a compute restart the request id is new: without a project (a service context)
    nova falls back to the instance's newest action and leaves that one's updated_at alone.
    """
    action = await _action_by_request(conn, ctx, instance_uuid, ctx.request_id)
    if action is not None:
        return action, True
    if not ctx.project_id:
        sql = _LAST_ACTION.format(deleted=_deleted_clause(ctx))
        action = await raw.fetch_one(conn, sql, (instance_uuid,))
        if action is not None:
            return action, False
    raise InstanceActionNotFound(request_id=ctx.request_id, instance_uuid=instance_uuid)


@remotable_classmethod("InstanceActionEvent", "event_start")
async def event_start(
    call: ClassCall,
    instance_uuid: str,
    event_name: str,
    want_result: bool = True,
    host: str | None = None,
) -> p.Primitive | None:
    _check(call, "InstanceActionEvent", EVENT_VERSION)
    ctx = call.ctx
    now = p.utcnow()

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        action, touch = await _event_action(conn, ctx, instance_uuid)
        values: dict[str, Any] = {
            "created_at": now, "deleted": 0, "event": event_name, "action_id": action["id"],
            "start_time": now, "host": host,
        }  # fmt: skip
        event_id = await raw.insert_row(conn, "instance_actions_events", values)
        if touch:
            await raw.execute(
                conn,
                "UPDATE instance_actions SET updated_at = %s WHERE id = %s",
                (now, action["id"]),
            )
        return {**dict.fromkeys(_EVENT_COLUMNS + _PERSISTENT), **values, "id": event_id}

    row = await call.db.run(work)
    if not want_result:
        return None
    return p.make("InstanceActionEvent", EVENT_VERSION, _object_data(row, _EVENT_COLUMNS))


@remotable_classmethod("InstanceActionEvent", "event_finish_with_failure")
async def event_finish_with_failure(
    call: ClassCall,
    instance_uuid: str,
    event_name: str,
    exc_val: Any = None,
    exc_tb: Any = None,
    want_result: bool | None = None,
) -> p.Primitive | None:
    _check(call, "InstanceActionEvent", EVENT_VERSION)
    if exc_val is not None and not isinstance(exc_val, str):
        # the client's @serialize_args sends the formatted message; anything else is not
        # a request nova-compute makes
        raise not_native("InstanceActionEvent.event_finish_with_failure with a non-text exc_val")
    ctx = call.ctx
    now = p.utcnow()
    values: dict[str, Any] = {"finish_time": now, "updated_at": now}
    if exc_tb is None:
        values["result"] = "Success"
    else:
        values["result"] = "Error"
        if exc_val:
            values["details"] = _truncate(exc_val, 255)  # compute_utils.exception_to_dict
        values["traceback"] = exc_tb

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        action, touch = await _event_action(conn, ctx, instance_uuid)
        sql = f"{_SELECT_EVENT} WHERE action_id = %s AND event = %s{_deleted_clause(ctx)} LIMIT 1"
        event = await raw.fetch_one(conn, sql, (action["id"], event_name))
        if event is None:
            raise InstanceActionEventNotFound(action_id=action["id"], event=event_name)
        await raw.update_row(conn, "instance_actions_events", values, "id = %s", (event["id"],))
        action_values: dict[str, Any] = {}
        if values["result"] == "Error":
            action_values["message"] = "Error"
        if touch or action_values:
            # the ORM flushes the dirty action; its onupdate stamps updated_at either way
            action_values["updated_at"] = now
            await raw.update_row(
                conn, "instance_actions", action_values, "id = %s", (action["id"],)
            )
        return {**event, **values}

    row = await call.db.run(work)
    if not want_result:
        return None
    return p.make("InstanceActionEvent", EVENT_VERSION, _object_data(row, _EVENT_COLUMNS))


@remotable_classmethod("InstanceActionEvent", "event_finish")
async def event_finish(
    call: ClassCall, instance_uuid: str, event_name: str, want_result: bool = True
) -> p.Primitive | None:
    return await event_finish_with_failure(
        call, instance_uuid, event_name, exc_val=None, exc_tb=None, want_result=want_result
    )


def _truncate(text: str, limit: int) -> str:
    """oslo's safe_truncate: at most `limit` characters (MySQL counts characters)."""
    return text[:limit]
