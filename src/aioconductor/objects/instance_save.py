"""Instance.save: seven per boot, two per delete, every lifecycle change; nova's heaviest call.

The steps and their order are nova's (objects/instance.py `save`):
1. object fields first: a changed nested info cache is written (its own transaction), and
   the extra fields that changed are collected (pci_requests always, when set);
2. if no column changed, the extra values are written to `instance_extra` and nothing more
   happens: the object's changes are NOT reset;
3. otherwise: write the extra values, read the row with the joined fields the object
   carries, UPDATE it only while `expected_task_state` / `expected_vm_state` hold (else
   nova's conflict errors), rewrite metadata and system_metadata in place, and answer with
   the row read first with the new values set on it, as oslo.db's update_on_match leaves
   nova's object.
nova writes the extra values in a transaction of their own; here they share the instance's
(a COMMIT round trip less per save), and are still committed when the instance update fails
with one of nova's errors, so the tables end as nova leaves them.
When the UPDATE finds the row changed after the transaction's snapshot was taken (a delete
committed in between), the snapshot cannot say what changed: like nova's
_retry_instance_update, the whole transaction runs again on a fresh one, up to five times,
so the caller gets the specific conflict (UnexpectedDeletingTaskStateError, say), not
UnknownInstanceUpdateConflict.
Every object-valued field comes back in the updates: nova's conductor compares them by
identity. With `[notifications] notify_on_state_change`, a save that wrote the row sends
compute.instance.update / instance.update as nova does (notifications/instance_update.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aioconductor.conductor.endpoints import not_native
from aioconductor.db.connection import AsyncConnection
from aioconductor.errors import NovaError, ObjectActionError, UnknownInstanceUpdateConflict
from aioconductor.notifications.instance_update import notify_instance_update, old_values
from aioconductor.objects import _instance_save_sql as sql
from aioconductor.objects import _instance_tables as t
from aioconductor.objects._instance_build import (
    EXTRA_FIELDS,
    INSTANCE_VERSION,
    JOINED_FIELDS,
    changed_children,
)
from aioconductor.objects._instance_get import read_instance
from aioconductor.objects.instance_info_cache import cache_data, write_network_info
from aioconductor.objects.primitives import Primitive, dt_from_wire, is_object
from aioconductor.objects.registry import InstanceCall, remotable

# Instance fields declared as ObjectField: saved through their own rules, never as columns
OBJECT_FIELDS = frozenset({
    "info_cache", "security_groups", "fault", "pci_devices", "tags", "services", "flavor",
    "old_flavor", "new_flavor", "numa_topology", "pci_requests", "vcpu_model", "ec2_ids",
    "migration_context", "keypairs", "device_metadata", "trusted_certs", "resources",
})  # fmt: skip
_FLAVORS = ("flavor", "old_flavor", "new_flavor")
_DATETIME_COLUMNS = ("created_at", "deleted_at", "updated_at", "launched_at", "terminated_at")
_PCI_REQUEST_KEYS = ("count", "spec", "alias_name", "is_new", "numa_policy", "request_id",
                     "requester_id")  # fmt: skip
log = logging.getLogger(__name__)
_MISSING = object()
# nova's _retry_instance_update: oslo.db's wrap_db_retry(max_retries=5) at its default pacing
_CONFLICT_RETRIES = 5
_CONFLICT_RETRY_INTERVAL = 1.0
_CONFLICT_MAX_RETRY_INTERVAL = 10.0


def _json(primitive: Primitive | None) -> str | None:
    return None if primitive is None else json.dumps(primitive)


def _pci_requests_json(value: Primitive) -> str:
    """InstancePCIRequests.to_json()."""
    blob = []
    for request in value["nova_object.data"].get("requests", []):
        data = request["nova_object.data"]
        if any(key not in data for key in _PCI_REQUEST_KEYS):
            raise not_native("Instance.save with a partly set InstancePCIRequest")
        blob.append({key: data[key] for key in _PCI_REQUEST_KEYS})
    return json.dumps(blob)


def _flavor_json(data: dict[str, Any]) -> str:
    """_save_flavor: the three flavors, descriptions nulled."""
    info: dict[str, Any] = {}
    for key, field in (("cur", "flavor"), ("old", "old_flavor"), ("new", "new_flavor")):
        flavor = data.get(field)
        if flavor is not None:
            flavor = {**flavor, "nova_object.data": dict(flavor["nova_object.data"])}
            if "description" in flavor["nova_object.data"]:
                flavor["nova_object.data"]["description"] = None
        info[key] = flavor or None
    return json.dumps(info)


def _without_changes(value: Any) -> Any:
    """obj_reset_changes(recursive=True) on a primitive."""
    if isinstance(value, dict):
        return {k: _without_changes(v) for k, v in value.items() if k != "nova_object.changes"}
    if isinstance(value, list):
        return [_without_changes(v) for v in value]
    return value


class _Plan:
    """What nova's field loop decides before touching the instance row."""

    def __init__(self, call: InstanceCall) -> None:
        data = call.obj.data
        changes = call.obj.changes
        self.extra: dict[str, Any] = {}
        self.columns: dict[str, Any] = {}
        self.reset: set[str] = set()  # changes nova resets early (flavors, keypairs)
        self.cache_network_info: Any = _MISSING
        for name in sorted(data):
            value = data[name]
            if name not in OBJECT_FIELDS:
                if name in changes:
                    self.columns[name] = value
                continue
            if name == "info_cache":
                if value is not None and "network_info" in value.get("nova_object.changes", ()):
                    self.cache_network_info = value["nova_object.data"].get("network_info")
            elif name == "pci_requests" and value is not None:
                self.extra["pci_requests"] = _pci_requests_json(value)
            elif name in _FLAVORS:
                if any(f in changes for f in _FLAVORS):
                    if data.get("flavor") is None:
                        raise not_native("Instance.save of flavors without a current flavor")
                    self.extra["flavor"] = _flavor_json(data)
                    self.reset.update(_FLAVORS)
            elif name in EXTRA_FIELDS and name in changes:
                self.extra[name] = _json(value)
                if name == "keypairs":
                    self.reset.add(name)


