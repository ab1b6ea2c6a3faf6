"""service.create / service.update: nova's ServiceStatusNotification from a services row.

nova's Service.create always sends `service.create`; Service.save sends `service.update`
only when the caller changed disabled, disabled_reason or forced_down (the fields it sent,
whether or not their values moved: `obj_get_changes`). The payload is read from the object
after `_from_db_object`, i.e. the row as stored; `availability_zone` is never loaded there,
so nova sends null.
"""

from __future__ import annotations

from typing import Any

from aioconductor.context import RequestContext
from aioconductor.notifications.notifier import Notifications

PAYLOAD_VERSION = "1.1"  # ServiceStatusPayload in nova 34.0.0
STATUS_FIELDS = frozenset({"disabled", "disabled_reason", "forced_down"})
_SCHEMA = ("host", "binary", "topic", "report_count", "disabled", "disabled_reason",
           "availability_zone", "last_seen_up", "forced_down", "version", "uuid")  # fmt: skip


def status_payload(service: dict[str, Any]) -> dict[str, Any]:
    """The primitive of ServiceStatusPayload(service): Service data -> wire form."""
    return {
        "nova_object.name": "ServiceStatusPayload",
        "nova_object.namespace": "nova",
        "nova_object.version": PAYLOAD_VERSION,
        "nova_object.data": {name: service.get(name) for name in _SCHEMA},
    }


def notify_status(
    notifier: Notifications, ctx: RequestContext, service: dict[str, Any], action: str
) -> None:
    """ServiceStatusNotification(...).emit(): publisher `<source>:<host>`, where the source
    is the service's binary (nova's NotificationSource values are the binaries)."""
    if not notifier.versioned:
        return
    binary = service["binary"]
    source = "nova-api" if binary == "nova-osapi_compute" else binary
    notifier.emit(
        ctx,
        publisher_id=f"{source}:{service['host']}",
        event_type=f"service.{action}",
        payload=status_payload(service),
        versioned=True,
    )
