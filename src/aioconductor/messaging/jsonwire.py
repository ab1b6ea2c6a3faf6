"""JSON as oslo_serialization.jsonutils writes it: the primitive forms of non-JSON values."""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import json
import uuid
from typing import Any

_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def to_primitive(value: Any) -> Any:
    """`default=` hook: what jsonutils.to_primitive makes of values json cannot encode."""
    if isinstance(value, datetime.datetime):
        return value.strftime(_DATETIME_FORMAT)
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, uuid.UUID | decimal.Decimal | ipaddress.IPv4Address):
        return str(value)
    if isinstance(value, ipaddress.IPv6Address | ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, BaseException):
        return repr(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, default=to_primitive)


loads = json.loads
