"""The delete notifications nova-conductor 34 sends when a user deleted a server while it was
being scheduled (conductor/manager.py `_delete_build_request`): the instance it had just
created in its cell is destroyed inside `compute_utils.notify_about_instance_delete(
self.notifier, cctxt, instance, source=CONDUCTOR)`.

Before the destroy: the legacy `compute.instance.delete.start` (publisher `compute.<host>`,
`info_from_instance` with the image URL) and the versioned `instance.delete.start`
(InstanceActionNotification, InstanceActionPayload 1.9 without a fault, publisher
`nova-conductor:<host>`); after it, whatever it did, the same pair as `.end`, built from the
instance as the destroy left it (deleted, its BDMs gone from `block_devices`). All at INFO.

The Notifications object decides what goes where (format, drivers, topics, transport).
nova raises from a notification it cannot build, which would skip the destroy; here a
notification is never worth a failed cleanup: it is logged and dropped.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aioconductor.errors import InstanceNotFound
from aioconductor.notifications import instance_payloads as payloads
from aioconductor.notifications.instance_payloads import payload
from aioconductor.notifications.instance_update import loaded
from aioconductor.objects.registry import InstanceCall

log = logging.getLogger(__name__)

ACTION_PAYLOAD_VERSION = "1.9"  # InstanceActionPayload in nova 34.0.0
_LEGACY_NEEDS = ("flavor", "metadata", "system_metadata")
_VERSIONED_NEEDS = ("flavor", "metadata", "system_metadata", "info_cache")


@asynccontextmanager
async def notifying_delete(call: InstanceCall) -> AsyncIterator[None]:
    """`with notify_about_instance_delete(...)`: start before the body, end after it (also
    when it raises). `call.obj` is the instance; the body's destroy updates it in place."""
    await notify_instance_delete(call, "start")
    try:
        yield
    finally:
        await notify_instance_delete(call, "end")


async def notify_instance_delete(call: InstanceCall, phase: str) -> None:
    """One phase ("start" or "end") of the pair; never raises."""
    notifier = call.notifier
    if not (notifier.legacy or notifier.versioned):
        return
    try:
        await _send(call, phase)
    except InstanceNotFound:
        log.debug("no instance.delete.%s notification: the instance is gone", phase)
    except Exception:
        log.exception("Failed to send the instance.delete.%s notification", phase)


async def _send(call: InstanceCall, phase: str) -> None:
    notifier = call.notifier
    host = notifier.host
    instance = dict(call.obj.data)
    if notifier.legacy:
        instance = await loaded(call, instance, _LEGACY_NEEDS)
        found, url = payloads.image_ref_url(
            instance.get("image_ref"), call.ctx.raw, notifier.options.glance, random.choice
        )
        if not found:  # nova: EndpointNotFound with a token ends the whole notification
            log.error(
                "Failed to send compute.instance.delete.%s for %s: no image endpoint in the "
                "service catalog and no [glance] api_servers",
                phase,
                instance["uuid"],
            )
            return
        notifier.emit(
            call.ctx,
            publisher_id=f"compute.{host}",
            event_type=f"compute.instance.delete.{phase}",
            payload=payloads.info_from_instance(instance, url),
            versioned=False,
        )
    if notifier.versioned:
        instance = await loaded(call, instance, _VERSIONED_NEEDS)
        notifier.emit(
            call.ctx,
            publisher_id=f"nova-conductor:{host}",
            event_type=f"instance.delete.{phase}",
            payload=await action_payload(call, instance),
            versioned=True,
        )


async def action_payload(call: InstanceCall, instance: dict[str, Any]) -> dict[str, Any]:
    """InstanceActionPayload without a fault; BDMs and shares read now, as nova reads them."""
    options = call.notifier.options
    block_devices = shares = None
    if options.bdms_in_notifications:
        from aioconductor.objects.block_device import instance_rows

        block_devices = payloads.block_device_payloads(await instance_rows(call, instance["uuid"]))
    if options.include_share_mapping:
        from aioconductor.objects.instance_devices import share_mapping_rows

        shares = payloads.share_payloads(await share_mapping_rows(call, instance["uuid"]))
    data = payloads.instance_payload_data(instance, call.ctx.raw, block_devices, shares)
    # InstanceActionPayload's own fields first (request_id is one of them), as nova writes
    own = {"fault": None, "request_id": data["request_id"]}
    return payload("InstanceActionPayload", ACTION_PAYLOAD_VERSION, own | data)
