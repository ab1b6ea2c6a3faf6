"""The notifications of a failed compute task, as nova-conductor 34 sends them from
`scheduler_utils.set_vm_state_and_notify(ctx, uuid, 'compute_task', method, updates, ex,
request_spec)` (the instance's ERROR state and fault are boot/failed_build.py's).

First the legacy `compute_task.<method>` at ERROR from publisher `compute_task.<host>`:
`{request_spec: <the legacy spec dict>, instance_properties: <its instance_properties>,
instance_id, state, method, reason: repr(ex)}` after nova's payload serializer
(legacy_primitive). Then, when versioned notifications are on, the versioned
`compute_task.<method>.error` (ComputeTaskNotification 1.0, ComputeTaskPayload 1.0) from
`nova-conductor:<host>`, whose request spec is `RequestSpec.from_primitives(ctx,
legacy_spec, {})`'s.

Each goes only where the instance.update path's would: the Notifications object applies
notification_format, drivers, topics and transport.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aioconductor.context import RequestContext
from aioconductor.notifications import field_order
from aioconductor.notifications.exception_payload import exception_payload, nova_exception
from aioconductor.notifications.instance_payloads import payload
from aioconductor.notifications.legacy_primitive import (
    FIELD_ORDER,
    in_order,
    perfect_time,
    to_primitive,
)
from aioconductor.notifications.notifier import Notifications
from aioconductor.notifications.request_spec_payload import request_spec_payload

log = logging.getLogger(__name__)

COMPUTE_TASK_PAYLOAD_VERSION = "1.0"
_IMAGE_TIMES = ("created_at", "updated_at")  # ImageMeta's DateTime fields
# to_legacy_request_spec_dict's key order, and its instance properties'
_SPEC_ORDER = ("num_instances", "image", "instance_properties", "instance_type")
_PROPERTIES_ORDER = ("numa_topology", "pci_requests", "project_id", "user_id",
                     "availability_zone", "uuid", "root_gb", "ephemeral_gb", "memory_mb",
                     "vcpus")  # fmt: skip
# ImageMetaProps' order is its payload's (which leaves out one secret's uuid)
_PROPS_ORDER = field_order.FIELD_ORDER["ImageMetaPropsPayload"]


async def notify_compute_task_error(
    notifier: Notifications,
    ctx: RequestContext,
    instance_uuid: str,
    method: str,
    legacy_spec: Mapping[str, Any] | None,
    request_spec: Mapping[str, Any] | None,
    vm_state: str,
    exc: BaseException,
    *,
    raised_in: tuple[str, str] | None = None,
    versioned: bool = True,
) -> None:
    """Send both notifications (each when its format is on); never raises.

    `legacy_spec`: `RequestSpec.to_legacy_request_spec_dict()` with its nova objects as
    object primitives (instance_type, instance_properties' numa_topology and pci_requests)
    and `image` as nova's `obj_to_primitive` dict (DateTime wire text or datetimes); None
    for no spec (nova sends `{}`). `request_spec`: the RequestSpec primitive
    `from_primitives(ctx, legacy_spec, {})` makes of it, None when there is no spec.
    `raised_in`: the module and function nova would have raised `exc` in, when
    exception_payload.RAISE_SITES does not know it. `versioned`: False for a failure nova
    cannot build the versioned message of (see boot/steps.py `set_error_with_fault`).
    """
    if not (notifier.legacy or notifier.versioned):
        return
    try:
        held = nova_exception(exc, raised_in)
        if notifier.legacy:
            notifier.emit(
                ctx,
                publisher_id=f"compute_task.{notifier.host}",
                event_type=f"compute_task.{method}",
                payload=legacy_payload(
                    ctx, instance_uuid, method, legacy_spec, vm_state, held.legacy
                ),
                versioned=False,
                priority="ERROR",
            )
        if notifier.versioned and versioned:
            data = {
                "instance_uuid": instance_uuid,
                "request_spec": (
                    request_spec_payload(request_spec) if request_spec is not None else None
                ),
                "state": vm_state,
                "reason": exception_payload(exc, held),
            }
            notifier.emit(
                ctx,
                publisher_id=f"nova-conductor:{notifier.host}",
                event_type=f"compute_task.{method}.error",
                payload=payload("ComputeTaskPayload", COMPUTE_TASK_PAYLOAD_VERSION, data),
                versioned=True,
                priority="ERROR",
            )
    except Exception:  # a notification never fails the build's cleanup
        log.exception("Failed to send the compute_task.%s error notification", method)


def legacy_payload(
    ctx: RequestContext,
    instance_uuid: str,
    method: str,
    legacy_spec: Mapping[str, Any] | None,
    vm_state: str,
    reason: str,
) -> dict[str, Any]:
    spec = in_order(legacy_spec or {}, _SPEC_ORDER)
    image = spec.get("image")
    if isinstance(image, Mapping):
        image = {k: perfect_time(v) if k in _IMAGE_TIMES else v for k, v in image.items()}
        if isinstance(image.get("properties"), Mapping):
            image["properties"] = in_order(image["properties"], _PROPS_ORDER)
        spec["image"] = in_order(image, FIELD_ORDER["ImageMeta"])
    properties = spec.get("instance_properties", {})
    if "instance_properties" in spec and isinstance(properties, Mapping):
        properties = spec["instance_properties"] = in_order(properties, _PROPERTIES_ORDER)
    raw = {
        "request_spec": spec,
        "instance_properties": properties,
        "instance_id": instance_uuid,
        "state": vm_state,
        "method": method,
    }
    out: dict[str, Any] = to_primitive(raw, ctx.raw)
    out["reason"] = reason
    return out