def _column_values(updates: dict[str, Any]) -> dict[str, Any]:
    """The changed scalar fields as `instances` columns (nova's type conversions)."""
    values: dict[str, Any] = {}
    for name, given in updates.items():
        value = given
        if name not in t.INSTANCE_COLUMNS or name in ("id", "deleted"):
            raise not_native(f"Instance.save changing {name}")
        if name in _DATETIME_COLUMNS:
            value = dt_from_wire(value)
        elif name == "cleaned":
            value = 1 if value else 0
        elif name in ("access_ip_v4", "access_ip_v6") and value is not None:
            value = str(value)
        values[name] = value
    return values


def _expected(expected_task_state: Any, expected_vm_state: Any) -> dict[str, list[Any]]:
    expected: dict[str, list[Any]] = {}
    for field, value in (("task_state", expected_task_state),
                         ("vm_state", expected_vm_state)):  # fmt: skip
        if value is not None:
            expected[field] = list(value) if isinstance(value, list | tuple) else [value]
    return expected


@remotable("Instance", "save")
async def save(
    call: InstanceCall,
    expected_vm_state: Any = None,
    expected_task_state: Any = None,
    admin_state_reset: bool = False,
) -> None:
    obj = call.obj
    if obj.version != INSTANCE_VERSION:
        raise not_native(f"Instance.save at Instance {obj.version}")
    data = obj.data
    changes = set(obj.changes)
    if "node" in changes and "compute_id" not in changes:
        raise ObjectActionError(
            f"Instance.node is being updated ({data.get('node')!r}) but compute_id is not"
        )
    uuid = data.get("uuid")
    if not uuid:
        raise not_native("Instance.save without a uuid")
    plan = _Plan(call)
    ctx = call.ctx

    if plan.cache_network_info is not _MISSING:
        network_info = plan.cache_network_info
        if network_info is not None and not isinstance(network_info, str):
            network_info = json.dumps(network_info)
        row = await call.db.run(lambda conn: write_network_info(conn, ctx, uuid, network_info))
        cache = data["info_cache"]
        data["info_cache"] = {
            **{k: v for k, v in cache.items() if k != "nova_object.changes"},
            "nova_object.data": {**cache["nova_object.data"], **cache_data(row)},
        }
    if "keypairs" in plan.reset and data.get("keypairs") is not None:
        data["keypairs"] = _without_changes(data["keypairs"])

    if not plan.columns:
        if plan.extra:
            await call.db.run(lambda conn: sql.update_extra(conn, ctx, uuid, plan.extra))
        # nova returns here without obj_reset_changes(): only what it reset itself goes
        remaining = changes - plan.reset
        if plan.cache_network_info is not _MISSING:
            remaining.discard("info_cache")
        _report_objects(call)
        obj.changes.clear()
        obj.changes.update(remaining | changed_children(data))
        return

    metadata = plan.columns.pop("metadata", None)
    system_metadata = plan.columns.pop("system_metadata", None)
    values = _column_values(plan.columns)
    expected = _expected(expected_task_state, expected_vm_state)
    attrs = [a for a in JOINED_FIELDS if a in data and a != "pci_devices"]
    if "system_metadata" not in attrs:
        attrs.append("system_metadata")

    old: dict[str, Any] = {}

    async def update(conn: AsyncConnection) -> Primitive:
        """`instance_update_and_get_original`: nova's result is the row it read first with
        the new values set on it in memory (oslo.db's update_on_match), never a re-read."""
        stored = await read_instance(conn, ctx, uuid, attrs)
        await sql.compare_and_set(conn, ctx, uuid, values, expected, stored.row)
        old.update(old_values(stored.row))
        stored.row.update(values)
        if metadata is not None:
            stored_rows = stored.children.rows.get("m", [])
            await sql.rewrite_metadata(conn, uuid, "instance_metadata", stored_rows, metadata)
            stored.children.metadata = _in_place(stored.children.metadata, metadata)
        if system_metadata is not None:
            stored_rows = stored.children.rows.get("s", [])
            await sql.rewrite_metadata(
                conn, uuid, "instance_system_metadata", stored_rows, system_metadata
            )
            stored.children.system_metadata = _in_place(
                stored.children.system_metadata, system_metadata
            )
        return stored.build()

    async def work(conn: AsyncConnection) -> Primitive | NovaError:
        # One transaction where nova has two (the extra values, then the instance): the
        # extra values stay committed when the instance update fails, as in nova.
        if plan.extra:
            await sql.update_extra(conn, ctx, uuid, plan.extra)
        try:
            return await update(conn)
        except NovaError as failure:  # raised before the instance's own writes
            return failure

    outcome = await call.db.run(work)
    delay = _CONFLICT_RETRY_INTERVAL
    for _ in range(_CONFLICT_RETRIES):
        if not isinstance(outcome, UnknownInstanceUpdateConflict):
            break
        # The row changed after this transaction's snapshot was taken, so the snapshot
        # cannot say how: nova's _retry_instance_update tries again on a fresh one.
        log.info("Instance.save of %s: the row changed meanwhile; retrying in %.0f s", uuid, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, _CONFLICT_MAX_RETRY_INTERVAL)
        outcome = await call.db.run(work)
    if isinstance(outcome, NovaError):
        raise outcome
    for name, value in outcome["nova_object.data"].items():
        if is_object(value) or data.get(name, _MISSING) != value:
            call.set_field(name, value)
    _report_objects(call)
    call.reset_changes()
    obj.changes.update(changed_children(obj.data))
    await notify_instance_update(call, old)


def _in_place(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """`_instance_metadata_update_in_place` on the loaded rows: kept keys in their stored
    order with the new values, dropped keys gone, new keys after them."""
    kept = {key: wanted[key] for key in current if key in wanted}
    return kept | {key: value for key, value in wanted.items() if key not in kept}


def _report_objects(call: InstanceCall) -> None:
    """nova's conductor compares object fields by identity: all of them are 'updated'."""
    for name, value in list(call.obj.data.items()):
        if is_object(value) and name not in call.updates:
            call.set_field(name, value)
