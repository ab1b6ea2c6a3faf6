"""compute.instance.update and instance.update from Instance.save, as nova-conductor 34 sends
them (nova/notifications/base.py `send_update`).

Only a save that wrote the instance row notifies, and only with `[notifications]
notify_on_state_change` set. A vm_state change (or, with `vm_and_task_state`, a task_state
change) reports the old and new states; any other save reports the current states, and the
old display name when it changed. The old values are those of the row read before the
UPDATE. A state given as None is reported as the instance's current one
(`_compute_states_payload`): a task_state going from None to 'spawning' reads
spawning -> spawning, as in nova.

The legacy message comes from publisher `compute.<our host>`, the versioned one from
`nova-compute:<our host>` (nova-conductor fills in its own host for both). Fields the saved
object does not carry are read as nova lazy-loads them (read_deleted "yes"); building fails
quietly, as nova logs and sends nothing then; the RPC never fails for a notification.
"""

from __future__ import annotations

import datetime
import logging
import random
from collections.abc import Mapping
from typing import Any

from aioconductor.errors import InstanceNotFound
from aioconductor.notifications import audit_period
from aioconductor.notifications import instance_payloads as payloads
from aioconductor.objects.registry import InstanceCall

log = logging.getLogger(__name__)

OLD_FIELDS = ("vm_state", "task_state", "display_name")
_LEGACY_NEEDS = ("flavor", "metadata", "system_metadata")
_VERSIONED_NEEDS = ("info_cache", "tags")


def old_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """What send_update compares, from the row as it was before the UPDATE."""
    return {name: row[name] for name in OLD_FIELDS}


async def notify_instance_update(call: InstanceCall, old: Mapping[str, Any]) -> None:
    notifier = call.notifier
    mode = notifier.options.notify_on_state_change
    if mode is None or not (notifier.legacy or notifier.versioned):
        return
    try:
        await _send(call, old, mode)
    except InstanceNotFound:
        log.debug("no instance update notification: instance %s is gone", call.obj.data["uuid"])
    except Exception:  # nova: LOG.exception("Failed to send state update notification")
        log.exception("Failed to send state update notification for %s", call.obj.data.get("uuid"))


async def _send(call: InstanceCall, old: Mapping[str, Any], mode: str) -> None:
    new = call.obj.data
    state_change = old["vm_state"] != new["vm_state"] or (
        mode == "vm_and_task_state" and old["task_state"] != new["task_state"]
    )
    old_display_name = None
    if state_change:
        given = {
            "old_vm_state": old["vm_state"],
            "new_vm_state": new["vm_state"],
            "old_task_state": old["task_state"],
            "new_task_state": new["task_state"],
        }
    else:
        given = {}
        if new.get("display_name") != old["display_name"]:
            old_display_name = old["display_name"]
    await _emit(call, given, old_display_name, service="compute")


async def notify_building(call: InstanceCall) -> None:
    """The update nova-conductor sends for an instance it just created in its cell
    (`send_update_with_states(..., None, BUILDING, None, None, service="conductor")`):
    from nothing to building, published as the conductor."""
    notifier = call.notifier
    if notifier.options.notify_on_state_change is None or not (
        notifier.legacy or notifier.versioned
    ):
        return
    given = {"old_vm_state": None, "new_vm_state": "building"}
    try:
        await _emit(call, given, None, service="conductor")
    except InstanceNotFound:
        log.debug("no instance update notification: instance %s is gone", call.obj.data["uuid"])
    except Exception:  # nova: LOG.exception("Failed to send state update notification")
        log.exception("Failed to send state update notification for %s", call.obj.data.get("uuid"))


async def _emit(
    call: InstanceCall,
    given: dict[str, Any],
    old_display_name: str | None,
    *,
    service: str,
) -> None:
    """send_instance_update_notification: the legacy message from `<service>.<host>`, the
    versioned one from `nova-<service>:<host>`."""
    notifier = call.notifier
    # nova builds (and sends) the legacy message before it reads what only the versioned
    # payload needs: a lazy load failing there still lets the legacy message out
    instance = await loaded(call, dict(call.obj.data), _LEGACY_NEEDS)
    state_fields = payloads.states(instance, **given)
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    audit = audit_period.current(notifier.options.audit_period, now)
    host = notifier.host
    if notifier.legacy:
        found, url = payloads.image_ref_url(
            instance.get("image_ref"), call.ctx.raw, notifier.options.glance, random.choice
        )
        if not found:  # nova: EndpointNotFound with a token ends the whole notification
            log.error(
                "Failed to send state update notification for %s: no image endpoint in the "
                "service catalog and no [glance] api_servers",
                instance["uuid"],
            )
            return
        notifier.emit(
            call.ctx,
            publisher_id=f"{service}.{host}",
            event_type="compute.instance.update",
            payload=payloads.legacy_payload(instance, state_fields, audit, old_display_name, url),
            versioned=False,
        )
    if notifier.versioned:
        instance = await loaded(call, instance, _VERSIONED_NEEDS)
        block_devices = shares = None
        if notifier.options.bdms_in_notifications:
            from aioconductor.objects.block_device import instance_rows

            rows = await instance_rows(call, instance["uuid"])
            block_devices = payloads.block_device_payloads(rows)
        if notifier.options.include_share_mapping:
            from aioconductor.objects.instance_devices import share_mapping_rows

            rows = await share_mapping_rows(call, instance["uuid"])
            shares = payloads.share_payloads(rows)
        notifier.emit(
            call.ctx,
            publisher_id=f"nova-{service}:{host}",
            event_type="instance.update",
            payload=payloads.versioned_payload(
                instance,
                call.ctx.raw,
                state_fields,
                audit,
                old_display_name,
                block_devices,
                shares,
            ),
            versioned=True,
        )


async def loaded(
    call: InstanceCall, instance: dict[str, Any], needs: tuple[str, ...]
) -> dict[str, Any]:
    """The saved instance with the fields the payloads read, lazy-loaded where missing."""
    missing = [name for name in needs if name not in instance]
    if missing:
        from aioconductor.objects._instance_get import read_instance

        ctx = call.ctx.with_read_deleted("yes")  # nova lazy-loads deleted instances too
        uuid = instance["uuid"]
        stored = await call.db.run(lambda conn: read_instance(conn, ctx, uuid, missing))
        loaded = stored.build()["nova_object.data"]
        instance.update({name: loaded.get(name) for name in missing})
    return instance
