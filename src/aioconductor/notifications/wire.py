"""One notification as oslo.messaging's Notifier sends it, for each of its drivers.

`Notifier._notify` makes `{message_id, publisher_id, event_type, priority, payload,
timestamp}`; the rabbit driver adds `_unique_id` and the context as `_context_<key>` keys
(`pack_context`), then sends that dict as the body (`messaging`, the 1.0 format) or inside
the 2.0 envelope (`messagingv2`). The context is not the caller's as it came: oslo sends
`ctxt.redacted_copy().to_dict()`, a fresh nova RequestContext that keeps the identity fields
and resets the rest (no token, no catalog, read_deleted "no", a new timestamp).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from aioconductor.messaging import jsonwire
from aioconductor.messaging.envelope import next_unique_id, wrap

_STRTIME = "%Y-%m-%dT%H:%M:%S.%f"  # nova.utils.strtime


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def redacted_context(raw: dict[str, Any]) -> dict[str, Any]:
    """nova's `RequestContext.from_dict(raw).redacted_copy().to_dict()`."""
    user = raw.get("user_id")
    project = raw.get("project_id")
    domain = raw.get("domain")
    user_domain = raw.get("user_domain")
    project_domain = raw.get("project_domain")
    identity = " ".join(
        str(v) if v else "-" for v in (user, project, domain, user_domain, project_domain)
    )
    return {
        "user": user,
        "project_id": project,
        "system_scope": raw.get("system_scope"),
        "project": project,
        "domain": domain,
        "user_domain": user_domain,
        "project_domain": project_domain,
        "is_admin": raw.get("is_admin", False),
        "read_only": False,
        "show_deleted": False,
        "auth_token": None,
        "request_id": raw.get("request_id") or f"req-{uuid.uuid4()}",
        "global_request_id": raw.get("global_request_id"),
        "resource_uuid": None,
        "roles": raw.get("roles") or [],
        "user_identity": identity,
        "is_admin_project": True,
        "user_id": user,
        "read_deleted": "no",
        "remote_address": None,
        "timestamp": _utcnow().strftime(_STRTIME),
        "quota_class": None,
        "user_name": raw.get("user_name"),
        "service_catalog": [],
        "project_name": raw.get("project_name"),
    }


def notification(publisher_id: str, event_type: str, priority: str, payload: Any) -> dict[str, Any]:
    """`Notifier._notify`'s message; `str(datetime)` is oslo's timestamp format."""
    return {
        "message_id": str(uuid.uuid4()),
        "publisher_id": publisher_id,
        "event_type": event_type,
        "priority": priority,
        "payload": payload,
        "timestamp": str(_utcnow()),
    }


def amqp_body(message: dict[str, Any], context: dict[str, Any], *, envelope: bool) -> bytes:
    """The rabbit driver's body: `_unique_id` and `_context_*` added, enveloped for 2.0."""
    full = dict(message)
    full["_unique_id"] = next_unique_id()
    full.update((f"_context_{key}", value) for key, value in context.items())
    text = jsonwire.dumps(full)
    return wrap(text) if envelope else text.encode()
