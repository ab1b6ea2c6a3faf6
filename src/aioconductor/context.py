"""The caller's request context, rebuilt from the `_context_*` keys of a message.

nova's `RequestContext.from_dict` reads known keys with defaults and ignores the rest; we keep
the raw dict too, because forwarding and logging want it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ReadDeleted = Literal["no", "yes", "only"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    is_admin: bool = False
    project_id: str | None = None
    user_id: str | None = None
    read_deleted: ReadDeleted = "no"
    request_id: str | None = None
    global_request_id: str | None = None
    client_timeout: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, raw: dict[str, Any], client_timeout: float | None = None) -> RequestContext:
        read_deleted = raw.get("read_deleted", "no")
        if read_deleted not in ("no", "yes", "only"):
            read_deleted = "no"
        return cls(
            is_admin=bool(raw.get("is_admin", False)),
            project_id=_str_or_none(raw.get("project_id") or raw.get("project")),
            user_id=_str_or_none(raw.get("user_id") or raw.get("user")),
            read_deleted=read_deleted,
            request_id=_str_or_none(raw.get("request_id")),
            global_request_id=_str_or_none(raw.get("global_request_id")),
            client_timeout=client_timeout,
            raw=raw,
        )

    def with_read_deleted(self, read_deleted: ReadDeleted) -> RequestContext:
        return RequestContext(
            is_admin=self.is_admin,
            project_id=self.project_id,
            user_id=self.user_id,
            read_deleted=read_deleted,
            request_id=self.request_id,
            global_request_id=self.global_request_id,
            client_timeout=self.client_timeout,
            raw=self.raw,
        )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
